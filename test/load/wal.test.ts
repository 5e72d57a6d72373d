import { closeSync, openSync, readSync, statSync } from "node:fs";
import { expect, test } from "vitest";
import { createRefkit } from "../../src/index.js";
import { LOG_SIZE_LIMIT_BYTES, RESTART_LOG_PAGES } from "../../src/store/checkpointer.js";
import { DATABASES, freshDatabaseUrl, TEST_SECRET } from "../setup/databases.js";
import { runSql } from "../setup/direct.js";
import { LoadClient, latencySummary } from "./client.js";
import { startAppServer } from "./server.js";
import { CONCURRENCY, LONG, perSecond, report, TIMEOUT } from "./sizes.js";

/** How long the follows go on without a pause: the minute, or a few seconds in `npm test`. */
const SECONDS = LONG ? 60 : 8;

/**
 * The bound on the log file. The background checkpointer starts the log over once it is RESTART_LOG_PAGES
 * long (4 MB) at its next turn, so the file grows past that by what the writers add in one turn (250 ms)
 * and in the few turns it may miss on a busy machine: at the rate (412 MB in 10 s), about 10 MB a
 * turn. 32 MB leaves room for that, and is far below the 400 MB of SQLite's fallback checkpoint, which is
 * where the log went without the restarts.
 */
const WAL_BOUND = 32 * 2 ** 20;

/**
 * How long the log may stay RESTART_LOG_PAGES long or longer, and its file larger than LOG_SIZE_LIMIT_BYTES:
 * six turns of the checkpointer (one is enough when it gets the write lock at once). Without the restarts,
 * the log starts over only when a passive checkpoint happens to finish between two commits, which
 * continuous writes make rare, and SQLite never shrinks the file without `journal_size_limit`.
 */
const LONG_LOG_MS = 1500;

/** How often the log is sampled, in milliseconds. */
const SAMPLE_MS = 50;

/**
 * The issue: "the SQLite WAL never shrinks under continuous writes". CONCURRENCY browsers follow a link of
 * the app (one process, refkit's defaults) for SECONDS without a pause, each follow a new hit. Every
 * SAMPLE_MS, the test reads the size of the log file and the log's length (from the wal-index header, in the
 * -shm file: the file keeps its size when the log starts over, the length does not). The file must stay
 * under WAL_BOUND and shrink back to LOG_SIZE_LIMIT_BYTES, the log must start over, each within LONG_LOG_MS,
 * and every follow is redirected and stored.
 */
test.runIf(DATABASES.includes("sqlite"))(
	`sqlite: ${SECONDS} s of continuous follows at concurrency ${CONCURRENCY}: the log starts over, its file stays under ${WAL_BOUND / 2 ** 20} MB`,
	async () => {
		const path = await freshDatabaseUrl("sqlite");
		const setup = createRefkit({ database: path, secret: TEST_SECRET });
		await setup.migrate();
		await setup.createLink({ identifier: "walwal", userId: "alice" });
		await setup.close();

		const server = await startAppServer(path);
		const client = new LoadClient(server.base, CONCURRENCY);
		const walSize = () => {
			try {
				return statSync(`${path}-wal`).size;
			} catch {
				return 0; // a checkpoint may have removed it
			}
		};
		// mxFrame, the number of frames in the log, is at byte 16 of the wal-index header (sqlite.org/walformat.html).
		const header = Buffer.alloc(20);
		const logPages = () => {
			try {
				const fd = openSync(`${path}-shm`, "r");
				try {
					return readSync(fd, header, 0, 20, 0) === 20 ? header.readUInt32LE(16) : 0;
				} finally {
					closeSync(fd);
				}
			} catch {
				return 0;
			}
		};
		const samples: { at: number; size: number; pages: number }[] = [];
		const sampler = setInterval(
			() => samples.push({ at: performance.now(), size: walSize(), pages: logPages() }),
			SAMPLE_MS,
		);
		const wrong: string[] = [];
		const errors: unknown[] = [];
		let follows = 0;
		const started = performance.now();
		const until = started + SECONDS * 1000;
		try {
			await Promise.all(
				Array.from({ length: CONCURRENCY }, async () => {
					while (performance.now() < until) {
						const next = `/p/${follows++}`;
						try {
							const reply = await client.send(`/ref/walwal?next=${encodeURIComponent(next)}`);
							if (reply.status !== 302 || reply.location !== next)
								wrong.push(`${next}: ${reply.status} to ${reply.location}`);
						} catch (error) {
							errors.push(error);
						}
					}
				}),
			);
		} finally {
			clearInterval(sampler);
			client.close();
		}
		const elapsedMs = performance.now() - started;

		const maxSize = Math.max(0, ...samples.map((sample) => sample.size));
		const maxPages = Math.max(0, ...samples.map((sample) => sample.pages));
		const restarts = samples.filter((sample, i) => sample.pages < (samples[i - 1]?.pages ?? 0)).length;
		// The longest stretch of time over which `tooLarge` held at every sample.
		const longestStretch = (tooLarge: (sample: (typeof samples)[number]) => boolean) => {
			let since: number | undefined;
			let longest = 0;
			for (const [i, sample] of samples.entries()) {
				if (tooLarge(sample)) {
					since ??= samples[i - 1]?.at ?? sample.at;
					longest = Math.max(longest, sample.at - since);
				} else {
					since = undefined;
				}
			}
			return Math.round(longest);
		};
		const longLog = longestStretch((sample) => sample.pages >= RESTART_LOG_PAGES);
		const largeFile = longestStretch((sample) => sample.size > LOG_SIZE_LIMIT_BYTES);
		const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MB`;
		report(
			`sqlite WAL: ${follows} follows in ${(elapsedMs / 1000).toFixed(1)} s at concurrency ${CONCURRENCY}, ` +
				`${perSecond(follows, elapsedMs)} follows/s (${latencySummary(client.latencies)}); the log ` +
				`started over ${restarts} times, was at most ${maxPages} pages, ${RESTART_LOG_PAGES} or more for ${longLog} ms ` +
				`at most; its file was at most ${mb(maxSize)}, over ${mb(LOG_SIZE_LIMIT_BYTES)} for ${largeFile} ms ` +
				`at most, ${mb(walSize())} at the end`,
		);
		expect(errors.slice(0, 3)).toEqual([]);
		expect(wrong.slice(0, 3)).toEqual([]);
		expect(server.problems()).toEqual([]);
		expect(maxSize, `the log file's largest size, ${mb(maxSize)}`).toBeLessThan(WAL_BOUND);
		expect(
			largeFile,
			`the longest stretch with the file over ${mb(LOG_SIZE_LIMIT_BYTES)}, in ms`,
		).toBeLessThan(LONG_LOG_MS);
		expect(
			longLog,
			`the longest stretch with the log ${RESTART_LOG_PAGES} pages or longer, in ms`,
		).toBeLessThan(LONG_LOG_MS);

		await server.kill("SIGTERM");
		const [stored] = (await runSql("sqlite", path, "select count(*) as count from refkit_hit")) as {
			count: number;
		}[];
		expect(Number(stored?.count), "every follow is stored").toBe(follows);
	},
	TIMEOUT,
);
