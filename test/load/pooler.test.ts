import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterEach, describe, expect, test } from "vitest";
import { DATABASES, freshDatabaseUrl } from "../setup/databases.js";
import { runSql } from "../setup/direct.js";
import { type Bouncer, startPgBouncer } from "../setup/pgbouncer.js";
import { LoadClient, latencySummary, pool } from "./client.js";
import { startAppServer } from "./server.js";
import { CONCURRENCY, FOLLOWS, LONG, perSecond, report, TIMEOUT } from "./sizes.js";

const execFileAsync = promisify(execFile);
const CLI = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));
/** The issue's numbers: four `migrate` at once, twelve `links list` beside the application's follows. */
const MIGRATES = 4;
const LISTS = LONG ? 12 : 4;
/** A CLI command that has not ended by then is hung (before the fix they waited up to Kysely's hour). */
const COMMAND_LIMIT_MS = 30_000;

/** Runs the built CLI on `database`; resolves to its exit code, output and time, or rejects when it hangs. */
async function cli(database: string, ...args: string[]): Promise<{ code: number; out: string; ms: number }> {
	const started = performance.now();
	try {
		const { stdout, stderr } = await execFileAsync(process.execPath, [CLI, "--database", database, ...args], {
			timeout: COMMAND_LIMIT_MS,
		});
		return { code: 0, out: stdout + stderr, ms: performance.now() - started };
	} catch (error) {
		const failed = error as { code?: number; killed?: boolean; stdout?: string; stderr?: string };
		if (failed.killed) throw new Error(`refkit ${args.join(" ")} hung for ${COMMAND_LIMIT_MS / 1000} s`);
		return {
			code: failed.code ?? -1,
			out: `${failed.stdout}${failed.stderr}`,
			ms: performance.now() - started,
		};
	}
}

/**
 * Production's set-up at scale: the application and the operator's CLI reach PostgreSQL through PgBouncer in
 * transaction pooling, with fewer server connections than clients. Migrations from several processes at
 * once, and CLI commands beside the application's follows, all end; every follow is stored; no lock is left.
 */
describe.skipIf(!DATABASES.includes("postgres"))(
	"behind PgBouncer in transaction pooling, under load",
	() => {
		let bouncer: Bouncer | undefined;
		afterEach(async () => {
			await bouncer?.stop();
		});

		test(
			`${MIGRATES} migrate at once, then ${FOLLOWS} follows beside ${LISTS} links list and more migrate`,
			async () => {
				const direct = await freshDatabaseUrl("postgres");
				bouncer = await startPgBouncer(direct.replace(/\/[^/]*$/, "/postgres"), { poolSize: 4 });
				const url = bouncer.through(direct);

				const migrated = await Promise.all(Array.from({ length: MIGRATES }, () => cli(url, "migrate")));
				expect(migrated.map((run) => run.code)).toEqual(Array(MIGRATES).fill(0));
				expect(migrated.filter((run) => run.out.includes("applied"))).toHaveLength(1);
				expect((await cli(url, "links", "create", "pooled")).code).toBe(0);

				const app = await startAppServer(url);
				const client = new LoadClient(app.base, CONCURRENCY);
				let redirected = 0;
				const commands: Promise<{ code: number; out: string; ms: number }>[] = [];
				let lists = 0;
				const follows = pool(FOLLOWS, CONCURRENCY, async (i) => {
					// The operator's commands start while the follows run.
					if (i % Math.floor(FOLLOWS / LISTS) === 0 && lists < LISTS) {
						commands.push(cli(url, "links", "list"));
						if (++lists % 3 === 0) commands.push(cli(url, "migrate"));
					}
					const reply = await client.send(`/ref/pooled?next=${encodeURIComponent(`/p/${i}`)}`);
					if (reply.status === 302 && reply.location === `/p/${i}`) redirected++;
				});
				try {
					const { elapsedMs, errors } = await follows;
					const ran = await Promise.all(commands);
					report(
						`pooler: ${MIGRATES} migrate at once in ${Math.round(Math.max(...migrated.map((r) => r.ms)))} ms; ` +
							`${FOLLOWS} follows through PgBouncer (transaction pooling, 4 server connections) at ` +
							`${perSecond(FOLLOWS, elapsedMs)}/s (${latencySummary(client.latencies)}); ${ran.length} CLI ` +
							`commands beside them, slowest ${Math.round(Math.max(...ran.map((r) => r.ms)))} ms`,
					);
					expect(errors.slice(0, 3)).toEqual([]);
					expect(redirected).toBe(FOLLOWS);
					expect(ran.filter((run) => run.code !== 0).map((run) => run.out)).toEqual([]);
					expect(ran.filter((run) => run.out.includes("pooled"))).toHaveLength(LISTS);
				} finally {
					client.close();
					await app.kill("SIGTERM");
				}
				const [{ n }] = (await runSql("postgres", direct, "select count(*)::int as n from refkit_hit")) as [
					{ n: number },
				];
				expect(n).toBe(FOLLOWS);
				const locks = await runSql(
					"postgres",
					direct,
					"select count(*)::int as n from pg_locks where locktype = 'advisory'",
				);
				expect(locks).toEqual([{ n: 0 }]);
				expect(app.problems()).toEqual([]);
			},
			TIMEOUT,
		);
	},
);
