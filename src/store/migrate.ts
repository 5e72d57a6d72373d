import { type Kysely, type MigrationProvider, Migrator } from "kysely";
import { RefkitError } from "../errors.js";
import type { DialectName, MigrationResult } from "../types.js";
import { m0001Initial } from "./migrations/0001-initial.js";

/** refkit keeps its own migration bookkeeping, so a host application's Kysely migrations are never touched. */
export const MIGRATION_TABLE = "refkit_migration";
export const MIGRATION_LOCK_TABLE = "refkit_migration_lock";

function provider(dialect: DialectName): MigrationProvider {
	return {
		getMigrations: async () => ({
			"0001-initial": m0001Initial(dialect),
		}),
	};
}

/**
 * Brings refkit's tables up to date. Safe to run from several processes at once (Kysely takes a lock).
 * Throws `MIGRATION_FAILED` with the database's error as `cause`.
 */
export async function migrateToLatest(db: Kysely<unknown>, dialect: DialectName): Promise<MigrationResult[]> {
	const migrator = new Migrator({
		db,
		provider: provider(dialect),
		migrationTableName: MIGRATION_TABLE,
		migrationLockTableName: MIGRATION_LOCK_TABLE,
	});
	const { error, results = [] } = await migrator.migrateToLatest();
	if (error) {
		const failed = results.find((result) => result.status === "Error");
		const detail = error instanceof Error ? error.message : String(error);
		throw new RefkitError(
			"MIGRATION_FAILED",
			`refkit: migration ${failed ? `"${failed.migrationName}" ` : ""}failed: ${detail}`,
			{ cause: error },
		);
	}
	return results.map(({ migrationName, direction, status }) => ({ migrationName, direction, status }));
}
