import { InvalidArgumentError } from "commander";
import { describe, expect, test } from "vitest";
import { amountCell, amountText, everyRow, jsonArray, kept, parseMinorUnits, parseUuid } from "./ledger.js";

async function all<T>(rows: AsyncIterable<T>): Promise<T[]> {
	const list: T[] = [];
	for await (const row of rows) list.push(row);
	return list;
}

async function* from<T>(rows: T[]): AsyncGenerator<T> {
	yield* rows;
}

interface Row {
	id: string;
	createdAt: Date;
}

/** `n` rows, newest first, one a second, ids `r0000`... (a later id for the same time is newer). */
function rows(n: number, start = 0): Row[] {
	return Array.from({ length: n }, (_, i) => ({
		id: `r${String(start + n - 1 - i).padStart(4, "0")}`,
		createdAt: new Date(Date.UTC(2026, 0, 1) + (start + n - 1 - i) * 1000),
	}));
}

describe("everyRow", () => {
	test("reads every page, 1000 rows at a time, newest first", async () => {
		const table = rows(2500);
		const offsets: number[] = [];
		const read = await all(
			everyRow(async (limit, offset) => {
				offsets.push(offset);
				return table.slice(offset, offset + limit);
			}),
		);
		expect(read).toEqual(table);
		expect(offsets).toEqual([0, 1000, 2000]);
	});

	test("a row added while the pages are read shifts the rest: each row still comes once", async () => {
		const table = rows(2100);
		const read = await all(
			everyRow(async (limit, offset) => {
				const page = table.slice(offset, offset + limit);
				// After each page, three newer rows arrive, pushing every row three places down.
				table.unshift(...rows(3, 10_000 + offset));
				return page;
			}),
		);
		expect(read).toEqual(rows(2100));
	});

	test("rows of the same time are told apart by their ids", async () => {
		const at = new Date(Date.UTC(2026, 0, 1));
		const table = Array.from({ length: 1500 }, (_, i) => ({
			id: `s${String(1499 - i).padStart(4, "0")}`,
			createdAt: at,
		}));
		const read = await all(
			everyRow(async (limit, offset) => {
				const page = table.slice(offset, offset + limit);
				table.unshift({ id: "z-newer", createdAt: at });
				return page;
			}),
		);
		expect(read.map((row) => row.id)).toEqual(
			Array.from({ length: 1500 }, (_, i) => `s${String(1499 - i).padStart(4, "0")}`),
		);
	});
});

describe("kept", () => {
	test("keeps the rows that pass, at most the limit", async () => {
		const numbers = from([1, 2, 3, 4, 5, 6]);
		expect(await all(kept(numbers, { keep: (n) => n % 2 === 0, limit: 2 }))).toEqual([2, 4]);
		expect(await all(kept(from([1, 2, 3]), {}))).toEqual([1, 2, 3]);
	});

	test("stops reading once the limit is reached", async () => {
		let read = 0;
		async function* counting() {
			for (let i = 0; ; i++) {
				read++;
				yield i;
			}
		}
		expect(await all(kept(counting(), { limit: 3 }))).toEqual([0, 1, 2]);
		expect(read).toBe(3);
	});
});

describe("jsonArray", () => {
	const values = [
		{ id: "a", amount: -250, nested: { list: [1, 2], empty: {}, none: [] }, text: 'line\nbreak "quoted"' },
		{ id: "b", at: new Date(Date.UTC(2026, 7, 1)), missing: null },
	];

	test("writes what JSON.stringify(rows, null, 2) writes, and a final newline", async () => {
		expect((await all(jsonArray(from(values)))).join("")).toBe(`${JSON.stringify(values, null, 2)}\n`);
		expect((await all(jsonArray(from([])))).join("")).toBe("[]\n");
		expect((await all(jsonArray(from([7])))).join("")).toBe("[\n  7\n]\n");
	});

	test("nested as a field of an object, at its depth", async () => {
		const text = `{\n  "payouts": ${(await all(jsonArray(from(values), 1))).join("")}\n}`;
		expect(text).toBe(JSON.stringify({ payouts: values }, null, 2));
		const empty = `{\n  "payouts": ${(await all(jsonArray(from([]), 1))).join("")}\n}`;
		expect(empty).toBe(JSON.stringify({ payouts: [] }, null, 2));
	});
});

describe("parsers and amounts", () => {
	test("parseMinorUnits takes whole numbers from 1 to 10^15 and says why a fraction is refused", () => {
		expect(parseMinorUnits("1")).toBe(1);
		expect(parseMinorUnits("1234")).toBe(1234);
		expect(parseMinorUnits("1000000000000000")).toBe(1e15);
		for (const bad of ["0", "-5", "1e3", "", " 12", "0x10", "1000000000000001", "abc"]) {
			expect(() => parseMinorUnits(bad), bad).toThrow(/from 1 to 1000000000000000/);
		}
		for (const fraction of ["12.5", "12,50", ".5"]) {
			expect(() => parseMinorUnits(fraction), fraction).toThrow(/never fractions; 12\.34 USD is 1234/);
		}
		expect(() => parseMinorUnits("1.5")).toThrow(InvalidArgumentError);
	});

	test("parseUuid takes a UUID, lower-cased, and names what it wanted", () => {
		const parse = parseUuid("a payout's id");
		expect(parse("0B7C3C9E-8F0A-4C3D-9B1E-2F4A5D6C7E8F")).toBe("0b7c3c9e-8f0a-4c3d-9b1e-2f4a5d6c7e8f");
		for (const bad of [
			"",
			"abc",
			"0b7c3c9e8f0a4c3d9b1e2f4a5d6c7e8f",
			"0b7c3c9e-8f0a-4c3d-9b1e-2f4a5d6c7e8f0",
		]) {
			expect(() => parse(bad), bad).toThrow(/^Give a payout's id, a UUID/);
		}
	});

	test("amounts in minor units, with the major-unit form beside them", () => {
		expect(amountText(1234, "USD")).toBe("1234 USD (12.34)");
		expect(amountText(-5, "EUR")).toBe("-5 EUR (-0.05)");
		expect(amountText(500, "JPY")).toBe("500 JPY");
		expect(amountText(1234, "KWD")).toBe("1234 KWD (1.234)");
		expect(amountCell(1234, "USD")).toBe("1234 (12.34)");
		expect(amountCell(0, "USD")).toBe("0");
		expect(amountCell(-199, "USD")).toBe("-199 (-1.99)");
		expect(amountCell(500, "JPY")).toBe("500");
	});
});
