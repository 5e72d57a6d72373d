import {
	Kysely,
	PostgresAdapter,
	PostgresDialect,
	PostgresIntrospector,
	type PostgresPool,
	type PostgresPoolClient,
	PostgresQueryCompiler,
	sql,
} from "kysely";
import { type Dialect, errorField, type OpenedDatabase } from "../dialect.js";
import { closedError, loadDriver } from "../driver.js";
import type { Database } from "../schema.js";

/**
 * The driver's name, a constant that bundlers leave alone (see the comments of its `import()`) and that tools
 * tracing a build's files (Next.js's standalone output, Vercel) can still follow.
 */
const POSTGRES_DRIVER = "pg";

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
 * PostgreSQL: one pool shared by two Kysely instances (see {@link OpenedDatabase.visitorDb}), made on the first
 * query. `close()` ends it once, whichever of the two made it.
 */
function openPostgres(url: string, onPoolError: (error: Error) => void): OpenedDatabase {
	let shared: Promise<{ pool: PgPool; pg: Pg }> | undefined;
	let closed = false;
	const connect = () => {
		if (closed) return Promise.reject(closedError());
		shared ??= loadDriver<Pg>(
			POSTGRES_DRIVER,
			"PostgreSQL",
			() => import(/* webpackIgnore: true */ /* turbopackIgnore: true */ POSTGRES_DRIVER),
		).then(
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

/** Node's codes for a connection that could not be made or broke (ECONNREFUSED, ECONNRESET, ETIMEDOUT...). */
const NETWORK_CODE = /^E(CONN|PIPE|TIMEDOUT|HOSTUNREACH|NETUNREACH|NETDOWN|NOTFOUND|AI_AGAIN)/;

/**
 * node-postgres's own errors, which carry no code: a connection that ended or timed out, a pool that could
 * not give one in time, a query that got no answer in time.
 */
const PG_CONNECTION_MESSAGE =
	/Connection terminated|timeout exceeded when trying to connect|Query read timeout|connection error|Connection ended/i;

/**
 * Kysely's own key for its PostgreSQL migration lock. refkit takes the same key, transaction-scoped, so that a
 * process still running an older refkit (which took it session-scoped through Kysely) and this one never
 * migrate at the same time.
 */
const POSTGRES_MIGRATION_LOCK = 3853314791062309107n;

/** PostgreSQL (pg): refkit's own pool from a URL, or an application's Kysely instance. */
export const postgres: Dialect = {
	name: "postgres",

	target: (value) => {
		const url = value.trim();
		return /^postgres(ql)?:\/\//i.test(url) ? url : null;
	},
	open: (url, onPoolError) => openPostgres(url, onPoolError),
	owns: (db) => {
		const adapter = db.getExecutor().adapter;
		// By name too: instanceof fails when the application's Kysely is another copy of the package.
		return adapter instanceof PostgresAdapter || adapter.constructor.name === "PostgresAdapter";
	},

	bool: (value) => value,
	isUniqueViolation: (error) => errorField(error, "code") === "23505",
	isMissingTable: (error) =>
		errorField(error, "code") === "42P01" && /refkit_/.test(String(errorField(error, "message"))),
	isUnavailable: (error) => {
		const code = errorField(error, "code");
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
	// To the microsecond, as timestamptz keeps it.
	exactTime: (column) =>
		sql<string>`to_char(${sql.ref(column)} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`,
	isAnyOf: (column, ids) => sql<boolean>`${sql.ref(column)} = any(${ids}::int[])`,

	transaction: (db, work) => db.transaction().execute(work),
	lockName: async (tx, key, name) => {
		await sql`select pg_advisory_xact_lock(${key}, hashtext(${name}))`.execute(tx);
	},
	lockNames: async (tx, key, names) => {
		if (names.length === 0) return;
		await sql`select pg_advisory_xact_lock(${key}, l.h) from (select distinct hashtext(n) as h from unnest(${[...names]}::text[]) as n order by h) as l`.execute(
			tx,
		);
	},
	lockRange: async (tx, key, first, last) => {
		await sql`select pg_advisory_xact_lock(${key}, d) from generate_series(${first}::int, ${last}::int) as d`.execute(
			tx,
		);
	},

	// A transaction-scoped advisory lock, released by the commit or rollback on the connection that took it.
	// Kysely's session-scoped lock is never taken: behind a transaction pooler (PgBouncer, pgcat, Supavisor,
	// RDS Proxy) its unlock may run on another server connection and leave the lock held by a pooled one.
	beginMigrations: async (connection) => {
		await sql`begin`.execute(connection);
		await sql`select pg_advisory_xact_lock(${sql.lit(POSTGRES_MIGRATION_LOCK)})`.execute(connection);
	},
	Adapter: PostgresAdapter,
	queryCompiler: () => new PostgresQueryCompiler(),
	introspector: (db) => new PostgresIntrospector(db),
};
