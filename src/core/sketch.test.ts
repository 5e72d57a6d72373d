import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { EXACT_LIMIT, hashKey, Sketch } from "./sketch.js";

const keys = (n: number, prefix = "v:") => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

function sketchOf(values: Iterable<string>, sketch = new Sketch()): Sketch {
	for (const value of values) sketch.add(value);
	return sketch;
}

describe("Sketch", () => {
	test("counts exactly up to EXACT_LIMIT distinct keys, however often each is added", () => {
		fc.assert(
			fc.property(fc.array(fc.string(), { maxLength: 300 }), fc.nat({ max: 3 }), (values, repeats) => {
				const sketch = sketchOf(Array.from({ length: repeats + 1 }, () => values).flat());
				expect(sketch.exact).toBe(true);
				expect(sketch.count).toBe(new Set(values).size);
			}),
		);
		const full = sketchOf(keys(EXACT_LIMIT));
		expect([full.exact, full.count]).toEqual([true, EXACT_LIMIT]);
		const over = sketchOf(keys(EXACT_LIMIT + 1));
		expect(over.exact).toBe(false);
	});

	test("the union of exact sketches is the exact count of the union", () => {
		fc.assert(
			fc.property(fc.array(fc.array(fc.string(), { maxLength: 100 }), { maxLength: 8 }), (days) => {
				const union = Sketch.union();
				for (const day of days) union.merge(Sketch.from(sketchOf(day).toBytes()));
				expect(union.exact).toBe(true);
				expect(union.count).toBe(new Set(days.flat()).size);
			}),
		);
	});

	test.each([3_000, 20_000, 100_000, 1_000_000])("estimates %i distinct keys within 3 percent", (n) => {
		const sketch = sketchOf(keys(n));
		expect(sketch.exact).toBe(false);
		expect(Math.abs(sketch.count - n) / n).toBeLessThan(0.03);
	});

	test("merging days estimates their union: shared visitors count once", () => {
		// 30 days of 5,000 visitors each, half of them the same every day: 30 × 2,500 + 2,500 in all.
		const union = Sketch.union();
		for (let day = 0; day < 30; day++) {
			const visitors = [...keys(2_500, "regular:"), ...keys(2_500, `day${day}:`)];
			union.merge(Sketch.from(sketchOf(visitors).toBytes()));
		}
		const expected = 30 * 2_500 + 2_500;
		expect(union.exact).toBe(false);
		expect(Math.abs(union.count - expected) / expected).toBeLessThan(0.03);
	});

	test("a week of exact days stays exact when stored and read back, however many keys its seven days hold", () => {
		const week = Sketch.week();
		for (let day = 0; day < 7; day++)
			week.merge(Sketch.from(sketchOf(keys(EXACT_LIMIT, `day${day}:`)).toBytes()));
		const stored = Sketch.from(week.toBytes());
		const union = Sketch.union();
		union.merge(stored);
		expect([stored.exact, stored.count, union.exact, union.count]).toEqual([
			true,
			7 * EXACT_LIMIT,
			true,
			7 * EXACT_LIMIT,
		]);
		// A day past the limit makes the week an estimate, as it would the period.
		week.merge(sketchOf(keys(EXACT_LIMIT + 1, "busy:")));
		expect(week.exact).toBe(false);
	});

	test("an exact union turns into an estimate when it grows past 65,536 keys, and stays close", () => {
		const union = Sketch.union();
		for (let day = 0; day < 40; day++) union.merge(sketchOf(keys(2_000, `day${day}:`)));
		expect(union.exact).toBe(false);
		expect(Math.abs(union.count - 80_000) / 80_000).toBeLessThan(0.03);
	});

	test("stored bytes read back to the same sketch, and reading never changes the stored bytes", () => {
		for (const n of [0, 10, EXACT_LIMIT, 10_000]) {
			const sketch = sketchOf(keys(n));
			const bytes = sketch.toBytes();
			const copy = Uint8Array.from(bytes);
			const read = Sketch.from(bytes);
			expect([read.exact, read.count]).toEqual([sketch.exact, sketch.count]);
			read.add("someone new");
			read.merge(sketchOf(keys(5_000, "other:")));
			expect(bytes).toEqual(copy);
		}
	});

	test("bytes no version of refkit wrote are refused", () => {
		for (const bytes of [[], [0], [1, 2, 3], [2, 0, 0], [9, ...new Array(8).fill(0)]]) {
			expect(() => Sketch.from(Uint8Array.from(bytes))).toThrow(/not a stored sketch/);
		}
	});

	test("hashKey: 53-bit, stable across releases, and spread over the register indexes", () => {
		// Stored sketches hold these hashes: a change of hashKey() needs a new sketch format.
		expect([hashKey(""), hashKey("v:1"), hashKey("u:42")]).toEqual([
			6405930193975251, 6311786827269877, 1887896246341017,
		]);
		const indexes = new Set<number>();
		for (const key of keys(50_000)) {
			const hash = hashKey(key);
			expect(Number.isSafeInteger(hash) && hash >= 0).toBe(true);
			indexes.add(Math.floor(hash / 2 ** 39));
		}
		// 50,000 keys into 16,384 registers leave about 16,384 × e^(−50000/16384) ≈ 776 empty.
		expect(16_384 - indexes.size).toBeGreaterThan(600);
		expect(16_384 - indexes.size).toBeLessThan(950);
	});
});
