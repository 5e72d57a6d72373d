import { Worker } from "node:worker_threads";

/** How often the background checkpointer copies the write-ahead log into the database file, in milliseconds. */
export const CHECKPOINT_INTERVAL_MS = 250;

/**
 * The length of the log, in pages, past which the background checkpointer starts it over: SQLite's own
 * default checkpoint limit (4 MB at its 4 KiB pages). A passive checkpoint copies the log but, under
 * continuous writes, never gets SQLite to write from the log's start again, so without this the log grows
 * until SQLite's fallback (below) checkpoints it on the request path.
 */
export const RESTART_LOG_PAGES = 1000;

/**
 * How long the background checkpointer waits, in milliseconds, to start the log over: for the write lock
 * (writers go on meanwhile; between two commits it is free) and then, holding it, for the readers of the
 * log to finish, which writers wait out too. Past it, it gives up and tries again at a later turn.
 */
export const RESTART_WAIT_MS = 20;

/**
 * The most turns the background checkpointer lets pass after a restart that did not happen (a reader kept
 * the log, and writers waited RESTART_WAIT_MS for nothing), doubling from one: a long read costs the writers
 * at most one such wait every two seconds.
 */
export const RESTART_MAX_SKIPPED_TURNS = 8;

/**
 * The size, in bytes, that SQLite truncates the log file to when the log starts over (the application's
 * connection sets it as `journal_size_limit`; SQLite otherwise keeps the file at its largest): the file
 * shrinks back after a burst or after the fallback, and otherwise stays about RESTART_LOG_PAGES long.
 */
export const LOG_SIZE_LIMIT_BYTES = 4 * 2 ** 20;

/**
 * SQLite's own checkpoint limit, in pages, once the background checkpointer runs: a safety net that only
 * comes into play if the checkpointer cannot keep up (about 400 MB of log).
 */
export const FALLBACK_AUTOCHECKPOINT_PAGES = 100_000;

// CommonJS, evaluated in the worker, with a connection of its own to the file. Each turn checkpoints
// passively, which never blocks the application's writes. That alone never starts the log over under
// continuous writes: SQLite writes from the log's start again only when a writer begins and finds every
// frame already copied, and the writers add frames while the copy runs. So once the log is long and the
// passive checkpoint has copied all but what was written meanwhile, a RESTART checkpoint takes the write
// lock, copies that remainder, syncs and releases it: the next writer starts the log over. Writers wait
// only for the remainder and the sync, not for the whole log. When readers of an older snapshot kept the
// passive checkpoint from copying most of the log, the RESTART would hold the write lock waiting for them:
// it waits for a later turn instead. After a RESTART that could not finish, the next waits 1, 2, 4... turns.
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
let skip = 0; // turns to let pass before the next RESTART
let backoff = 1;
const timer = setInterval(() => {
	try {
		const passive = db.pragma("wal_checkpoint(PASSIVE)")[0];
		// log and checkpointed are -1 when the checkpoint could not run (another checkpointer, not WAL).
		if (passive.log < workerData.restartPages || passive.log - passive.checkpointed > passive.log / 8) return;
		if (skip > 0) {
			skip--;
			return;
		}
		db.pragma("busy_timeout = " + workerData.restartWait);
		try {
			if (db.pragma("wal_checkpoint(RESTART)")[0].busy) {
				skip = backoff;
				backoff = Math.min(backoff * 2, workerData.maxSkipped);
			} else {
				backoff = 1;
			}
		} finally {
			db.pragma("busy_timeout = 0");
		}
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
 * Checkpoints a SQLite database in WAL mode from a worker thread, and starts the log over once it is
 * {@link RESTART_LOG_PAGES} long. With synchronous=NORMAL, a checkpoint is where SQLite waits for the disk:
 * run by the connection that commits (SQLite's default, every 1,000 pages), it stalls every request of the
 * process for that long. Returns the function that stops it.
 */
export function startCheckpointer(path: string): () => void {
	const worker = new Worker(WORKER_SOURCE, {
		eval: true,
		// Where this module is, to find better-sqlite3 from; inside a bundle, it may not be a real file.
		workerData: {
			path,
			base: import.meta.url,
			interval: CHECKPOINT_INTERVAL_MS,
			restartPages: RESTART_LOG_PAGES,
			restartWait: RESTART_WAIT_MS,
			maxSkipped: RESTART_MAX_SKIPPED_TURNS,
		},
	});
	worker.unref();
	// A checkpointer that cannot start leaves SQLite's own checkpoints to do the work; never crash for it.
	worker.on("error", () => {});
	return () => worker.postMessage("stop");
}
