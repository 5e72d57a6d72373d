import {
	type CompiledQuery,
	type DatabaseConnection,
	Kysely,
	type MigrationProvider,
	Migrator,
	sql,
} from "kysely";
import { isRefkitError, RefkitError } from "../errors.js";
import type { DialectName, MigrationResult } from "../types.js";
import type { Dialect } from "./dialect.js";
import { m0001Initial } from "./migrations/0001-initial.js";
import { m0002Conversions } from "./migrations/0002-conversions.js";
import { m0003StatsIndexes } from "./migrations/0003-stats-indexes.js";
import { m0004StatsDays } from "./migrations/0004-stats-days.js";
import { m0005StatsPartialDays } from "./migrations/0005-stats-partial-days.js";
import { m0006StatsWeeks } from "./migrations/0006-stats-weeks.js";
import { m0007PartialHitIndexes } from "./migrations/0007-partial-hit-indexes.js";
import { m0008BrowserIds } from "./migrations/0008-browser-ids.js";
import { m0009Programs } from "./migrations/0009-programs.js";
import { m0010Billing } from "./migrations/0010-billing.js";

/** refkit keeps its own migration bookkeeping, so a host application's Kysely migrations are never touched. */
export const MIGRATION_TABLE = "refkit_migration";
export const MIGRATION_LOCK_TABLE = "refkit_migration_lock";

function provider(dialect: DialectName): MigrationProvider {
	return {
		getMigrations: async () => ({
			"0001-initial": m0001Initial(dialect),
			"0002-conversions": m0002Conversions(dialect),
			"0003-stats-indexes": m0003StatsIndexes(dialect),
			"0004-stats-days": m0004StatsDays(dialect),
			"0005-stats-partial-days": m0005StatsPartialDays(dialect),
			"0006-stats-weeks": m0006StatsWeeks(dialect),
			"0007-partial-hit-indexes": m0007PartialHitIndexes(dialect),
			"0008-browser-ids": m0008BrowserIds(),
			"0009-programs": m0009Programs(dialect),
			"0010-billing": m0010Billing(dialect),
		}),
	};
}

async function runMigrator(db: Kysely<unknown>, dialect: DialectName): Promise<MigrationResult[]> {
	const migrator = new Migrator({
		db,
		provider: provider(dialect),
		migrationTableName: MIGRATION_TABLE,
		migrationLockTableName: MIGRATION_LOCK_TABLE,
		// The caller already holds the transaction and its lock (see migrateToLatest).
		disableTransactions: true,
	});
	const { error, results = [] } = await migrator.migrateToLatest();
	if (error) {
		// The driver is missing, or the database could not be opened: already said well.
		if (isRefkitError(error)) throw error;
		const failed = results.find((result) => result.status === "Error");
		const detail = error instanceof Error ? error.message : String(error);
		// No migration ran: the database could not be reached or locked, which is not a migration's fault.
		if (failed === undefined) {
			throw new RefkitError("STORE_UNAVAILABLE", `refkit: could not migrate the database: ${detail}`, {
				cause: error,
			});
		}
		throw new RefkitError(
			"MIGRATION_FAILED",
			`refkit: migration "${failed.migrationName}" failed: ${detail}`,
			{
				cause: error,
			},
		);
	}
	return results.map(({ migrationName, direction, status }) => ({ migrationName, direction, status }));
}

/**
 * Brings refkit's tables up to date, in one transaction: everything or nothing, and safe to run from several
 * processes at once, which wait for each other and then find nothing left to do: the dialect begins the
 * transaction so that other processes wait (see {@link Dialect.beginMigrations}: on PostgreSQL a
 * transaction-scoped advisory lock, on SQLite `BEGIN IMMEDIATE`). Throws `MIGRATION_FAILED` with the
 * database's error as `cause`.
 */
export async function migrateToLatest(db: Kysely<unknown>, dialect: Dialect): Promise<MigrationResult[]> {
	return db.connection().execute(async (connection) => {
		try {
			await dialect.beginMigrations(connection);
			const results = await runMigrator(inTransaction(connection, dialect), dialect.name);
			await sql`commit`.execute(connection);
			return results;
		} catch (error) {
			await sql`rollback`.execute(connection).catch(() => {});
			throw error;
		}
	});
}

/**
 * A Kysely instance that runs every query on `connection`, already in refkit's migration transaction, for
 * Kysely's Migrator: its adapter takes no lock of its own (the transaction holds refkit's), and it opens no
 * transaction of its own (the Migrator is told so).
 */
function inTransaction(connection: Kysely<unknown>, dialect: Dialect): Kysely<unknown> {
	class HeldLockAdapter extends dialect.Adapter {
		override async acquireMigrationLock(): Promise<void> {}
		override async releaseMigrationLock(): Promise<void> {}
	}
	const single: DatabaseConnection = {
		executeQuery: <R>(query: CompiledQuery) => connection.executeQuery<R>(query as CompiledQuery<R>),
		streamQuery: () => {
			throw new Error("refkit: migrations do not stream");
		},
	};
	const nested = async (): Promise<never> => {
		throw new Error("refkit: migrations run in refkit's own transaction");
	};
	return new Kysely<unknown>({
		dialect: {
			createAdapter: () => new HeldLockAdapter(),
			createDriver: () => ({
				init: async () => {},
				acquireConnection: async () => single,
				beginTransaction: nested,
				commitTransaction: nested,
				rollbackTransaction: nested,
				releaseConnection: async () => {},
				destroy: async () => {},
			}),
			createQueryCompiler: () => dialect.queryCompiler(),
			createIntrospector: (db) => dialect.introspector(db),
		},
	});
}
