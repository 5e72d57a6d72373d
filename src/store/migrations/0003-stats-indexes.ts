import type { Kysely, Migration } from "kysely";
import type { DialectName } from "../../types.js";

/**
 * Indexes for reading by time, measured with bench/stats.ts on a million hits:
 * - `created_at, id` on hits and conversions: the newest first (`listHits()`, `listConversions()`), the
 *   exports' keyset pagination, and the counts of a period and of each day in `stats()`;
 * - `user_id, created_at` and `visitor_id, user_id, created_at` on hits: the distinct users and visitors of a
 *   period, read in index order. They replace the single-column indexes on `user_id` and `visitor_id`
 *   (their prefixes), which also serve claims and `confirm()` better with the extra columns.
 */
export function m0003StatsIndexes(_dialect: DialectName): Migration {
	return {
		async up(db: Kysely<unknown>) {
			await db.schema
				.createIndex("refkit_hit_created")
				.on("refkit_hit")
				.columns(["created_at", "id"])
				.execute();
			await db.schema
				.createIndex("refkit_hit_user_created")
				.on("refkit_hit")
				.columns(["user_id", "created_at"])
				.execute();
			await db.schema.dropIndex("refkit_hit_user_id").execute();
			await db.schema
				.createIndex("refkit_hit_visitor_user_created")
				.on("refkit_hit")
				.columns(["visitor_id", "user_id", "created_at"])
				.execute();
			await db.schema.dropIndex("refkit_hit_visitor_id").execute();
			await db.schema
				.createIndex("refkit_conversion_created")
				.on("refkit_conversion")
				.columns(["created_at", "id"])
				.execute();
		},
		async down(db: Kysely<unknown>) {
			await db.schema.dropIndex("refkit_conversion_created").execute();
			await db.schema.createIndex("refkit_hit_visitor_id").on("refkit_hit").column("visitor_id").execute();
			await db.schema.dropIndex("refkit_hit_visitor_user_created").execute();
			await db.schema.createIndex("refkit_hit_user_id").on("refkit_hit").column("user_id").execute();
			await db.schema.dropIndex("refkit_hit_user_created").execute();
			await db.schema.dropIndex("refkit_hit_created").execute();
		},
	};
}
