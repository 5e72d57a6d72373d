/**
 * One CSV field (RFC 4180): quoted when it holds a comma, quote or line break. A text that a spreadsheet
 * would run as a formula (starting with `=`, `+`, `-`, `@`, tab or carriage return) gets a leading `'`,
 * since User-Agents and Referers are written by visitors.
 */
export function csvField(value: string | number | boolean | Date | null): string {
	if (value === null) return "";
	if (value instanceof Date) return value.toISOString();
	if (typeof value !== "string") return String(value);
	const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
	return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Lines of CSV, the header first, produced as the rows arrive: nothing is held in memory but one row. */
export async function* csvLines<T>(
	columns: readonly (readonly [string, (row: T) => string | number | boolean | Date | null])[],
	rows: AsyncIterable<T>,
): AsyncGenerator<string> {
	yield `${columns.map(([name]) => csvField(name)).join(",")}\r\n`;
	for await (const row of rows) yield `${columns.map(([, get]) => csvField(get(row))).join(",")}\r\n`;
}
