import {
	Kysely,
	PostgresAdapter,
	PostgresDialect,
	type PostgresPool,
	type PostgresPoolClient,
	SqliteAdapter,
	type SqliteDatabase,
	SqliteDialect,
	type SqliteStatement,
} from "kysely";
import { redactCredentials } from "../core/redact.js";
import { RefkitError } from "../errors.js";
import type { DialectName } from "../types.js";
import { FALLBACK_AUTOCHECKPOINT_PAGES, LOG_SIZE_LIMIT_BYTES, startCheckpointer } from "./checkpointer.js";
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
	/**
	 * For the queries of visitors' requests, when they need other settings: on refkit's own PostgreSQL pool,
	 * the same pool with {@link VISITOR_QUERY_TIMEOUT_MS}. Otherwise `db` serves them too.
	 */
	visitorDb?: Kysely<Database>;
	dialect: DialectName;
	/** Whether refkit opened the connection, and so closes it in `refkit.close()`. */
	owned: boolean;
	/** Closes what refkit opened, when destroying `db` is not enough; `db.destroy()` otherwise. */
	close?: () => Promise<void>;
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
			`refkit: cannot use the database ${JSON.stringify(redactCredentials(value))}. Give a postgres:// or postgresql:// URL, or a SQLite file path such as ./refkit.sqlite.`,
		);
	}
	return { dialect: "sqlite", path };
}

/**
 * Imports a database driver the first time refkit needs it, by a name bundlers leave alone: webpack and
 * Turbopack (Next.js) are told to by the comments, and esbuild keeps an `import()` of a variable. Node.js then
 * resolves the driver at run time from the application's own `node_modules`, instead of a bundler failing on
 * a native module or on the driver the application did not install. Each name is a constant, which tools
 * that trace a build's files (Next.js's standalone output, Vercel) can still follow.
 */
const SQLITE_DRIVER = "better-sqlite3";
const POSTGRES_DRIVER = "pg";
const DRIVERS = {
	"better-sqlite3": () =>
		import(/* webpackIgnore: true */ /* turbopackIgnore: true */ SQLITE_DRIVER).catch(
			missing(SQLITE_DRIVER, "SQLite"),
		),
	pg: () =>
		import(/* webpackIgnore: true */ /* turbopackIgnore: true */ POSTGRES_DRIVER).catch(
			missing(POSTGRES_DRIVER, "PostgreSQL"),
		),
};

/** The error of a driver that cannot be imported. */
function missing(name: string, dialect: string): (error: unknown) => never {
	return (error) => {
		throw new RefkitError(
			"MISSING_DRIVER",
			`refkit: ${dialect} needs the "${name}" package. Install it with \`npm install ${name}\`.`,
			{ cause: error },
		);
	};
}

async function loadDriver<T>(name: keyof typeof DRIVERS): Promise<T> {
	const module = (await DRIVERS[name]()) as { default?: unknown };
	// Both drivers are CommonJS: their exports are the default export.
	return (module.default ?? module) as T;
}

interface BetterSqlite3Database {
	pragma(source: string): unknown;
	prepare(source: string): SqliteStatement;
	close(): void;
}
type BetterSqlite3 = new (path: string) => BetterSqlite3Database;

interface PgClient {
	query(text: unknown, values?: unknown): unknown;
	on(event: "error", listener: (error: Error) => void): unknown;
	removeListener(event: "error", listener: (error: Error) => void): unknown;
	/** pg-pool's release: a truthy argument closes the connection instead of pooling it. */
	release(destroy?: boolean): void;
}
interface PgPool {
	connect(): Promise<PgClient>;
	on(event: "error", listener: (error: Error) => void): unknown;
	end(): Promise<void>;
}
type Pg = {
	Pool: new (config: Record<string, unknown>) => PgPool;
	/** An error PostgreSQL itself sent: the connection is still good. */
	DatabaseError?: new (
		...args: never[]
	) => Error;
};

/**
 * Connection settings. Connecting, or waiting for a free connection, fails after 3 s. Queries have no time
 * limit of their own (a migration or an export may take minutes), except those of a visitor's request: see
 * {@link VISITOR_QUERY_TIMEOUT_MS}.
 */
export const POSTGRES_POOL_DEFAULTS = {
	max: 10,
	connectionTimeoutMillis: 3000,
	idleTimeoutMillis: 30_000,
} as const;

/**
 * The time limit of each query a visitor's request starts (pg's client-side `query_timeout`), in milliseconds.
 * The visitor stops waiting long before (after 1.5 s); this limit frees the connection of a server that hung
 * or vanished without closing it, so that the pool can reconnect.
 */
export const VISITOR_QUERY_TIMEOUT_MS = 10_000;

/**
 * SQLite, opened on the first query rather than here: creating a refkit (at import time, during a framework's
 * build) neither loads the driver nor touches the file.
 */
function openSqlite(path: string): OpenedDatabase {
	let closed = false;
	const database = async () => {
		if (closed) throw closedError();
		return connectSqlite(path);
	};
	const db = new Kysely<Database>({ dialect: new SqliteDialect({ database }) });
	return {
		db,
		dialect: "sqlite",
		owned: true,
		close: async () => {
			closed = true; // a query after close() must not open the file again
			await db.destroy();
		},
	};
}

/** What a query of a closed refkit throws: closing is for good, and opens nothing again. */
function closedError(): RefkitError {
	return new RefkitError("STORE_UNAVAILABLE", "refkit: this refkit was closed; create another to go on.");
}

