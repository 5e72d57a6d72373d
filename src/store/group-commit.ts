/** One item waiting for its batch's commit. */
interface Pending<T> {
	item: T;
	resolve: () => void;
	reject: (error: unknown) => void;
}

/**
 * Group commit: items added while the event loop is busy, or while the previous batch is being written, are
 * written together by one `write` call (one statement, one commit), and each `add()` resolves only once its
 * item is committed. Under load the commit's cost is shared by the whole batch; alone, an item is written at
 * the next turn of the event loop. A batch that fails is written again item by item, so that one bad item
 * (say, a hit on a link deleted meanwhile) fails alone. One batch is written at a time.
 */
export class GroupCommit<T> {
	readonly #write: (items: T[]) => Promise<void>;
	readonly #maxBatch: number;
	#queue: Pending<T>[] = [];
	#running: Promise<void> | null = null;

	constructor(write: (items: T[]) => Promise<void>, maxBatch: number) {
		this.#write = write;
		this.#maxBatch = maxBatch;
	}

	/** Resolves when `item` is committed; rejects with the error of its write. */
	add(item: T): Promise<void> {
		return new Promise<void>((resolve, reject) => {
			this.#queue.push({ item, resolve, reject });
			this.#running ??= new Promise<void>((started) => setImmediate(started)).then(() => this.#drain());
		});
	}

	/** Resolves when every item added so far is written (or failed). */
	async flushed(): Promise<void> {
		while (this.#running !== null) await this.#running;
	}

	async #drain(): Promise<void> {
		try {
			while (this.#queue.length > 0) {
				const batch = this.#queue.splice(0, this.#maxBatch);
				try {
					await this.#write(batch.map((pending) => pending.item));
					for (const pending of batch) pending.resolve();
				} catch (error) {
					if (batch.length === 1) {
						batch[0]?.reject(error);
						continue;
					}
					for (const pending of batch) {
						await this.#write([pending.item]).then(pending.resolve, pending.reject);
					}
				}
			}
		} finally {
			this.#running = null;
		}
	}
}
