import { type Kysely, type MigrationProvider, Migrator, sql } from "kysely";
import { isRefkitError, RefkitError } from "../errors.js";
import type { DialectName, MigrationResult } from "../types.js";
import { m0001Initial } from "./migrations/0001-initial.js";
import { m0002Conversions } from "./migrations/0002-conversions.js";
import { m0003StatsIndexes } from "./migrations/0003-stats-indexes.js";
import { m0004StatsDays } from "./migrations/0004-stats-days.js";
import { m0005StatsPartialDays } from "./migrations/0005-stats-partial-days.js";
import { m0006StatsWeeks } from "./migrations/0006-stats-weeks.js";
import { m0007PartialHitIndexes } from "./migrations/0007-partial-hit-indexes.js";
import { m0008BrowserIds } from "./migrations/0008-browser-ids.js";

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
		}),
	};
}

async function runMigrator(db: Kysely<unknown>, dialect: DialectName): Promise<MigrationResult[]> {
	const migrator = new Migrator({
		db,
		provider: provider(dialect),
		migrationTableName: MIGRATION_TABLE,
		migrationLockTableName: MIGRATION_LOCK_TABLE,
		// On SQLite the caller already holds a write transaction (see below).
		disableTransactions: dialect === "sqlite",
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
 * Brings refkit's tables up to date. Safe to run from several processes at once: PostgreSQL takes Kysely's
 * advisory lock; SQLite, whose Kysely lock only guards one connection, runs everything in one
 * `BEGIN IMMEDIATE` transaction, so a second process waits and then finds nothing left to do.
 * Throws `MIGRATION_FAILED` with the database's error as `cause`.
 */
export async function migrateToLatest(db: Kysely<unknown>, dialect: DialectName): Promise<MigrationResult[]> {
	if (dialect !== "sqlite") return runMigrator(db, dialect);
	return db.connection().execute(async (connection) => {
		await sql`begin immediate`.execute(connection);
		try {
			const results = await runMigrator(connection, dialect);
			await sql`commit`.execute(connection);
			return results;
		} catch (error) {
			await sql`rollback`.execute(connection);
			throw error;
		}
	});
}
