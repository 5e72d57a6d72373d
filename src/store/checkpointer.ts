import { Worker } from "node:worker_threads";

/** How often the background checkpointer copies the write-ahead log into the database file, in milliseconds. */
export const CHECKPOINT_INTERVAL_MS = 250;

/**
 * SQLite's own checkpoint limit, in pages, once the background checkpointer runs: a safety net that only
 * comes into play if the checkpointer cannot keep up (about 400 MB of log).
 */
export const FALLBACK_AUTOCHECKPOINT_PAGES = 100_000;

// CommonJS, evaluated in the worker: it opens its own connection to the file and checkpoints it passively,
// which never blocks the application's writes, until it is told to stop.
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
let Database;
try {
	Database = require("node:module").createRequire(workerData.base)("better-sqlite3");
} catch {
	Database = require("better-sqlite3"); // from the working directory: the application's own
}
const db = new Database(workerData.path);
db.pragma("busy_timeout = 0");
const timer = setInterval(() => {
	try {
		db.pragma("wal_checkpoint(PASSIVE)");
	} catch {
		// Busy (another process checkpoints) or the file went away: try again later.
	}
}, workerData.interval);
parentPort.once("message", () => {
	clearInterval(timer);
	try {
		db.close();
	} finally {
		process.exit(0);
	}
});
`;

/**
 * Checkpoints a SQLite database in WAL mode from a worker thread. With synchronous=NORMAL, a checkpoint is
 * where SQLite waits for the disk: run by the connection that commits (SQLite's default, every 1,000 pages),
 * it stalls every request of the process for that long. Returns the function that stops it.
 */
export function startCheckpointer(path: string): () => void {
	const worker = new Worker(WORKER_SOURCE, {
		eval: true,
		// Where this module is, to find better-sqlite3 from; inside a bundle, it may not be a real file.
		workerData: { path, base: import.meta.url, interval: CHECKPOINT_INTERVAL_MS },
	});
	worker.unref();
	// A checkpointer that cannot start leaves SQLite's own checkpoints to do the work; never crash for it.
	worker.on("error", () => {});
	return () => worker.postMessage("stop");
}
