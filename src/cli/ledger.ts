import { InvalidArgumentError } from "commander";
// Straight from the module, not from the package's root: `--help` must not load Kysely and the drivers.
import { MAX_AMOUNT, minorDigits, toMajor } from "../programs/money.js";
import { type Io, isBrokenPipe, writeAll } from "./shared.js";

/**
 * What the commands of referral programs share (commissions, balances, sales, payouts): amounts as people
 * read them, ids and amounts parsed before the database is opened, every row of a listing, and JSON written
 * as the rows come.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A parser for an id refkit made: a UUID, lower-cased; `what` names it in the error (`a payout's id`). */
export function parseUuid(what: string): (value: string) => string {
	return (value) => {
		if (!UUID.test(value)) {
			throw new InvalidArgumentError(`Give ${what}, a UUID such as 0b7c3c9e-8f0a-4c3d-9b1e-2f4a5d6c7e8f.`);
		}
		return value.toLowerCase();
	};
}

/** Parses an amount in minor units: a whole number from 1 to 10^15, never a fraction. */
export function parseMinorUnits(value: string): number {
	const n = /^\d{1,16}$/.test(value) ? Number(value) : Number.NaN;
	if (!(n >= 1 && n <= MAX_AMOUNT)) {
		throw new InvalidArgumentError(
			/^\d*[.,]\d+$/.test(value)
				? "Give a whole number of minor units (cents): amounts are never fractions; 12.34 USD is 1234."
				: `Give a whole number of minor units (cents) from 1 to ${MAX_AMOUNT}, such as 1234 for 12.34 USD.`,
		);
	}
	return n;
}

/** An amount for a sentence: `1234 USD (12.34)`; `500 JPY` for a currency without minor units. */
export function amountText(amount: number, currency: string): string {
	return minorDigits(currency) === 0
		? `${amount} ${currency}`
		: `${amount} ${currency} (${toMajor(amount, currency)})`;
}

/** An amount for a table with a currency column: `1234 (12.34)`, or `0`. */
export function amountCell(amount: number, currency: string): string {
	return amount === 0 || minorDigits(currency) === 0
		? String(amount)
		: `${amount} (${toMajor(amount, currency)})`;
}

/** Where a row of a newest-first listing stands: its time, then its id. */
interface Positioned {
	id: string;
	createdAt: Date;
}

function isOlder(row: Positioned, than: Positioned): boolean {
	const [a, b] = [row.createdAt.getTime(), than.createdAt.getTime()];
	return a < b || (a === b && row.id < than.id);
}

const PAGE = 1000;

/**
 * Every row of a newest-first listing that only pages by offset (`listSales()`, `listPayouts()`), 1000 at a
 * time. Rows are never deleted, so a row added meanwhile can only push the ones after it down a page: those
 * come again, and are skipped, since only rows older than the last one given are. Filter on what a row
 * cannot change (its user, its run); a filter on its status, which can change while the pages are read,
 * could pull a row from under the offset: filter the rows as they come instead.
 */
export async function* everyRow<T extends Positioned>(
	page: (limit: number, offset: number) => Promise<T[]>,
): AsyncGenerator<T> {
	let last: Positioned | undefined;
	for (let offset = 0; ; offset += PAGE) {
		const rows = await page(PAGE, offset);
		for (const row of rows) {
			if (last !== undefined && !isOlder(row, last)) continue;
			last = row;
			yield row;
		}
		if (rows.length < PAGE) return;
	}
}

/** The rows that pass `keep`, at most `limit` of them (all without a limit). */
export async function* kept<T>(
	rows: AsyncIterable<T>,
	{ keep = () => true, limit }: { keep?: (row: T) => boolean; limit?: number | undefined },
): AsyncGenerator<T> {
	if (limit === 0) return;
	let given = 0;
	for await (const row of rows) {
		if (!keep(row)) continue;
		yield row;
		if (++given === limit) return;
	}
}

/**
 * The rows as a JSON array, text by text: the same characters as `json(rows)` (two-space indentation, a
 * final newline), nested `depth` levels deep when it is a field of an object, without holding the rows.
 */
export async function* jsonArray(rows: AsyncIterable<unknown>, depth = 0): AsyncGenerator<string> {
	const pad = "  ".repeat(depth + 1);
	let first = true;
	for await (const row of rows) {
		// Strings in JSON hold no raw line break: every line break is the indentation's.
		const text = JSON.stringify(row, null, 2).replace(/\n/g, `\n${pad}`);
		yield `${first ? "[\n" : ",\n"}${pad}${text}`;
		first = false;
	}
	yield first ? "[]" : `\n${"  ".repeat(depth)}]`;
	if (depth === 0) yield "\n";
}

/** Writes texts to stdout as they come; a reader that stops early (`| head`) is not an error. */
export async function stream(io: Io, texts: AsyncIterable<string>): Promise<void> {
	try {
		await writeAll(io.stdout, texts);
	} catch (error) {
		if (!isBrokenPipe(error)) throw error;
	}
}

/**
 * Prints a listing: with `--json`, a JSON array written row by row as the rows are read (bounded memory
 * however many); else a table of them all, or `none` when there are none.
 */
export async function printListing<T>(
	io: Io,
	rows: AsyncIterable<T>,
	options: { json?: boolean | undefined },
	table: (rows: T[]) => string,
	none: string,
): Promise<void> {
	if (options.json) {
		await stream(io, jsonArray(rows));
		return;
	}
	const all: T[] = [];
	for await (const row of rows) all.push(row);
	io.out(all.length === 0 ? `${none}\n` : table(all));
}
