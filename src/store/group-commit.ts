import { RefkitError } from "../errors.js";

/** One item waiting for its batch's commit. */
interface Pending<T> {
	item: T;
	resolve: () => void;
	reject: (error: unknown) => void;
	/** Told once, when the item has to wait for a database that is failing (see {@link GroupCommit.add}). */
	deferred?: () => void;
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
	/** What the items are, for the `QUEUE_FULL` message: "hits" (the default), "sales". */
	what?: string;
	/**
	 * Whether a failed batch's error may belong to one of its items (a value the database refused, or anything
	 * unexpected), so that the batch is written again item by item and only the bad item fails. Answer false
	 * only for an error saying the database is away (a connection refused, reset or timed out, a server
	 * restarting): the batch then waits and is written again, for as long as it takes.
	 */
	isItemError: (error: unknown) => boolean;
	/** The pause after a batch that failed for want of the database, doubling from this many milliseconds... */
	retryDelay?: number;
	/** ...up to this many. */
	maxRetryDelay?: number;
	/** Told when writes start failing for want of the database (once, until a write succeeds again). */
	onFailing?: (error: unknown) => void;
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
 * fails alone. When it fails for want of the database (unreachable, restarting, timed out), nothing is lost:
 * the batch goes back to the head of the queue and is written again after `retryDelay`, doubling up to
 * `maxRetryDelay`, until a write succeeds. `write` must therefore be idempotent: a batch whose commit timed
 * out may have been committed all the same. Memory stays bounded: at most `maxQueued` items wait, the
 * retried ones included; beyond that, `add()` rejects at once with `QUEUE_FULL`.
 */
export class GroupCommit<T> {
	readonly #write: (items: T[]) => Promise<void>;
	readonly #options: Required<Omit<GroupCommitOptions, "onFailing">> & Pick<GroupCommitOptions, "onFailing">;
	#queue: Pending<T>[] = [];
	#running: Promise<void> | null = null;
	#delay = 0;
	/** The error of the last write that failed for want of the database, while it is still failing. */
	#failing: unknown = null;
	/** Ends the back-off pause under way at once (see settle). */
	#wake: (() => void) | null = null;
	/** Set by settle(): a write that fails for want of the database fails its items instead of retrying. */
	#settling = false;

	constructor(write: (items: T[]) => Promise<void>, options: GroupCommitOptions) {
		this.#write = write;
		this.#options = { retryDelay: 100, maxRetryDelay: 5_000, what: "hits", ...options };
	}

	/** How many items wait to be written, those being retried included. */
	get queued(): number {
		return this.#queue.length;
	}

	/**
	 * Resolves when `item` is committed; rejects with the error its own write got (a value the database
	 * refused), with `QUEUE_FULL`, or with the database's error if it is still failing when `settle()` is
	 * called. `deferred` is told, once, when the item has to wait for a database that is failing: at once if
	 * writes are failing when it is added, or when its first write fails for want of the database. A caller
	 * that waits for the commit may stop waiting then: the item will be written when the database is back.
	 */
	add(item: T, deferred?: () => void): Promise<void> {
		if (this.#queue.length >= this.#options.maxQueued) {
			return Promise.reject(
				new RefkitError(
					"QUEUE_FULL",
					`refkit: ${this.#options.maxQueued} ${this.#options.what} are already waiting for the database, which is not keeping up (down, or too slow): this one was not recorded.`,
				),
			);
		}
		return new Promise<void>((resolve, reject) => {
			if (this.#failing !== null && deferred !== undefined) {
				deferred();
				this.#queue.push({ item, resolve, reject });
			} else {
				this.#queue.push({ item, resolve, reject, deferred });
			}
			this.#running ??= new Promise<void>((started) => setImmediate(started)).then(() => this.#drain());
		});
	}

	/** Resolves when every item added so far is written (or failed): while the database fails, not before it is back. */
	async flushed(): Promise<void> {
		while (this.#running !== null) await this.#running;
	}

	/**
	 * Resolves when every item added so far is written or failed, without waiting out a back-off: while the
	 * database is failing, the items still waiting fail at once with its last error (closing should not take
	 * minutes of retries against a database that is down).
	 */
	async settle(): Promise<void> {
		this.#settling = true;
		try {
			if (this.#failing !== null) {
				const error = this.#failing;
				for (const pending of this.#queue.splice(0)) pending.reject(error);
				this.#wake?.();
			}
			await this.flushed();
		} finally {
			this.#settling = false;
		}
	}

	async #drain(): Promise<void> {
		try {
			while (this.#queue.length > 0) {
				if (this.#delay > 0) await this.#pause();
				const batch = this.#queue.splice(0, this.#options.maxBatch);
				try {
					await this.#write(batch.map((pending) => pending.item));
					this.#succeeded(batch);
				} catch (error) {
					if (!this.#options.isItemError(error)) this.#retryLater(batch, error);
					else if (batch.length === 1) (batch[0] as Pending<T>).reject(error);
					else await this.#oneByOne(batch);
				}
			}
		} finally {
			this.#running = null;
		}
	}

	/** Writes a batch that one of its items failed, item by item, so that the bad item fails alone. */
	async #oneByOne(batch: Pending<T>[]): Promise<void> {
		for (let i = 0; i < batch.length; i++) {
			const pending = batch[i] as Pending<T>;
			try {
				await this.#write([pending.item]);
				this.#succeeded([pending]);
			} catch (error) {
				if (this.#options.isItemError(error)) {
					pending.reject(error);
				} else {
					// The database went away meanwhile: this item and the rest wait for it.
					this.#retryLater(batch.slice(i), error);
					return;
				}
			}
		}
	}

	#succeeded(batch: Pending<T>[]): void {
		this.#delay = 0;
		this.#failing = null;
		for (const pending of batch) pending.resolve();
	}

	/** Puts a batch that failed for want of the database back at the head of the queue, and backs off. */
	#retryLater(batch: Pending<T>[], error: unknown): void {
		if (this.#settling) {
			for (const pending of [...batch, ...this.#queue.splice(0)]) pending.reject(error);
			return;
		}
		if (this.#failing === null) this.#options.onFailing?.(error);
		this.#failing = error;
		const { retryDelay, maxRetryDelay } = this.#options;
		this.#delay = Math.min(maxRetryDelay, this.#delay === 0 ? retryDelay : this.#delay * 2);
		this.#queue.unshift(...batch);
		// Everything waiting now waits for the database, not only this batch.
		for (const pending of this.#queue) {
			pending.deferred?.();
			pending.deferred = undefined;
		}
	}

	async #pause(): Promise<void> {
		await new Promise<void>((resolve) => {
			const timer = setTimeout(resolve, this.#delay);
			this.#wake = () => {
				clearTimeout(timer);
				resolve();
			};
		});
		this.#wake = null;
	}
}
