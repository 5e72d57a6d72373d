import { type Kysely, type Migration, sql } from "kysely";
import type { DialectName } from "../../types.js";

/**
 * `refkit_stats_week`: a week's seven all-links day summaries added up, with each day's hits and conversions,
 * so that a long period reads a row a week. Weeks run from Monday to Sunday (UTC), like PostgreSQL's
 * `date_trunc('week', ...)`. A week's row is made only from seven whole days' summaries, and deleting any of
 * them (which the triggers of migrations 0004 and 0005 do when the day changes) deletes the week's row with it.
 */
export function m0006StatsWeeks(dialect: DialectName): Migration {
	const pg = dialect === "postgres";
	return {
		async up(db: Kysely<unknown>) {
			const blob = pg ? "bytea" : "blob";
			await db.schema
				.createTable("refkit_stats_week")
				.addColumn("week", "text", (col) => col.primaryKey())
				.addColumn("hits", "integer", (col) => col.notNull())
				.addColumn("goals", "text", (col) => col.notNull())
				.addColumn("daily", "text", (col) => col.notNull())
				.addColumn("link_hits", blob, (col) => col.notNull())
				.addColumn("referrers", "text", (col) => col.notNull())
				.addColumn("visitors", blob, (col) => col.notNull())
				.addColumn("users", blob, (col) => col.notNull())
				.addColumn("converted", blob, (col) => col.notNull())
				.execute();
			if (pg) {
				for (const column of ["link_hits", "visitors", "users", "converted"]) {
					await sql
						.raw(`alter table refkit_stats_week alter column ${column} set storage external`)
						.execute(db);
				}
				await sql
					.raw(`create function refkit_stats_day_forget_weeks() returns trigger language plpgsql as $$
begin
	delete from refkit_stats_week where week in (
		select distinct to_char(date_trunc('week', day::timestamp), 'YYYY-MM-DD') from old_rows where link_id = 0
	);
	return null;
end $$`)
					.execute(db);
				await sql
					.raw(`create trigger refkit_stats_day_forget_weeks after delete on refkit_stats_day
				referencing old table as old_rows for each statement execute function refkit_stats_day_forget_weeks()`)
					.execute(db);
			} else {
				// The Monday on or before the day: back six days, then on to the next Monday.
				await sql
					.raw(`create trigger refkit_stats_day_forget_weeks after delete on refkit_stats_day when old.link_id = 0
				begin delete from refkit_stats_week where week = date(old.day, '-6 days', 'weekday 1'); end`)
					.execute(db);
			}
		},
		async down(db: Kysely<unknown>) {
			await sql
				.raw(
					pg
						? "drop function refkit_stats_day_forget_weeks() cascade"
						: "drop trigger refkit_stats_day_forget_weeks",
				)
				.execute(db);
			await db.schema.dropTable("refkit_stats_week").execute();
		},
	};
}
