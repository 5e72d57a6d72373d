import { createRequire } from "node:module";
import { Kysely, PostgresAdapter, PostgresDialect, SqliteAdapter, SqliteDialect } from "kysely";
import { RefkitError } from "../errors.js";
import type { DialectName } from "../types.js";
import type { Database } from "./schema.js";

/**
 * Where refkit keeps its data:
 * - a `postgres://` or `postgresql://` URL;
 * - a SQLite file path, optionally prefixed `sqlite:` or `file:` (`:memory:` for a throwaway database);
 * - your application's own Kysely instance (SQLite or PostgreSQL), which refkit uses and never closes.
 */
// biome-ignore lint/suspicious/noExplicitAny: an application's Kysely instance has its own table types.
export type DatabaseOption = string | Kysely<any>;

export interface OpenedDatabase {
	db: Kysely<Database>;
	dialect: DialectName;
	/** Whether refkit opened the connection, and so closes it in `refkit.close()`. */
	owned: boolean;
}

/** What `DATABASE_URL`-style strings mean: a PostgreSQL URL or a SQLite path. */
export type ParsedDatabaseUrl = { dialect: "postgres"; url: string } | { dialect: "sqlite"; path: string };

export function parseDatabaseUrl(value: string): ParsedDatabaseUrl {
	const url = value.trim();
	if (/^postgres(ql)?:\/\//i.test(url)) return { dialect: "postgres", url };
	const path = url.replace(/^(sqlite|file):(\/\/)?/i, "");
	if (path === "" || /^[a-z][a-z0-9+.-]*:\/\//i.test(path)) {
		throw new RefkitError(
			"INVALID_OPTION",
			`refkit: cannot use the database ${JSON.stringify(value)}. Give a postgres:// or postgresql:// URL, or a SQLite file path such as ./refkit.sqlite.`,
		);
	}
	return { dialect: "sqlite", path };
}

const requireDriver = createRequire(import.meta.url);

function loadDriver<T>(name: string, dialect: string): T {
	try {
		return requireDriver(name) as T;
	} catch (error) {
		throw new RefkitError(
			"MISSING_DRIVER",
			`refkit: ${dialect} needs the "${name}" package. Install it with \`npm install ${name}\`.`,
			{ cause: error },
		);
	}
}

interface BetterSqlite3Database {
	pragma(source: string): unknown;
	close(): void;
}
type BetterSqlite3 = new (path: string) => BetterSqlite3Database;

interface PgPool {
	on(event: "error", listener: (error: Error) => void): unknown;
	end(): Promise<void>;
}
type Pg = { Pool: new (config: Record<string, unknown>) => PgPool };

/** Connection settings that keep a visitor's request short when PostgreSQL is slow or gone. */
export const POSTGRES_POOL_DEFAULTS = {
	max: 10,
	connectionTimeoutMillis: 3000,
	idleTimeoutMillis: 30_000,
} as const;

function openSqlite(path: string): Kysely<Database> {
	const Database = loadDriver<BetterSqlite3>("better-sqlite3", "SQLite");
	let database: BetterSqlite3Database;
	try {
		database = new Database(path);
		if (path !== ":memory:") database.pragma("journal_mode = WAL");
		// NORMAL in WAL mode: a committed hit survives a crash of the application; see the README.
		database.pragma("synchronous = NORMAL");
		database.pragma("busy_timeout = 5000");
		database.pragma("foreign_keys = ON");
	} catch (error) {
		throw new RefkitError(
			"STORE_UNAVAILABLE",
			`refkit: cannot open the SQLite database ${JSON.stringify(path)}: ${(error as Error).message}`,
			{ cause: error },
		);
	}
	// biome-ignore lint/suspicious/noExplicitAny: better-sqlite3's instance matches Kysely's SqliteDatabase.
	return new Kysely<Database>({ dialect: new SqliteDialect({ database: database as any }) });
}

function openPostgres(url: string, onPoolError: (error: Error) => void): Kysely<Database> {
	const pg = loadDriver<Pg>("pg", "PostgreSQL");
	const pool = new pg.Pool({ connectionString: url, ...POSTGRES_POOL_DEFAULTS });
	// An idle connection that breaks (a restarted server) must not crash the application.
	pool.on("error", onPoolError);
	// biome-ignore lint/suspicious/noExplicitAny: pg's Pool matches Kysely's PostgresPool.
	return new Kysely<Database>({ dialect: new PostgresDialect({ pool: pool as any }) });
}

function dialectOf(db: Kysely<unknown>): DialectName {
	const adapter = db.getExecutor().adapter;
	const name = adapter.constructor.name;
	if (adapter instanceof SqliteAdapter || name === "SqliteAdapter") return "sqlite";
	if (adapter instanceof PostgresAdapter || name === "PostgresAdapter") return "postgres";
	throw new RefkitError(
		"INVALID_OPTION",
		`refkit: options.database is a Kysely instance for a dialect refkit does not support (${name}). Use SQLite or PostgreSQL.`,
	);
}

function isKysely(value: unknown): value is Kysely<unknown> {
	// instanceof fails when the application's Kysely is another copy of the package.
	return (
		value instanceof Kysely ||
		(typeof value === "object" &&
			value !== null &&
			typeof (value as Kysely<unknown>).getExecutor === "function" &&
			typeof (value as Kysely<unknown>).selectFrom === "function")
	);
}

/** Opens (or adopts) the database refkit will use. Never queries it. */
export function openDatabase(database: DatabaseOption, onPoolError: (error: Error) => void): OpenedDatabase {
	if (isKysely(database)) {
		return { db: database as Kysely<Database>, dialect: dialectOf(database), owned: false };
	}
	if (typeof database !== "string") {
		throw new RefkitError(
			"INVALID_OPTION",
			"refkit: options.database must be a postgres:// URL, a SQLite file path or a Kysely instance.",
		);
	}
	const parsed = parseDatabaseUrl(database);
	return parsed.dialect === "postgres"
		? { db: openPostgres(parsed.url, onPoolError), dialect: "postgres", owned: true }
		: { db: openSqlite(parsed.path), dialect: "sqlite", owned: true };
}
