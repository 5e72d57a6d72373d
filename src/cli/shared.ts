import { randomBytes } from "node:crypto";
import { type Command, InvalidArgumentError } from "commander";
import type { Refkit } from "../index.js";

/** Where the CLI writes: results to `out`, errors to `err`. */
export interface Io {
	out(text: string): void;
	err(text: string): void;
}

/** The process's own stdout and stderr. */
export const PROCESS_IO: Io = {
	out: (text) => void process.stdout.write(text),
	err: (text) => void process.stderr.write(text),
};

/** An expected failure of the CLI itself (as opposed to refkit's): shown as one `refkit: ...` line, exit 1. */
export class CliError extends Error {
	override name = "CliError";
}

/** The line the CLI prints for a failed command: `refkit: <message>`, on one line, never a stack trace. */
export function errorLine(error: unknown): string {
	const message = error instanceof Error ? error.message || error.name : String(error);
	// refkit's messages already start with "refkit: "; a driver's may span several lines.
	const text = message
		.replace(/^refkit:\s*/, "")
		.replace(/\s*\n\s*/g, " ")
		.trim();
	return `refkit: ${text || "unknown error"}`;
}

/** The database URL or path: `--database`, else `DATABASE_URL`. Throws a {@link CliError} when neither is set. */
export function databaseOf(command: Command): string {
	const given = command.optsWithGlobals<{ database?: string }>().database;
	const database = given ?? process.env.DATABASE_URL;
	if (database === undefined || database.trim() === "") {
		throw new CliError("no database: pass --database <url or path> or set DATABASE_URL");
	}
	return database;
}

/**
 * Opens refkit on the command's database, runs `work` and always closes the connection. Unless told
 * otherwise, migrates first: a new database is migrated before first use, so `refkit links create` works on
 * an empty file.
 */
export async function withRefkit<T>(
	command: Command,
	io: Io,
	work: (refkit: Refkit) => Promise<T>,
	{ migrate = true }: { migrate?: boolean } = {},
): Promise<T> {
	const database = databaseOf(command);
	// Loaded only now: Kysely and the drivers take longer to load than the rest of the CLI, and --help,
	// --version and usage errors do not need them.
	const { createRefkit } = await import("../index.js");
	const refkit = createRefkit({
		database,
		// The CLI never signs or reads visitor cookies, so a throwaway secret serves: nothing relies on it, and
		// a missing or short REFKIT_SECRET in the shell cannot stop an operator's command.
		secret: randomBytes(32).toString("hex"),
		onError: (error, context) => io.err(`${errorLine(error)} (${context.operation})\n`),
	});
	let result: T;
	try {
		if (migrate) await refkit.migrate();
		result = await work(refkit);
	} catch (error) {
		// The first error is the one to show; a failure to close after it would only hide it.
		await refkit.close().catch(() => {});
		throw error;
	}
	await refkit.close();
	return result;
}

/** Parses `--limit`: a whole number from 1 to 1000. */
export function parseLimit(value: string): number {
	const limit = /^\d{1,4}$/.test(value) ? Number(value) : Number.NaN;
	if (!(limit >= 1 && limit <= 1000)) throw new InvalidArgumentError("Give a whole number from 1 to 1000.");
	return limit;
}

/** Parses an option that must not be empty, such as `--user`. */
export function parseNonEmpty(value: string): string {
	if (value === "") throw new InvalidArgumentError("It must not be empty.");
	return value;
}

/** `value` as JSON, pretty-printed, with a final newline. Dates become ISO strings. */
export function json(value: unknown): string {
	return `${JSON.stringify(value, null, 2)}\n`;
}

const UNSAFE = /[\p{Cc}\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu;
const MAX_CELL = 60;

/**
 * A value made fit for one table cell: `-` for nothing, control characters escaped (a hit's `next` is
 * whatever a visitor typed, and must not drive the terminal), and cut at {@link MAX_CELL} characters.
 */
export function cell(value: string | Date | null | undefined): string {
	if (value === null || value === undefined || value === "") return "-";
	if (value instanceof Date) return value.toISOString();
	const safe = value.replace(UNSAFE, (c) => `\\u${(c.codePointAt(0) ?? 0).toString(16).padStart(4, "0")}`);
	return safe.length > MAX_CELL ? `${safe.slice(0, MAX_CELL - 1)}…` : safe;
}

/** Rows under upper-case headers, each column as wide as its widest cell, two spaces apart. */
export function table(headers: string[], rows: string[][]): string {
	const widths = headers.map((header, i) =>
		Math.max(header.length, ...rows.map((row) => row[i]?.length ?? 0)),
	);
	const line = (cells: string[]) =>
		cells
			.map((text, i) => text.padEnd(widths[i] ?? 0))
			.join("  ")
			.trimEnd();
	return `${[headers.map((header) => header.toUpperCase()), ...rows].map(line).join("\n")}\n`;
}

/** Help text listing examples, for `command.addHelpText("after", examples(...))`. */
export function examples(...lines: string[]): string {
	return `\nExamples:\n${lines.map((line) => (line === "" ? "" : `  ${line}`)).join("\n")}\n`;
}
