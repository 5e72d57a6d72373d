import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { rename, rm } from "node:fs/promises";
import type { Writable } from "node:stream";
import { finished } from "node:stream/promises";
import { type Command, InvalidArgumentError } from "commander";
import type { ProgramOptions, Refkit } from "../index.js";
import { MIN_SECRET_LENGTH } from "../options.js";

/** Where the CLI writes: results to `out`, errors to `err`. */
export interface Io {
	out(text: string): void;
	err(text: string): void;
	/** The stream behind `out`, for long output written with backpressure (exports). */
	readonly stdout: Writable;
	/** Whether stderr is a terminal: progress lines are drawn only then, never into a file or a pipe. */
	readonly stderrIsTTY: boolean;
}

/** The process's own stdout and stderr. */
export const PROCESS_IO: Io = {
	out: (text) => void process.stdout.write(text),
	err: (text) => void process.stderr.write(text),
	stdout: process.stdout,
	stderrIsTTY: process.stderr.isTTY === true,
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

/** How {@link withRefkit} opens refkit, beyond the command's database. */
export interface OpenOptions {
	/** Migrate first (`links create`, so that it works on a new database). */
	migrate?: boolean;
	/** The application's secret, for the commands whose result depends on it; else a throwaway one. */
	secret?: string;
	/** Referral programs, for the commands that write the ledger as the application would (`stripe replay`). */
	programs?: ProgramOptions[];
	defaultProgram?: string;
}

/**
 * Opens refkit on the command's database, runs `work` and always closes the connection. Migrates first only
 * when told to (`links create`, so that it works on a new database): commands that read, and those that change
 * rows a migrated database already has, never migrate, so that an operator's read never takes the
 * migration lock or changes the schema under a running application.
 */
export async function withRefkit<T>(
	command: Command,
	io: Io,
	work: (refkit: Refkit) => Promise<T>,
	{ migrate = false, secret, programs, defaultProgram }: OpenOptions = {},
): Promise<T> {
	const database = databaseOf(command);
	// Loaded only now: Kysely and the drivers take longer to load than the rest of the CLI, and --help,
	// --version and usage errors do not need them.
	const { createRefkit } = await import("../index.js");
	const refkit = createRefkit({
		database,
		// Most commands never sign or read anything with the secret, so a throwaway one serves: nothing relies
		// on it, and a missing or short REFKIT_SECRET in the shell cannot stop an operator's command. Those that
		// need the application's (see applicationSecret) pass it.
		secret: secret ?? randomBytes(32).toString("hex"),
		programs,
		defaultProgram,
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

/**
 * The application's secret, from `REFKIT_SECRET`, for the commands whose result depends on it (erasure's
 * pseudonyms). Throws a {@link CliError} when it is missing or too short.
 */
export function applicationSecret(command: string): string {
	const secret = process.env.REFKIT_SECRET ?? "";
	if (secret.length < MIN_SECRET_LENGTH) {
		throw new CliError(
			`${command} needs the application's secret: set REFKIT_SECRET to the secret your application gives createRefkit() (at least ${MIN_SECRET_LENGTH} characters)`,
		);
	}
	return secret;
}

/** A parser for an option that takes a whole number from `min` to `max`. */
export function parseWholeNumber(min: number, max: number): (value: string) => number {
	return (value) => {
		const n = /^\d{1,9}$/.test(value) ? Number(value) : Number.NaN;
		if (!(n >= min && n <= max)) throw new InvalidArgumentError(`Give a whole number from ${min} to ${max}.`);
		return n;
	};
}

/** Parses `--limit`: a whole number from 1 to 1000. */
export const parseLimit = parseWholeNumber(1, 1000);

/** `1 hit`, `2 hits`: a count and a noun, plural unless the count is 1. */
export function plural(count: number, noun: string): string {
	return `${count} ${count === 1 ? noun : `${noun}s`}`;
}

/**
 * A progress line on stderr, redrawn in place at most ten times a second, only when stderr is a terminal.
 * `done()` clears it.
 */
export function progressLine(io: Io): { update(text: string): void; done(): void } {
	if (!io.stderrIsTTY) return { update() {}, done() {} };
	let drawn = 0;
	return {
		update(text) {
			const now = Date.now();
			if (now - drawn < 100) return;
			drawn = now;
			io.err(`\r${text}\x1b[K`);
		},
		done() {
			if (drawn !== 0) io.err("\r\x1b[K");
		},
	};
}

/**
 * Writes each text to `stream` as it comes, waiting for `drain` whenever the stream's buffer is full, so
 * that memory stays bounded however fast the texts come. Throws the stream's error, if it fails.
 */
export async function writeAll(stream: Writable, texts: AsyncIterable<string>): Promise<void> {
	let failure: Error | undefined;
	const onError = (error: Error) => {
		failure ??= error;
	};
	stream.on("error", onError);
	try {
		for await (const text of texts) {
			if (failure !== undefined || stream.destroyed) throw failure ?? new Error("the output was closed");
			if (!stream.write(text)) await once(stream, "drain");
		}
		if (failure !== undefined) throw failure;
	} finally {
		stream.off("error", onError);
	}
}

/** Whether `error` is a write to a reader that went away: `refkit export hits | head` closed stdout early. */
export function isBrokenPipe(error: unknown): boolean {
	return (error as NodeJS.ErrnoException | undefined)?.code === "EPIPE";
}

/**
 * Writes a file through `<path>.partial`, renamed to `path` only once complete: a failure (or an
 * interruption) never leaves a half-written file under the name asked for. The partial file is removed
 * on failure.
 */
export async function writeFileAtomically(
	path: string,
	write: (stream: Writable) => Promise<void>,
): Promise<void> {
	const partial = `${path}.partial`;
	const stream = createWriteStream(partial);
	try {
		await once(stream, "open");
		await write(stream);
		stream.end();
		await finished(stream);
		await rename(partial, path);
	} catch (error) {
		stream.destroy();
		await rm(partial, { force: true });
		throw error;
	}
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

/** `value` with its control characters escaped (`\u001b`), so that it cannot drive the terminal: for text that came from outside. */
export function printable(value: string): string {
	return value.replace(UNSAFE, (c) => `\\u${(c.codePointAt(0) ?? 0).toString(16).padStart(4, "0")}`);
}

/**
 * A value made fit for one table cell: `-` for nothing, control characters escaped (a hit's `next` is
 * whatever a visitor typed, and must not drive the terminal), and cut at {@link MAX_CELL} characters.
 */
export function cell(value: string | Date | null | undefined): string {
	if (value === null || value === undefined || value === "") return "-";
	if (value instanceof Date) return value.toISOString();
	const safe = printable(value);
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
