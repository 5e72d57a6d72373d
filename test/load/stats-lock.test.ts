import { spawn } from "node:child_process";
import { setPriority } from "node:os";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { describe, expect, test } from "vitest";
import { createRefkit } from "../../src/index.js";
import { freshDatabaseUrl, TEST_SECRET } from "../setup/databases.js";
import { runSql } from "../setup/direct.js";
import { LoadClient, latencySummary } from "./client.js";
import { startAppServer } from "./server.js";
import { LONG, report, TIMEOUT } from "./sizes.js";

/**
 * Issue #19, item 4: `stats()` in one process froze the others on SQLite, holding the write lock while it
 * summarised a day (and every hit of that day in memory). Here a serving process takes steady follows while
 * another process summarises a previous day of SEEDED hits: the server's p99 stays under 50 ms, no follow
 * fails or is lost, and the summarising process's memory stays bounded.
 */

/** The size under `npm run test:load`: 1.05 M hits on the previous day. */
const SEEDED = LONG ? 1_050_000 : 100_000;
const LINKS = 100;
/** Follows per second, sent at a steady pace whatever the answers' latency (an open loop). */
const RATE = 100;
/** The server's p99 while stats() runs must stay below this. */
const P99_LIMIT_MS = 50;
/**
 * The stats process's peak RSS must stay below this. Node with refkit and better-sqlite3 starts at about
 * 60 MB; a day's summaries hold a sketch (at most 16 KiB each) per link, and pages of 5,000 rows come and go.
 * Before the fix, every hit of the day was held at once: 906 MB for 2.1 M hits in the issue.
 */
const RSS_LIMIT_MB = 200;
/** How long the traffic's latency is measured without stats(), before it runs. */
const QUIET_MS = LONG ? 5000 : 2000;
const STATS_RUN = fileURLToPath(new URL("./stats-run.mjs", import.meta.url));

const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;

/**
 * The previous UTC day, or the one before in the first quarter hour of today: stats() summarises a day
 * only once it ended ten minutes ago, and reads a later one hit by hit.
 */
function seededDay(): number {
	const now = Date.now();
	const today = now - (now % DAY);
	return today - (now - today < 15 * 60_000 ? 2 : 1) * DAY;
}

/** SEEDED anonymous hits spread over `day`, straight into the file: seconds, where refkit would take minutes. */
function seed(path: string, firstLinkId: number, day: number): void {
	const db = new Database(path);
	try {
		db.pragma("busy_timeout = 5000");
		db.prepare(
			`with recursive n(i) as (select 0 union all select i + 1 from n where i < ? - 1)
			insert into refkit_hit (id, link_id, authenticated, user_id, visitor_id, created_at, updated_at)
			select printf('seed-%09d', i), ? + i % ?, 0, case when i % 10 = 0 then 'user' || (i % 5000) end,
				'visitor' || (i % 50000), t, t
			from (select i, strftime('%Y-%m-%dT%H:%M:%fZ', ? + i * ?, 'unixepoch') as t from n)`,
		).run(SEEDED, firstLinkId, LINKS, day / 1000, 86_399 / SEEDED);
	} finally {
		db.close();
	}
}

