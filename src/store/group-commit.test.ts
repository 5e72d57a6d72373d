import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { GroupCommit } from "./group-commit.js";

describe("GroupCommit", () => {
	test("items added together are written in one batch, each resolved after it", async () => {
		const written: number[][] = [];
		const commit = new GroupCommit<number>(async (items) => {
			written.push(items);
		}, 500);
		await Promise.all(Array.from({ length: 120 }, (_, i) => commit.add(i)));
		expect(written).toEqual([Array.from({ length: 120 }, (_, i) => i)]);
	});

	test("items added while a batch is written go in the next one, at most maxBatch at a time", async () => {
		const written: number[][] = [];
		let release: () => void = () => {};
		const commit = new GroupCommit<number>(async (items) => {
			written.push(items);
			if (written.length === 1) await new Promise<void>((resolve) => (release = resolve));
		}, 3);
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
		}, 500);
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
		}, 2);
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
					}, maxBatch);
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
});
