// A process that runs `refkit.stats({ days: 7 })` on DATABASE_URL, as `refkit stats --days 7` does, importing
// the built package from dist/, and prints one line of JSON: how long it took, the hits per day, and the
// process's peak resident set size (what the issue measured of the CLI). Run by test/load/stats-lock.test.ts.
const database = process.env.DATABASE_URL;
const secret = process.env.REFKIT_SECRET;
if (!database || !secret) throw new Error("stats-run.mjs needs DATABASE_URL and REFKIT_SECRET");

const { createRefkit } = await import(new URL("../../dist/index.js", import.meta.url).href);
const refkit = createRefkit({ database, secret });
const started = performance.now();
const stats = await refkit.stats({ days: 7 });
const ms = performance.now() - started;
await refkit.close();
console.log(
	JSON.stringify({
		ms,
		hits: stats.totals.hits,
		daily: stats.daily,
		// kilobytes on Linux
		maxRssKb: process.resourceUsage().maxRSS,
	}),
);
