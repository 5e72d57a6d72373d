import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { isRefkitError } from "../errors.js";
import { GroupCommit, type GroupCommitOptions } from "./group-commit.js";

/** Errors of these tests are their items' unless a test says otherwise. */
function options(maxBatch: number, more: Partial<GroupCommitOptions> = {}): GroupCommitOptions {
	return { maxBatch, maxQueued: 10_000, isItemError: () => true, ...more };
}

/** An error without an item to blame: the database is unreachable. */
class Unreachable extends Error {}

describe("GroupCommit", () => {
	test("items added together are written in one batch, each resolved after it", async () => {
		const written: number[][] = [];
		const commit = new GroupCommit<number>(async (items) => {
			written.push(items);
		}, options(500));
		await Promise.all(Array.from({ length: 120 }, (_, i) => commit.add(i)));
		expect(written).toEqual([Array.from({ length: 120 }, (_, i) => i)]);
	});

	test("items added while a batch is written go in the next one, at most maxBatch at a time", async () => {
		const written: number[][] = [];
		let release: () => void = () => {};
		const commit = new GroupCommit<number>(async (items) => {
			written.push(items);
			if (written.length === 1) await new Promise<void>((resolve) => (release = resolve));
		}, options(3));
		const first = commit.add(0);
		await new Promise((resolve) => setImmediate(resolve));
		const later = [1, 2, 3, 4, 5, 6, 7].map((i) => commit.add(i));
		release();
		await Promise.all([first, ...later]);
		expect(written).toEqual([[0], [1, 2, 3], [4, 5, 6], [7]]);
	});

	test("a failing batch is written again item by item: only the bad item fails", async () => {
		const stored: number[] = [];
		const commit = new GroupCommit<number>(async (items) => {
			if (items.includes(13)) throw new Error("13 is refused");
			stored.push(...items);
		}, options(500));
		const results = await Promise.allSettled([10, 11, 12, 13, 14].map((i) => commit.add(i)));
		expect(results.map((r) => r.status)).toEqual([
			"fulfilled",
			"fulfilled",
			"fulfilled",
			"rejected",
			"fulfilled",
		]);
		expect(stored).toEqual([10, 11, 12, 14]);
	});

	test("flushed() waits for every item added so far", async () => {
		const stored: number[] = [];
		const commit = new GroupCommit<number>(async (items) => {
			await new Promise((resolve) => setTimeout(resolve, 5));
			stored.push(...items);
		}, options(2));
		for (const i of [1, 2, 3, 4, 5]) void commit.add(i);
		await commit.flushed();
		expect(stored).toEqual([1, 2, 3, 4, 5]);
	});

	test("property: every item resolves exactly when stored, whatever the failures and batch sizes", async () => {
		await fc.assert(
			fc.asyncProperty(
				fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 60 }),
				fc.integer({ min: 1, max: 8 }),
				async (items, maxBatch) => {
					const stored: number[] = [];
					const commit = new GroupCommit<number>(async (batch) => {
						if (batch.some((i) => i % 7 === 0)) throw new Error("refused");
						stored.push(...batch);
					}, options(maxBatch));
					const results = await Promise.allSettled(items.map((i) => commit.add(i)));
					expect(results.map((r) => r.status === "fulfilled")).toEqual(items.map((i) => i % 7 !== 0));
					expect(stored.sort((a, b) => a - b)).toEqual(
						items.filter((i) => i % 7 !== 0).sort((a, b) => a - b),
					);
				},
			),
			{ numRuns: 100 },
		);
	});

	test("beyond maxQueued, add() rejects at once with QUEUE_FULL and keeps nothing; below it nothing is lost", async () => {
		let down = true;
		const stored: number[] = [];
		let writes = 0;
		const commit = new GroupCommit<number>(
			async (items) => {
				writes++;
				if (down) {
					await new Promise((resolve) => setTimeout(resolve, 20));
					throw new Unreachable("connect ETIMEDOUT");
				}
				stored.push(...items);
			},
			options(500, {
				maxQueued: 1_000,
				isItemError: (error) => !(error instanceof Unreachable),
				retryDelay: 5,
			}),
		);
		// The first batch fails as a whole: 500 items, one write.
		const first = Promise.allSettled(Array.from({ length: 500 }, (_, i) => commit.add(i)));
		await new Promise((resolve) => setImmediate(resolve));
		const failed = await first;
		expect(failed.every((result) => result.status === "rejected")).toBe(true);
		expect(writes).toBe(1);
		// While it stays down, 20,000 more arrive: the queue never holds more than 1,000.
		let peak = 0;
		const later = Array.from({ length: 20_000 }, (_, i) => {
			const added = commit.add(1_000 + i);
			peak = Math.max(peak, commit.queued);
			return added;
		});
		expect(peak).toBeLessThanOrEqual(1_000);
		down = false;
		const results = await Promise.allSettled(later);
		const full = results.filter(
			(result) => result.status === "rejected" && isRefkitError(result.reason, "QUEUE_FULL"),
		);
		expect(full).toHaveLength(19_000);
		// The 1,000 kept are all written once the database is back, in batches, not one by one.
		expect(stored).toEqual(Array.from({ length: 1_000 }, (_, i) => 1_000 + i));
		expect(writes).toBeLessThanOrEqual(1 + 2 + 2);
	});

	test("a batch that fails for no item fails whole, and the next waits longer, up to maxRetryDelay", async () => {
		const attempts: number[] = [];
		const commit = new GroupCommit<number>(
			async () => {
				attempts.push(Date.now());
				throw new Unreachable("ECONNREFUSED");
			},
			options(2, {
				isItemError: (error) => !(error instanceof Unreachable),
				retryDelay: 20,
				maxRetryDelay: 80,
			}),
		);
		const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => commit.add(i)));
		expect(results.every((result) => result.status === "rejected")).toBe(true);
		// Five batches of two, never item by item; the pauses between them grow: 20, 40, 80, 80 ms.
		expect(attempts).toHaveLength(5);
		const gaps = attempts.slice(1).map((at, i) => at - (attempts[i] as number));
		expect(gaps[0]).toBeGreaterThanOrEqual(18);
		expect(gaps[1]).toBeGreaterThanOrEqual(38);
		expect(gaps[2]).toBeGreaterThanOrEqual(78);
		expect(gaps[3]).toBeGreaterThanOrEqual(78);
		expect(gaps[3]).toBeLessThan(400);
	});

	test("settle() fails what waits at once while the database is down, instead of waiting out the back-off", async () => {
		let writes = 0;
		const commit = new GroupCommit<number>(
			async () => {
				writes++;
				throw new Unreachable("ECONNREFUSED");
			},
			options(2, { isItemError: (error) => !(error instanceof Unreachable), retryDelay: 5_000 }),
		);
		const results = Promise.allSettled(Array.from({ length: 10 }, (_, i) => commit.add(i)));
		await new Promise((resolve) => setTimeout(resolve, 50)); // the first batch failed; the next waits 5 s
		const started = Date.now();
		await commit.settle();
		expect(Date.now() - started).toBeLessThan(1_000);
		const settled = await results;
		expect(settled.every((result) => result.status === "rejected")).toBe(true);
		expect(writes).toBeLessThanOrEqual(2);
	});
});
