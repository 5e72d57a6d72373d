import type { Kysely, Migration } from "kysely";
import type { DialectName } from "../../types.js";

/**
 * Links and hits, as in django-reflinks plus the visitor id. Released migrations are never edited: a
 * change to the schema is a new file.
 */
export function m0001Initial(dialect: DialectName): Migration {
	const pg = dialect === "postgres";
	const time = pg ? "timestamptz" : "text";
	const bool = pg ? "boolean" : "integer";
	const falsy = pg ? false : 0;
	return {
		async up(db: Kysely<unknown>) {
			await db.schema
				.createTable("refkit_link")
				.addColumn("id", "integer", (col) =>
					pg ? col.primaryKey().generatedByDefaultAsIdentity() : col.primaryKey().autoIncrement(),
				)
				.addColumn("identifier", "text", (col) => col.notNull().unique())
				.addColumn("user_id", "text")
				.addColumn("disabled", bool, (col) => col.notNull().defaultTo(falsy))
				.addColumn("target", "text")
				.addColumn("created_at", time, (col) => col.notNull())
				.addColumn("updated_at", time, (col) => col.notNull())
				.execute();
			await db.schema.createIndex("refkit_link_user_id").on("refkit_link").column("user_id").execute();

			await db.schema
				.createTable("refkit_hit")
				.addColumn("id", pg ? "uuid" : "text", (col) => col.primaryKey())
				.addColumn("link_id", "integer", (col) =>
					col.notNull().references("refkit_link.id").onDelete("cascade"),
				)
				.addColumn("authenticated", bool, (col) => col.notNull())
				.addColumn("user_id", "text")
				.addColumn("visitor_id", "text")
				.addColumn("ip", "text")
				.addColumn("user_agent", "text")
				.addColumn("referer", "text")
				.addColumn("next", "text")
				.addColumn("confirmed_at", time)
				.addColumn("created_at", time, (col) => col.notNull())
				.addColumn("updated_at", time, (col) => col.notNull())
				.execute();
			await db.schema
				.createIndex("refkit_hit_link_created")
				.on("refkit_hit")
				.columns(["link_id", "created_at"])
				.execute();
			await db.schema.createIndex("refkit_hit_visitor_id").on("refkit_hit").column("visitor_id").execute();
			await db.schema.createIndex("refkit_hit_user_id").on("refkit_hit").column("user_id").execute();
			await db.schema
				.createIndex("refkit_hit_confirmed_at")
				.on("refkit_hit")
				.column("confirmed_at")
				.execute();
		},
		async down(db: Kysely<unknown>) {
			await db.schema.dropTable("refkit_hit").execute();
			await db.schema.dropTable("refkit_link").execute();
		},
	};
}