/** The `q` quantile of `values` (0 when empty). */
function percentile(values: number[], q: number): number {
	const sorted = [...values].sort((a, b) => a - b);
	return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

interface StatsRun {
	ms: number;
	hits: number;
	daily: { date: string; hits: number; conversions: number }[];
	maxRssKb: number;
}

/** Runs test/load/stats-run.mjs in a process of its own; resolves to what it printed, and when it ran. */
function runStats(database: string): Promise<{ run: StatsRun; started: number; ended: number }> {
	return new Promise((resolve, reject) => {
		const started = performance.now();
		const child = spawn(process.execPath, [STATS_RUN], {
			env: { ...process.env, DATABASE_URL: database, REFKIT_SECRET: TEST_SECRET },
		});
		let out = "";
		child.stdout.on("data", (chunk: Buffer) => {
			out += chunk.toString();
		});
		child.stderr.on("data", (chunk: Buffer) => {
			out += chunk.toString();
		});
		// At the lowest CPU priority: on a 2-core machine shared with the server, the load client and other test
		// files, the summarising process would otherwise take the server's CPU, and the p99 would measure the
		// cores shared rather than the locks held, which is what this test is about.
		if (child.pid !== undefined) setPriority(child.pid, 19);
		child.once("error", reject);
		child.once("exit", (code) => {
			const ended = performance.now();
			if (code !== 0) reject(new Error(`stats-run.mjs exited ${code}:\n${out}`));
			else resolve({ run: JSON.parse(out.trim().split("\n").at(-1) as string) as StatsRun, started, ended });
		});
	});
}

describe("stats() in one process, follows in another, on one SQLite file", () => {
	test(
		`summarising a day of ${SEEDED} hits keeps the server's p99 under ${P99_LIMIT_MS} ms, loses no follow, and stays under ${RSS_LIMIT_MB} MB`,
		async () => {
			const url = await freshDatabaseUrl("sqlite");
			const setup = createRefkit({ database: url, secret: TEST_SECRET });
			await setup.migrate();
			const links = [];
			for (let i = 0; i < LINKS; i++) links.push(await setup.createLink({ identifier: `link_${i}` }));
			await setup.close();
			const day = seededDay();
			const seeding = performance.now();
			seed(url, links[0]?.id as number, day);
			const seedMs = performance.now() - seeding;

			const server = await startAppServer(url);
			const client = new LoadClient(server.base, 64);
			/** Each follow: when it was sent and answered, and whether it went where it asked. */
			const follows: { sent: number; answered: number; ok: boolean }[] = [];
			const failures: unknown[] = [];
			let sending = true;
			let n = 0;
			const inFlight = new Set<Promise<void>>();
			const traffic = (async () => {
				const start = performance.now();
				while (sending) {
					const i = n++;
					const next = `/p/${i}`;
					const sent = performance.now();
					const request = client
						.send(`/ref/link_${i % LINKS}?next=${encodeURIComponent(next)}`)
						.then(
							(reply) => {
								follows.push({
									sent,
									answered: performance.now(),
									ok: reply.status === 302 && reply.location === next,
								});
							},
							(error: unknown) => {
								failures.push(error);
							},
						)
						.finally(() => inFlight.delete(request));
					inFlight.add(request);
					// An open loop: the next follow leaves on schedule, however long this one takes.
					const due = start + (n * 1000) / RATE;
					await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())));
				}
				await Promise.all(inFlight);
			})();
			try {
				await new Promise((resolve) => setTimeout(resolve, 1000));
				// The same traffic without stats(), just before: what the machine itself costs (other work on it).
				const quietFrom = performance.now();
				await new Promise((resolve) => setTimeout(resolve, QUIET_MS));
				const quietTo = performance.now();
				const { run, started, ended } = await runStats(url);
				await new Promise((resolve) => setTimeout(resolve, 500));
				sending = false;
				await traffic;

				// The follows sent while stats() ran (and before), and how long they took.
				const latenciesBetween = (from: number, to: number) =>
					follows.filter((f) => f.answered >= from && f.sent <= to).map((f) => f.answered - f.sent);
				const latencies = latenciesBetween(started, ended);
				const quiet = latenciesBetween(quietFrom, quietTo);
				const p99 = percentile(latencies, 0.99);
				const yesterday = new Date(day).toISOString().slice(0, 10);
				report(
					`sqlite, stats() of 7 days with ${SEEDED} hits on ${yesterday} (seeded in ${(seedMs / 1000).toFixed(1)} s): ` +
						`${(run.ms / 1000).toFixed(2)} s in its process, peak RSS ${Math.round(run.maxRssKb / 1024)} MB; ` +
						`the server at ${RATE} follows/s, while stats() ran (${latencies.length} follows): ${latencySummary(latencies)}; ` +
						`just before (${quiet.length}): ${latencySummary(quiet)}; ` +
						`${failures.length} failed, ${follows.filter((f) => !f.ok).length} not redirected`,
				);

				expect(server.problems()).toEqual([]);
				expect(failures.slice(0, 3)).toEqual([]);
				expect(follows.filter((f) => !f.ok)).toEqual([]);
				expect(follows).toHaveLength(n);
				expect(run.daily.find((d) => d.date === yesterday)?.hits).toBe(SEEDED);
				const [stored] = (await runSql("sqlite", url, "select count(*) as n from refkit_hit")) as {
					n: number;
				}[];
				expect(stored?.n, "every redirected follow is stored").toBe(SEEDED + n);
				expect(latencies.length, "follows were sent while stats() ran").toBeGreaterThan(10);
				// Under 50 ms; on a machine so busy that the traffic alone is slower (its p99 just before), no
				// more than 25 ms above that: what stats() adds. Before the fix it added the whole summary's time.
				expect(p99, `the server's p99 while stats() ran (ms)`).toBeLessThan(
					Math.max(P99_LIMIT_MS, percentile(quiet, 0.99) + 25),
				);
				expect(run.maxRssKb / 1024, "the stats process's peak RSS (MB)").toBeLessThan(RSS_LIMIT_MB);
			} finally {
				sending = false;
				await traffic;
				client.close();
			}
		},
		TIMEOUT,
	);
});
