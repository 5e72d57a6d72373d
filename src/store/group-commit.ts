import { RefkitError } from "../errors.js";

/** One item waiting for its batch's commit. */
interface Pending<T> {
	item: T;
	resolve: () => void;
	reject: (error: unknown) => void;
}

/** How {@link GroupCommit} writes, and how much it holds while the database does not keep up. */
export interface GroupCommitOptions {
	/** The most items one `write` call gets. */
	maxBatch: number;
	/**
	 * The most items waiting at once. Beyond it `add()` rejects at once with `QUEUE_FULL` and nothing is kept,
	 * so that memory stays bounded while the database is down or slow.
	 */
	maxQueued: number;
	/**
	 * Whether a failed batch's error belongs to one of its items (a constraint or a value the database refused),
	 * so that the batch is worth writing again item by item. Any other error (a connection refused, reset or
	 * timed out) fails the whole batch at once.
	 */
	isItemError: (error: unknown) => boolean;
	/** The pause after a batch that failed as a whole, doubling from this many milliseconds... */
	retryDelay?: number;
	/** ...up to this many. */
	maxRetryDelay?: number;
}

/** The default bound of the hits waiting to be written: at ~5 KB for the largest hit, about 50 MB at most. */
export const MAX_QUEUED_HITS = 10_000;

/**
 * Group commit: items added while the event loop is busy, or while the previous batch is being written, are
 * written together by one `write` call (one statement, one commit), and each `add()` resolves only once its
 * item is committed. Under load the commit's cost is shared by the whole batch; alone, an item is written at
 * the next turn of the event loop. One batch is written at a time.
 *
 * When a batch fails because of one of its items, it is written again item by item, so that the bad item
 * fails alone. When it fails otherwise (the database is unreachable), the whole batch fails at once, and the
 * next batch waits `retryDelay`, doubling up to `maxRetryDelay` until a write succeeds. At most `maxQueued`
 * items wait; beyond that, `add()` rejects at once with `QUEUE_FULL`.
 */
export class GroupCommit<T> {
	readonly #write: (items: T[]) => Promise<void>;
	readonly #options: Required<GroupCommitOptions>;
	#queue: Pending<T>[] = [];
	#running: Promise<void> | null = null;
	#delay = 0;
	/** The error of the last batch that failed for want of the database, while it is still failing. */
	#failing: unknown = null;
	/** Ends the back-off pause under way at once (see settle). */
	#wake: (() => void) | null = null;

	constructor(write: (items: T[]) => Promise<void>, options: GroupCommitOptions) {
		this.#write = write;
		this.#options = { retryDelay: 100, maxRetryDelay: 5_000, ...options };
	}

	/** How many items wait to be written. */
	get queued(): number {
		return this.#queue.length;
	}

	/** Resolves when `item` is committed; rejects with the error of its write, or `QUEUE_FULL`. */
	add(item: T): Promise<void> {
		if (this.#queue.length >= this.#options.maxQueued) {
			return Promise.reject(
				new RefkitError(
					"QUEUE_FULL",
					`refkit: ${this.#options.maxQueued} hits are already waiting for the database, which is not keeping up (down, or too slow): this one was not recorded.`,
				),
			);
		}
		return new Promise<void>((resolve, reject) => {
			this.#queue.push({ item, resolve, reject });
			this.#running ??= new Promise<void>((started) => setImmediate(started)).then(() => this.#drain());
		});
	}

	/** Resolves when every item added so far is written (or failed). */
	async flushed(): Promise<void> {
		while (this.#running !== null) await this.#running;
	}

	/**
	 * Resolves when every item added so far is written or failed, without waiting out a back-off: while the
	 * database is failing, the items still waiting fail at once with its last error (closing should not take
	 * minutes of retries against a database that is down).
	 */
	async settle(): Promise<void> {
		if (this.#failing !== null) {
			const error = this.#failing;
			for (const pending of this.#queue.splice(0)) pending.reject(error);
			this.#wake?.();
		}
		await this.flushed();
	}

	async #drain(): Promise<void> {
		try {
			while (this.#queue.length > 0) {
				if (this.#delay > 0) {
					await new Promise<void>((resolve) => {
						const timer = setTimeout(resolve, this.#delay);
						this.#wake = () => {
							clearTimeout(timer);
							resolve();
						};
					});
					this.#wake = null;
				}
				const batch = this.#queue.splice(0, this.#options.maxBatch);
				try {
					await this.#write(batch.map((pending) => pending.item));
					this.#delay = 0;
					this.#failing = null;
					for (const pending of batch) pending.resolve();
				} catch (error) {
					if (batch.length > 1 && this.#options.isItemError(error)) {
						for (const pending of batch) {
							await this.#write([pending.item]).then(pending.resolve, pending.reject);
						}
						continue;
					}
					if (!this.#options.isItemError(error)) {
						this.#failing = error;
						const { retryDelay, maxRetryDelay } = this.#options;
						this.#delay = Math.min(maxRetryDelay, this.#delay === 0 ? retryDelay : this.#delay * 2);
					}
					for (const pending of batch) pending.reject(error);
				}
			}
		} finally {
			this.#running = null;
		}
	}
}
