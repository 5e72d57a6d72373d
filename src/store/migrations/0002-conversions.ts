import type { Kysely, Migration } from "kysely";
import type { DialectName } from "../../types.js";

/**
 * Conversions (one per referred user and goal, with their reversal and outbox delivery state) and the
 * source of a hit (`link` or `code`).
 */
export function m0002Conversions(dialect: DialectName): Migration {
	const pg = dialect === "postgres";
	const time = pg ? "timestamptz" : "text";
	return {
		async up(db: Kysely<unknown>) {
			await db.schema
				.alterTable("refkit_hit")
				.addColumn("source", "text", (col) => col.notNull().defaultTo("link"))
				.execute();

			await db.schema
				.createTable("refkit_conversion")
				.addColumn("id", pg ? "uuid" : "text", (col) => col.primaryKey())
				.addColumn("goal", "text", (col) => col.notNull())
				.addColumn("referred_user_id", "text", (col) => col.notNull())
				.addColumn("referrer_user_id", "text")
				// Conversions are the application's financial record: pruning hits or deleting a link keeps them.
				.addColumn("hit_id", pg ? "uuid" : "text", (col) =>
					col.references("refkit_hit.id").onDelete("set null"),
				)
				.addColumn("link_id", "integer", (col) => col.references("refkit_link.id").onDelete("set null"))
				.addColumn("value", pg ? "double precision" : "real")
				.addColumn("created_at", time, (col) => col.notNull())
				.addColumn("updated_at", time, (col) => col.notNull())
				.addColumn("reversed_at", time)
				.addColumn("reversal_reason", "text")
				.addColumn("delivered_at", time)
				.addColumn("reversal_delivered_at", time)
				.addColumn("next_delivery_at", time)
				.addColumn("delivery_attempts", "integer", (col) => col.notNull().defaultTo(0))
				.addColumn("last_delivery_error", "text")
				.addUniqueConstraint("refkit_conversion_referred_goal", ["referred_user_id", "goal"])
				.execute();
			await db.schema
				.createIndex("refkit_conversion_referrer")
				.on("refkit_conversion")
				.columns(["referrer_user_id", "created_at"])
				.execute();
			await db.schema
				.createIndex("refkit_conversion_link_created")
				.on("refkit_conversion")
				.columns(["link_id", "created_at"])
				.execute();
			await db.schema.createIndex("refkit_conversion_hit").on("refkit_conversion").column("hit_id").execute();
			await db.schema
				.createIndex("refkit_conversion_next_delivery")
				.on("refkit_conversion")
				.column("next_delivery_at")
				.execute();
		},
		async down(db: Kysely<unknown>) {
			await db.schema.dropTable("refkit_conversion").execute();
			await db.schema.alterTable("refkit_hit").dropColumn("source").execute();
		},
	};
}
