import { type RawBuilder, sql } from "kysely";
import type { DialectName } from "../types.js";

/** The few places where SQLite and PostgreSQL differ, all in one file. */
export interface DialectHelpers {
	name: DialectName;
	/** A boolean as the database stores it. */
	bool(value: boolean): boolean | number;
	/** Whether `error` is a unique-constraint violation. */
	isUniqueViolation(error: unknown): boolean;
	/** Whether `error` says one of refkit's tables does not exist. */
	isMissingTable(error: unknown): boolean;
	/**
	 * Whether `error` says the database could not run a statement for now (unreachable, restarting, busy,
	 * timed out, out of connections), so that the same statement is worth running again later. Any other
	 * error (a refused value, a missing table, a bug) is not: retrying it would wait forever.
	 */
	isUnavailable(error: unknown): boolean;
	/** A text column to sort by byte value, so that both databases order ids alike (collations may not). */
	binaryOrder(column: string): RawBuilder<string>;
	/**
	 * The UTC day of a time column as `YYYY-MM-DD` text, computed by the database: far cheaper than reading
	 * the time (pg parses each timestamptz in JavaScript, at about 5 µs).
	 */
	utcDay(column: string): RawBuilder<string>;
	/**
	 * Whether an integer column is one of `ids`, with a single bound parameter however many they are (an
	 * `in (...)` list costs a parameter each, and a limit on how many).
	 */
	isAnyOf(column: string, ids: number[]): RawBuilder<boolean>;
}

function field(error: unknown, key: string): unknown {
	return typeof error === "object" && error !== null ? (error as Record<string, unknown>)[key] : undefined;
}

/** Node's codes for a connection that could not be made or broke (ECONNREFUSED, ECONNRESET, ETIMEDOUT...). */
const NETWORK_CODE = /^E(CONN|PIPE|TIMEDOUT|HOSTUNREACH|NETUNREACH|NETDOWN|NOTFOUND|AI_AGAIN)/;

/**
 * node-postgres's own errors, which carry no code: a connection that ended or timed out, a pool that could
 * not give one in time, a query that got no answer in time.
 */
const PG_CONNECTION_MESSAGE =
	/Connection terminated|timeout exceeded when trying to connect|Query read timeout|connection error|Connection ended/i;

const sqlite: DialectHelpers = {
	name: "sqlite",
	bool: (value) => (value ? 1 : 0),
	isUniqueViolation: (error) =>
		field(error, "code") === "SQLITE_CONSTRAINT_UNIQUE" ||
		field(error, "code") === "SQLITE_CONSTRAINT_PRIMARYKEY",
	isMissingTable: (error) => /no such table: refkit_/.test(String(field(error, "message"))),
	// Busy or locked past busy_timeout, or the file could not be read, written or opened.
	isUnavailable: (error) =>
		/^SQLITE_(BUSY|LOCKED|IOERR|FULL|CANTOPEN|PROTOCOL)/.test(String(field(error, "code"))),
	binaryOrder: (column) => sql<string>`${sql.ref(column)}`,
	// Times are ISO-8601 text in UTC.
	utcDay: (column) => sql<string>`substr(${sql.ref(column)}, 1, 10)`,
	isAnyOf: (column, ids) =>
		sql<boolean>`${sql.ref(column)} in (select value from json_each(${JSON.stringify(ids)}))`,
};

const postgres: DialectHelpers = {
	name: "postgres",
	bool: (value) => value,
	isUniqueViolation: (error) => field(error, "code") === "23505",
	isMissingTable: (error) =>
		field(error, "code") === "42P01" && /refkit_/.test(String(field(error, "message"))),
	isUnavailable: (error) => {
		const code = field(error, "code");
		if (typeof code !== "string") {
			return error instanceof Error && PG_CONNECTION_MESSAGE.test(error.message);
		}
		// SQLSTATE 08 (connection), 53 (out of connections, memory or disk), 57P01-57P03 (shutting down,
		// starting up), 57014 (a statement timeout), 40001 and 40P01 (a serialization failure, a deadlock),
		// 55P03 (a lock not available), 58 (an I/O error); or a network error of Node's.
		return /^(08|53|57P0[123]|57014|40001|40P01|55P03|58)/.test(code) || NETWORK_CODE.test(code);
	},
	binaryOrder: (column) => sql<string>`${sql.ref(column)} collate "C"`,
	utcDay: (column) => sql<string>`to_char(${sql.ref(column)} at time zone 'UTC', 'YYYY-MM-DD')`,
	isAnyOf: (column, ids) => sql<boolean>`${sql.ref(column)} = any(${ids}::int[])`,
};

export function dialectHelpers(name: DialectName): DialectHelpers {
	return name === "sqlite" ? sqlite : postgres;
}

/** A time as refkit writes it to either database. */
export function toDbTime(date: Date): string {
	return date.toISOString();
}

/** A time as read back from either database. */
export function fromDbTime(value: Date | string): Date {
	return value instanceof Date ? value : new Date(value);
}

/**
 * A LIKE pattern matching any text that contains `text`, with LIKE's own characters (`%`, `_`) and the escape
 * character (a backslash) escaped: use it with `escape` and a backslash.
 */
export function containsPattern(text: string): string {
	return `%${text.replace(/[\\%_]/g, "\\$&")}%`;
}

/** Whether `column` contains `text`, ignoring case; the same SQL on both databases. */
export function containsIgnoringCase(column: string, text: string): RawBuilder<boolean> {
	return sql<boolean>`lower(${sql.ref(column)}) like lower(${containsPattern(text)}) escape '\\'`;
}