async function connectSqlite(path: string): Promise<SqliteDatabase> {
	const Database = await loadDriver<BetterSqlite3>("better-sqlite3");
	let database: BetterSqlite3Database;
	let stopCheckpointer = () => {};
	try {
		database = new Database(path);
		if (path !== ":memory:") database.pragma("journal_mode = WAL");
		// NORMAL in WAL mode: a committed hit survives a crash of the application; see the README.
		database.pragma("synchronous = NORMAL");
		database.pragma("busy_timeout = 5000");
		database.pragma("foreign_keys = ON");
		if (path !== ":memory:") {
			stopCheckpointer = startCheckpointer(path);
			database.pragma(`wal_autocheckpoint = ${FALLBACK_AUTOCHECKPOINT_PAGES}`);
			// When the log starts over, its file shrinks back to this size (SQLite keeps it at its largest).
			database.pragma(`journal_size_limit = ${LOG_SIZE_LIMIT_BYTES}`);
		}
	} catch (error) {
		throw new RefkitError(
			"STORE_UNAVAILABLE",
			`refkit: cannot open the SQLite database ${JSON.stringify(path)}: ${(error as Error).message}`,
			{ cause: error },
		);
	}
	return reusingStatements(database, () => stopCheckpointer());
}

/** How many prepared statements an SQLite database keeps for reuse. */
const STATEMENT_CACHE_SIZE = 200;

/**
 * The database as Kysely sees it, preparing each SQL text once: Kysely prepares every query it runs, and on a
 * follow preparing costs about as much as running. Safe because refkit never iterates a statement (a
 * statement busy in an iteration could not run again). The least recently prepared statement goes first.
 */
function reusingStatements(database: BetterSqlite3Database, onClose: () => void): SqliteDatabase {
	const statements = new Map<string, SqliteStatement>();
	return {
		prepare(source: string): SqliteStatement {
			let statement = statements.get(source);
			if (statement === undefined) {
				statement = database.prepare(source);
				if (statements.size >= STATEMENT_CACHE_SIZE)
					statements.delete(statements.keys().next().value as string);
			} else {
				statements.delete(source);
			}
			statements.set(source, statement);
			return statement;
		},
		close: () => {
			onClose();
			database.close();
		},
	};
}

/**
 * PostgreSQL: one pool shared by two Kysely instances (see {@link OpenedDatabase.visitorDb}), made on the first
 * query. `close()` ends it once, whichever of the two made it.
 */
function openPostgres(url: string, onPoolError: (error: Error) => void): OpenedDatabase {
	let shared: Promise<{ pool: PgPool; pg: Pg }> | undefined;
	let closed = false;
	const connect = () => {
		if (closed) return Promise.reject(closedError());
		shared ??= loadDriver<Pg>("pg").then(
			(pg) => {
				const pool = new pg.Pool({ connectionString: url, ...POSTGRES_POOL_DEFAULTS });
				// An idle connection that breaks (a restarted server) must not crash the application; the pool drops it.
				pool.on("error", onPoolError);
				return { pool, pg };
			},
			(error: unknown) => {
				shared = undefined; // a driver installed later is found by the next query
				throw error;
			},
		);
		return shared;
	};
	const on = (queryTimeout: number | undefined) =>
		new Kysely<Database>({
			dialect: new PostgresDialect({
				pool: async () => {
					const { pool, pg } = await connect();
					return resilientPool(pool, pg, queryTimeout);
				},
			}),
		});
	const db = on(undefined);
	const visitorDb = on(VISITOR_QUERY_TIMEOUT_MS);
	return {
		db,
		visitorDb,
		dialect: "postgres",
		owned: true,
		close: async () => {
			closed = true; // a query after close() must not make a new pool
			await Promise.all([db.destroy(), visitorDb.destroy()]);
			const opened = await shared?.catch(() => undefined);
			shared = undefined;
			await opened?.pool.end();
		},
	};
}

/**
 * The pool as Kysely sees it, made to survive an outage:
 * - pg-pool listens for errors of idle connections only, so a connection that broke while checked out (the
 *   server stopped between two queries) would emit an unhandled `'error'` and crash the process: here its
 *   queries fail (and are reported) instead;
 * - a connection that broke, or whose query failed without an answer from PostgreSQL (a timeout, a reset), is
 *   closed rather than pooled again, so after a restarted or hung server the pool reconnects;
 * - each query gets `queryTimeout` (pg's client-side `query_timeout`), if given.
 */
function resilientPool(pool: PgPool, pg: Pg, queryTimeout: number | undefined): PostgresPool {
	const answeredByServer = (error: unknown) =>
		pg.DatabaseError !== undefined && error instanceof pg.DatabaseError;
	return {
		async connect() {
			const client = await pool.connect();
			let broken = false;
			const onError = () => {
				broken = true;
			};
			client.on("error", onError);
			const query = (text: unknown, values?: unknown): unknown => {
				if (typeof text !== "string") return client.query(text, values); // a cursor
				const running = client.query(
					queryTimeout === undefined ? text : { text, values, query_timeout: queryTimeout },
					queryTimeout === undefined ? values : undefined,
				) as Promise<unknown>;
				return running.catch((error: unknown) => {
					if (!answeredByServer(error)) broken = true;
					throw error;
				});
			};
			return {
				query,
				release: () => {
					client.removeListener("error", onError);
					client.release(broken);
				},
			} as unknown as PostgresPoolClient;
		},
		// The shared pool is ended once, by the opened database's `close()`.
		end: async () => {},
	};
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
	return parsed.dialect === "postgres" ? openPostgres(parsed.url, onPoolError) : openSqlite(parsed.path);
}
