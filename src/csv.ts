import type { Conversion, HitWithLink } from "./types.js";

/**
 * One CSV field (RFC 4180): quoted when it holds a comma, quote or line break. A text that a spreadsheet
 * would run as a formula gets a `'` before the formula's first character (`=`, `+`, `-`, `@`, tab or
 * carriage return), since User-Agents, Referers and `next` are written by visitors: at the start of the
 * field, and after each `;` and `,`, where a spreadsheet whose list separator it is (German, French, Dutch
 * locales use `;`) starts a new cell.
 */
export function csvField(value: string | number | boolean | Date | null): string {
	if (value === null) return "";
	if (value instanceof Date) return value.toISOString();
	if (typeof value !== "string") return String(value);
	const text = value.replace(/(^|[;,])(?=[=+\-@\t\r])/g, "$1'");
	return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The columns of a CSV: each one's name, and how to read its field from a row. */
export type CsvColumns<T> = readonly (readonly [
	string,
	(row: T) => string | number | boolean | Date | null,
])[];

/** Lines of CSV, the header first, produced as the rows arrive: nothing is held in memory but one row. */
export async function* csvLines<T>(columns: CsvColumns<T>, rows: AsyncIterable<T>): AsyncGenerator<string> {
	yield `${columns.map(([name]) => csvField(name)).join(",")}\r\n`;
	for await (const row of rows) yield `${columns.map(([, get]) => csvField(get(row))).join(",")}\r\n`;
}

/** The columns of a CSV of hits, as the dashboard and `refkit export hits` write them. */
export const HIT_COLUMNS = [
	["time", (h: HitWithLink) => h.createdAt],
	["link", (h: HitWithLink) => h.identifier],
	["source", (h: HitWithLink) => h.source],
	["authenticated", (h: HitWithLink) => h.authenticated],
	["user_id", (h: HitWithLink) => h.userId],
	["visitor_id", (h: HitWithLink) => h.visitorId],
	["ip", (h: HitWithLink) => h.ip],
	["user_agent", (h: HitWithLink) => h.userAgent],
	["referer", (h: HitWithLink) => h.referer],
	["next", (h: HitWithLink) => h.next],
	["confirmed_at", (h: HitWithLink) => h.confirmedAt],
	["id", (h: HitWithLink) => h.id],
] as const;

/** The columns of a CSV of conversions, as the dashboard and `refkit export conversions` write them. */
export const CONVERSION_COLUMNS = [
	["time", (c: Conversion) => c.createdAt],
	["goal", (c: Conversion) => c.goal],
	["referred_user_id", (c: Conversion) => c.referredUserId],
	["referrer_user_id", (c: Conversion) => c.referrerUserId],
	["value", (c: Conversion) => c.value],
	["hit_id", (c: Conversion) => c.hitId],
	["link_id", (c: Conversion) => c.linkId],
	["reversed_at", (c: Conversion) => c.reversedAt],
	["reversal_reason", (c: Conversion) => c.reversalReason],
	["delivered_at", (c: Conversion) => c.deliveredAt],
	["id", (c: Conversion) => c.id],
] as const;
