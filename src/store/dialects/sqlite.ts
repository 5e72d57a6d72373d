import {
	Kysely,
	SqliteAdapter,
	type SqliteDatabase,
	SqliteDialect,
	SqliteIntrospector,
	SqliteQueryCompiler,
	type SqliteStatement,
	sql,
} from "kysely";
import { RefkitError } from "../../errors.js";
import { FALLBACK_AUTOCHECKPOINT_PAGES, LOG_SIZE_LIMIT_BYTES, startCheckpointer } from "../checkpointer.js";
import { type Dialect, errorField, type OpenedDatabase } from "../dialect.js";
import { closedError, loadDriver } from "../driver.js";
import type { Database } from "../schema.js";

/**
 * The driver's name, a constant that bundlers leave alone (see the comments of its `import()`) and that tools
 * tracing a build's files (Next.js's standalone output, Vercel) can still follow.
 */
const SQLITE_DRIVER = "better-sqlite3";

interface BetterSqlite3Database {
	pragma(source: string): unknown;
	prepare(source: string): SqliteStatement;
	close(): void;
}
type BetterSqlite3 = new (path: string) => BetterSqlite3Database;

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

async function connectSqlite(path: string): Promise<SqliteDatabase> {
	const Database = await loadDriver<BetterSqlite3>(
		SQLITE_DRIVER,
		"SQLite",
		() => import(/* webpackIgnore: true */ /* turbopackIgnore: true */ SQLITE_DRIVER),
	);
	let database: BetterSqlite3Database;
	let stopCheckpointer = () => {};
	try {
		database = new Database(path);
		if (path !== ":memory:") database.pragma("journal_mode = WAL");
		// NORMAL in WAL mode: a committed hit survives a crash of the application; see docs/storage.md.
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

/** SQLite: a file (better-sqlite3, in WAL mode), or `:memory:`. Its write transactions take turns. */
export const sqlite: Dialect = {
	name: "sqlite",

	/** A file path, optionally prefixed `sqlite:` or `file:`: anything but another scheme's URL. */
	target(value) {
		const path = value.trim().replace(/^(sqlite|file):(\/\/)?/i, "");
		return path === "" || /^[a-z][a-z0-9+.-]*:\/\//i.test(path) ? null : path;
	},
	open: (path) => openSqlite(path),
	owns: (db) => {
		const adapter = db.getExecutor().adapter;
		// By name too: instanceof fails when the application's Kysely is another copy of the package.
		return adapter instanceof SqliteAdapter || adapter.constructor.name === "SqliteAdapter";
	},

	bool: (value) => (value ? 1 : 0),
	isUniqueViolation: (error) =>
		errorField(error, "code") === "SQLITE_CONSTRAINT_UNIQUE" ||
		errorField(error, "code") === "SQLITE_CONSTRAINT_PRIMARYKEY",
	isMissingTable: (error) => /no such table: refkit_/.test(String(errorField(error, "message"))),
	// Busy or locked past busy_timeout, or the file could not be read, written or opened.
	isUnavailable: (error) =>
		/^SQLITE_(BUSY|LOCKED|IOERR|FULL|CANTOPEN|PROTOCOL)/.test(String(errorField(error, "code"))),
	binaryOrder: (column) => sql<string>`${sql.ref(column)}`,
	// Times are ISO-8601 text in UTC.
	utcDay: (column) => sql<string>`substr(${sql.ref(column)}, 1, 10)`,
	exactTime: (column) => sql<string>`${sql.ref(column)}`,
	isAnyOf: (column, ids) =>
		sql<boolean>`${sql.ref(column)} in (select value from json_each(${JSON.stringify(ids)}))`,

	transaction: (db, work) =>
		db.connection().execute(async (connection) => {
			await sql`begin immediate`.execute(connection);
			let result: Awaited<ReturnType<typeof work>>;
			try {
				result = await work(connection);
			} catch (error) {
				await sql`rollback`.execute(connection);
				throw error;
			}
			await sql`commit`.execute(connection);
			return result;
		}),
	// BEGIN IMMEDIATE takes the one write lock: transactions that write take turns already.
	lockName: async () => {},
	lockNames: async () => {},
	lockRange: async () => {},

	beginMigrations: async (connection) => {
		await sql`begin immediate`.execute(connection);
	},
	Adapter: SqliteAdapter,
	queryCompiler: () => new SqliteQueryCompiler(),
	introspector: (db) => new SqliteIntrospector(db),
};
