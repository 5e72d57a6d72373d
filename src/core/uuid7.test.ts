import fc from "fast-check";
import { expect, test } from "vitest";
import { uuid7 } from "./uuid7.js";

test("uuid7() makes version 7 UUIDs that sort by time", () => {
	const ids = [0, 1, 1_700_000_000_000, 1_700_000_000_001, 2 ** 48 - 1].map((t) => uuid7(t));
	for (const id of ids)
		expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
	expect([...ids].sort()).toEqual(ids);
	expect(ids[2]?.startsWith("018bcfe5-6800-7")).toBe(true);
	expect(new Set(Array.from({ length: 1000 }, () => uuid7(5))).size).toBe(1000);
});

test("each id carries its own time, whatever the order of the times asked for", () => {
	fc.assert(
		fc.property(
			fc.array(fc.integer({ min: 0, max: 2 ** 48 - 1 }), { minLength: 1, maxLength: 50 }),
			(times) => {
				for (const time of times) {
					const id = uuid7(time);
					expect(Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16)).toBe(time);
					expect(id[14]).toBe("7");
				}
			},
		),
	);
});
