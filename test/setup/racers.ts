import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { onTestFinished } from "vitest";
import type { RefkitOptions } from "../../src/index.js";
import { TEST_SECRET } from "./databases.js";

/**
 * Racers: refkits in processes of their own on one database, as separate application servers would be, for
 * races that the database must decide. On PostgreSQL each racer has its own pool of 10 connections, so up to
 * 10 calls per racer run their statements at once; on SQLite each has its own connection, and the racers
 * contend for the file's write lock (within one process they could not: better-sqlite3 waits for a lock
 * synchronously, blocking the very event loop that would release it).
 *
 * The processes (test/setup/race-worker.mjs, on the built package: run `npm run build` first, as `npm test`
 * does) start once per file, in `beforeAll`, and open a refkit on each test's database when asked.
 */

/** One call of a refkit method, its arguments as JSON (dates become `{ $date: iso }`). */
export interface Call {
	method: string;
	args: unknown[];
	/** Milliseconds to wait before calling, to spread calls over the time another call takes. */
	delay?: number;
}

/** A call's outcome: its value as JSON (dates as ISO strings), or the error it threw; when it ran. */
export type Result = ({ ok: true; value: unknown } | { ok: false; code: string | null; message: string }) & {
	started?: number;
	ended?: number;
};

/** A refkit in one racer's process. */
export interface Racer {
	/** Starts every call at once in this racer; resolves when all have settled, in the calls' order. */
	run(calls: readonly Call[]): Promise<Result[]>;
}

/** Options of the racers' refkits: JSON only (no functions), such as `programs`. */
export type RacerOptions = Omit<Partial<RefkitOptions>, "database" | "onError" | "review"> & {
	review?: { sameIp?: boolean; sameBrowser?: boolean; maxPerHour?: number };
};

/** What starts each line of a reply (the same text as in race-worker.mjs). */
const REPLY = "race-reply ";
const WORKER = fileURLToPath(new URL("./race-worker.mjs", import.meta.url));

function encode(value: unknown): string {
	return JSON.stringify(value, function (key, item) {
		const raw = (this as Record<string, unknown>)[key];
		return raw instanceof Date ? { $date: raw.toISOString() } : item;
	});
}

interface Reply {
	id: string;
	results?: Result[];
	reported?: string[];
	error?: string;
}

/** One worker process and its requests in flight. */
class Worker {
	readonly child: ChildProcess;
	readonly ready: Promise<void>;
	#waiting = new Map<string, { resolve: (reply: Reply) => void; reject: (error: Error) => void }>();
	#next = 0;
	#stderr = "";

	constructor() {
		this.child = spawn(process.execPath, [WORKER], { stdio: ["pipe", "pipe", "pipe"] });
		this.child.stderr?.on("data", (chunk: Buffer) => {
			this.#stderr += chunk.toString();
		});
		this.ready = new Promise((resolve, reject) => {
			this.#waiting.set("ready", { resolve: () => resolve(), reject });
		});
		this.child.once("exit", (code) => {
			const error = new Error(`a racer's process exited (${code}): ${this.#stderr}`);
			for (const { reject } of this.#waiting.values()) reject(error);
			this.#waiting.clear();
		});
		createInterface({ input: this.child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
			if (!line.startsWith(REPLY)) return;
			const reply = JSON.parse(line.slice(REPLY.length)) as Reply;
			const waiting = this.#waiting.get(reply.id);
			this.#waiting.delete(reply.id);
			if (reply.error !== undefined) waiting?.reject(new Error(`racer: ${reply.error}`));
			else waiting?.resolve(reply);
		});
	}

	send(command: Record<string, unknown>): Promise<Reply> {
		const id = String(this.#next++);
		return new Promise((resolve, reject) => {
			this.#waiting.set(id, { resolve, reject });
			this.child.stdin?.write(`${encode({ id, ...command })}\n`);
		});
	}

	stop(): Promise<void> {
		return new Promise((resolve) => {
			if (this.child.exitCode !== null || this.child.signalCode !== null) return resolve();
			const timer = setTimeout(() => this.child.kill("SIGKILL"), 10_000);
			this.child.once("exit", () => {
				clearTimeout(timer);
				resolve();
			});
			this.child.stdin?.end();
		});
	}
}

/** `count` racer processes: start them in `beforeAll` and stop them in `afterAll`. */
export class Racers {
	#workers: Worker[] = [];
	#opened = 0;

	constructor(readonly count: number) {}

	async start(): Promise<void> {
		this.#workers = Array.from({ length: this.count }, () => new Worker());
		await Promise.all(this.#workers.map((worker) => worker.ready));
	}

	async stop(): Promise<void> {
		await Promise.all(this.#workers.map((worker) => worker.stop()));
	}

	/**
	 * A refkit in each racer (or in the first `count`) on the migrated database at `url`, its connections open,
	 * closed when the current test ends. Anything one of them reports to `onError` fails its calls' results.
	 */
	async on(url: string, options: RacerOptions = {}, count = this.count): Promise<Racer[]> {
		const name = `refkit-${this.#opened++}`;
		const workers = this.#workers.slice(0, count);
		await Promise.all(
			workers.map((worker) =>
				worker.send({ open: name, database: url, options: { secret: TEST_SECRET, ...options } }),
			),
		);
		onTestFinished(async () => {
			await Promise.all(workers.map((worker) => worker.send({ close: name })));
		});
		return workers.map((worker) => ({
			run: async (calls) => {
				const reply = await worker.send({ on: name, calls });
				if (reply.reported && reply.reported.length > 0)
					throw new Error(`a racer's refkit reported: ${reply.reported.join("; ")}`);
				return reply.results ?? [];
			},
		}));
	}
}

/**
 * Runs `calls` at once, spread over the racers in turn (call i in racer i mod n), and returns their results in
 * the calls' order.
 */
export async function race(racers: readonly Racer[], calls: readonly Call[]): Promise<Result[]> {
	const parts = racers.map(() => [] as number[]);
	calls.forEach((_, i) => {
		parts[i % racers.length]?.push(i);
	});
	const answers = await Promise.all(
		racers.map((racer, r) => racer.run((parts[r] ?? []).map((i) => calls[i] as Call))),
	);
	const results: Result[] = new Array(calls.length);
	answers.forEach((answer, r) => {
		(parts[r] ?? []).forEach((i, j) => {
			results[i] = answer[j] ?? { ok: false, code: null, message: "no answer" };
		});
	});
	return results;
}

/** The values of `results`, failing with the first error's message if any call threw. */
export function values<T>(results: readonly Result[]): T[] {
	const failed = results.filter((r) => !r.ok);
	if (failed.length > 0) {
		const first = failed[0] as { code: string | null; message: string };
		throw new Error(
			`${failed.length} of ${results.length} racing calls threw, the first: ${first.code ?? ""} ${first.message}`,
		);
	}
	return results.map((r) => (r as { value: T }).value);
}
