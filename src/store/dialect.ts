import type { DatabaseIntrospector, DialectAdapter, Kysely, QueryCompiler, RawBuilder } from "kysely";
import type { DialectName } from "../types.js";
import type { Database } from "./schema.js";

/** A database refkit opened (or was given), as the store uses it. */
export interface OpenedDatabase {
	db: Kysely<Database>;
	/**
	 * For the queries of visitors' requests, when they need other settings: on refkit's own PostgreSQL pool,
	 * the same pool with a time limit per query (see src/store/dialects/postgres.ts). Otherwise `db` serves
	 * them too.
	 */
	visitorDb?: Kysely<Database>;
	dialect: DialectName;
	/** Whether refkit opened the connection, and so closes it in `refkit.close()`. */
	owned: boolean;
	/** Closes what refkit opened, when destroying `db` is not enough; `db.destroy()` otherwise. */
	close?: () => Promise<void>;
}

/**
 * Everything in which one database differs from another, so that the rest of the store writes one query for
 * all: each database refkit supports is a module of src/store/dialects/ implementing this, listed in
 * src/store/dialects.ts. Supporting another database means adding such a module (and its branch in each
 * migration), not editing the store's aggregates.
 */
export interface Dialect {
	name: DialectName;

	/** The location this database opens from a `DATABASE_URL`-style string, or `null` when it is not one of its. */
	target(value: string): string | null;
	/**
	 * Opens the database at `target` (from {@link Dialect.target}) without querying it: the driver is loaded
	 * and the connection made on the first query.
	 */
	open(target: string, onPoolError: (error: Error) => void): OpenedDatabase;
	/** Whether an application's own Kysely instance speaks this dialect. */
	owns(db: Kysely<unknown>): boolean;

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
	 * A time column as text that orders and compares like the column, to the precision it is stored at: what a
	 * keyset pagination resumes after (a JavaScript Date would cut a time to the millisecond, and repeat or
	 * skip rows).
	 */
	exactTime(column: string): RawBuilder<string>;
	/**
	 * Whether an integer column is one of `ids`, with a single bound parameter however many they are (an
	 * `in (...)` list costs a parameter each, and a limit on how many).
	 */
	isAnyOf(column: string, ids: number[]): RawBuilder<boolean>;

	/**
	 * Runs `work` in one write transaction on `db`: committed if it resolves, rolled back if it throws (its
	 * error passes through). Writers must never deadlock on upgrading a read lock: SQLite takes the write lock
	 * at once (`BEGIN IMMEDIATE`).
	 */
	transaction<T>(db: Kysely<Database>, work: (tx: Kysely<Database>) => Promise<T>): Promise<T>;
	/**
	 * Within a transaction, waits until no other transaction holds the lock (`key`, `name`) and takes it until
	 * this one ends. A database whose write transactions take turns anyway (SQLite) does nothing.
	 */
	lockName(tx: Kysely<Database>, key: number, name: string): Promise<void>;
	/**
	 * Likewise for several names at once, taken in one statement in a fixed order (sorted by their hash), so
	 * that two transactions taking overlapping sets never wait for each other in a circle.
	 */
	lockNames(tx: Kysely<Database>, key: number, names: readonly string[]): Promise<void>;
	/**
	 * Likewise for the locks (`key`, `first`) to (`key`, `last`), taken in that order; writers take the same
	 * locks shared, in the same order, in the triggers of migration 0005.
	 */
	lockRange(tx: Kysely<Database>, key: number, first: number, last: number): Promise<void>;

	/**
	 * Begins the one transaction in which migrations run, on one connection, and makes any other process that
	 * migrates wait for it to end.
	 */
	beginMigrations(connection: Kysely<unknown>): Promise<void>;
	/** What Kysely's Migrator needs of the dialect, given the connection the migrations run on. */
	Adapter: new () => DialectAdapter;
	queryCompiler(): QueryCompiler;
	introspector(db: Kysely<unknown>): DatabaseIntrospector;
}

/** A property of an error object, if it has one: drivers' errors carry their codes as properties. */
export function errorField(error: unknown, key: string): unknown {
	return typeof error === "object" && error !== null ? (error as Record<string, unknown>)[key] : undefined;
}
