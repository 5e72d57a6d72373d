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

	test("property: every item resolves exactly when stored, once, whatever the failures and batch sizes", async () => {
		await fc.assert(
			fc.asyncProperty(
				fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 60 }),
				fc.integer({ min: 1, max: 8 }),
				// Each write: the database answers, fails before the commit, or commits and fails to say so.
				fc.array(fc.constantFrom("ok", "down", "committed-then-timeout"), { maxLength: 30 }),
				async (items, maxBatch, outages) => {
					const stored = new Set<number>();
					let writes = 0;
					let failingReports = 0;
					const commit = new GroupCommit<number>(
						async (batch) => {
							const outage = outages[writes++] ?? "ok";
							if (outage === "down") throw new Unreachable("ECONNRESET");
							if (batch.some((i) => i % 7 === 0)) throw new Error("refused");
							// Idempotent, as the hits' INSERT ... ON CONFLICT DO NOTHING is.
							for (const i of batch) stored.add(i);
							if (outage === "committed-then-timeout") throw new Unreachable("query read timeout");
						},
						options(maxBatch, {
							isItemError: (error) => !(error instanceof Unreachable),
							retryDelay: 1,
							maxRetryDelay: 2,
							onFailing: () => failingReports++,
						}),
					);
					const unique = [...new Set(items)];
					const deferrals = new Map<number, number>();
					const results = await Promise.allSettled(
						unique.map((i) => commit.add(i, () => deferrals.set(i, (deferrals.get(i) ?? 0) + 1))),
					);
					expect(results.map((r) => r.status === "fulfilled")).toEqual(unique.map((i) => i % 7 !== 0));
					expect([...stored].sort((a, b) => a - b)).toEqual(
						unique.filter((i) => i % 7 !== 0).sort((a, b) => a - b),
					);
					// Each item is told at most once that it waits for the database.
					expect([...deferrals.values()].every((n) => n === 1)).toBe(true);
					if (writes > 0 && outages.slice(0, writes).every((o) => o === "ok")) {
						expect(deferrals.size).toBe(0);
						expect(failingReports).toBe(0);
					}
				},
			),
			{ numRuns: 200 },
		);
	});

	test("while the database is down nothing is lost: batches are written again, whole, once it is back", async () => {
		let down = true;
		const stored: number[] = [];
		const attempts: number[] = [];
		const failing: unknown[] = [];
		const commit = new GroupCommit<number>(
			async (items) => {
				attempts.push(Date.now());
				if (down) throw new Unreachable("ECONNREFUSED");
				stored.push(...items);
			},
			options(2, {
				isItemError: (error) => !(error instanceof Unreachable),
				retryDelay: 20,
				maxRetryDelay: 80,
				onFailing: (error) => failing.push(error),
			}),
		);
		const deferred: number[] = [];
		const added = Array.from({ length: 6 }, (_, i) => commit.add(i, () => deferred.push(i)));
		await new Promise((resolve) => setTimeout(resolve, 250));
		// The first batch failed and is retried, whole, after pauses growing 20, 40, 80, 80 ms; every waiting
		// item was told it waits for the database, once; the outage was told once.
		expect(attempts.length).toBeGreaterThanOrEqual(4);
		expect(attempts.length).toBeLessThanOrEqual(6);
		const gaps = attempts.slice(1).map((at, i) => at - (attempts[i] as number));
		expect(gaps[0]).toBeGreaterThanOrEqual(18);
		expect(gaps[1]).toBeGreaterThanOrEqual(38);
		expect(gaps[2]).toBeGreaterThanOrEqual(78);
		expect(deferred).toEqual([0, 1, 2, 3, 4, 5]);
		expect(failing).toHaveLength(1);
		// Added while writes fail: told at once.
		const late: number[] = [];
		added.push(commit.add(6, () => late.push(6)));
		expect(late).toEqual([6]);
		down = false;
		await Promise.all(added);
		expect(stored).toEqual([0, 1, 2, 3, 4, 5, 6]);
		expect(failing).toHaveLength(1);
	});

	test("a batch whose one-by-one retry meets the database going away waits for it too", async () => {
		let down = false;
		let wentDown = false;
		const stored: number[] = [];
		const commit = new GroupCommit<number>(
			async (items) => {
				if (down) throw new Unreachable("ECONNRESET");
				if (items.includes(2)) {
					if (items.length === 1 || wentDown) throw new Error("2 is refused");
					down = true; // the batch fails because of 2; then the database goes
					wentDown = true;
					setTimeout(() => {
						down = false;
					}, 30);
					throw new Error("2 is refused");
				}
				stored.push(...items);
			},
			options(10, { isItemError: (error) => !(error instanceof Unreachable), retryDelay: 5 }),
		);
		const results = await Promise.allSettled([0, 1, 2, 3].map((i) => commit.add(i)));
		expect(results.map((r) => r.status)).toEqual(["fulfilled", "fulfilled", "rejected", "fulfilled"]);
		expect(stored.sort()).toEqual([0, 1, 3]);
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
				retryDelay: 200,
			}),
		);
		// The first batch fails as a whole (one write) and waits to be written again.
		const first = Array.from({ length: 500 }, (_, i) => commit.add(i));
		await new Promise((resolve) => setTimeout(resolve, 30));
		expect(writes).toBe(1);
		expect(commit.queued).toBe(500);
		// While it stays down, 20,000 more arrive: 500 are kept, the rest refused; the queue holds 1,000.
		let peak = 0;
		const later = Array.from({ length: 20_000 }, (_, i) => {
			const added = commit.add(1_000 + i);
			peak = Math.max(peak, commit.queued);
			return added;
		});
		expect(peak).toBeLessThanOrEqual(1_000);
		down = false;
		const results = await Promise.allSettled([...first, ...later]);
		const full = results.filter(
			(result) => result.status === "rejected" && isRefkitError(result.reason, "QUEUE_FULL"),
		);
		expect(full).toHaveLength(19_500);
		// The 1,000 kept are all written once the database is back, in batches, not one by one.
		expect(stored.sort((a, b) => a - b)).toEqual([
			...Array.from({ length: 500 }, (_, i) => i),
			...Array.from({ length: 500 }, (_, i) => 1_000 + i),
		]);
		expect(results.filter((result) => result.status === "fulfilled")).toHaveLength(1_000);
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

	test("settle() during a write that then fails for want of the database fails its items, without retrying", async () => {
		let writes = 0;
		const commit = new GroupCommit<number>(
			async () => {
				writes++;
				await new Promise((resolve) => setTimeout(resolve, 30));
				throw new Unreachable("ECONNRESET");
			},
			options(10, { isItemError: (error) => !(error instanceof Unreachable), retryDelay: 1 }),
		);
		const results = Promise.allSettled([1, 2, 3].map((i) => commit.add(i)));
		await new Promise((resolve) => setImmediate(resolve));
		await commit.settle();
		expect((await results).every((result) => result.status === "rejected")).toBe(true);
		expect(writes).toBe(1);
	});
});
