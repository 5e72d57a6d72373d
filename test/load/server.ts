import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { afterEach } from "vitest";
import { TEST_SECRET } from "../setup/databases.js";

const APP = fileURLToPath(new URL("./app.mjs", import.meta.url));

const running = new Set<ChildProcess>();
afterEach(async () => {
	await Promise.all([...running].map((child) => stop(child, "SIGTERM")));
});

async function stop(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
	if (child.exitCode === null && child.signalCode === null) {
		const exited = once(child, "exit");
		child.kill(signal);
		await exited;
	}
	running.delete(child);
}

/** test/load/app.mjs, running in a child process: one process, or a node:cluster primary and its workers. */
export interface AppServer {
	/** `http://127.0.0.1:<port>`. */
	base: string;
	/** Everything the server printed so far, stdout and stderr. */
	output(): string;
	/**
	 * What went wrong in the server, each kind of line once with its count: an error refkit absorbed
	 * (`refkit error`), a route that failed, a worker that died. Empty when all went well.
	 */
	problems(): string[];
	/** Sends `signal` to the process (the primary, for a cluster) and waits for it to exit. */
	kill(signal: NodeJS.Signals): Promise<void>;
}

/**
 * Starts test/load/app.mjs on `database` (migrating it), with `workers` cluster workers sharing its port, or
 * in one process when `workers` is 0. Stopped with SIGTERM after the test, if it still runs.
 */
export async function startAppServer(database: string, workers = 0): Promise<AppServer> {
	const child = spawn(process.execPath, [APP], {
		env: { ...process.env, DATABASE_URL: database, REFKIT_SECRET: TEST_SECRET, WORKERS: String(workers) },
	});
	running.add(child);
	let output = "";
	const base = await new Promise<string>((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error(`app.mjs did not start:\n${output}`)), 30_000);
		const collect = (chunk: Buffer) => {
			output += chunk.toString();
			const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
			if (match?.[1]) {
				clearTimeout(timer);
				resolve(match[1]);
			}
		};
		child.stdout?.on("data", collect);
		child.stderr?.on("data", collect);
		child.once("exit", (code, signal) => {
			clearTimeout(timer);
			reject(new Error(`app.mjs exited (${signal ?? code}):\n${output}`));
		});
	});
	const problems = () => {
		const counts = new Map<string, number>();
		for (const line of output.split("\n")) {
			if (/refkit error|route error|exited/.test(line)) {
				const kind = line.replace(/\b\d+\b/g, "N").slice(0, 200);
				counts.set(kind, (counts.get(kind) ?? 0) + 1);
			}
		}
		return [...counts].map(([line, count]) => `${count} × ${line}`);
	};
	return { base, output: () => output, problems, kill: (signal) => stop(child, signal) };
}
