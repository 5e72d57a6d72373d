import { type Kysely, type Migration, sql } from "kysely";
import type { DialectName } from "../../types.js";

/**
 * The two keys of the advisory lock that guards one day's summaries on PostgreSQL: "refk" and the day's
 * number (days since 1970-01-01). Summaries are made under the exclusive lock; the triggers below take it
 * shared before they forget a day, so nothing written while a day is being summarised is left out of it.
 * Must equal `SUMMARY_LOCK` of src/store/locks.ts, which the summarising code takes (a test checks it).
 */
export const SUMMARY_LOCK = 0x7265666b;

/** The tables whose rows are summarised, and the columns a summary reads of them. */
const SUMMARISED = {
	refkit_hit: ["link_id", "user_id", "visitor_id", "created_at"],
	refkit_conversion: ["link_id", "goal", "referred_user_id", "referrer_user_id", "reversed_at", "created_at"],
} as const;

/**
 * `refkit_stats_day`: what `stats()` needs of each past day's hits and conversions, so that it reads a row a
 * day instead of every hit (measured with bench/stats.ts). One row per day for all links (`link_id` 0, with
 * the hits of each link and the conversions of each referrer), and one per link that had hits or
 * conversions that day. `visitors`, `users` and `converted` are sketches of distinct ids (see
 * src/core/sketch.ts).
 *
 * The rows are a cache that `stats()` fills as it needs them. Triggers delete a day's rows whenever a hit or
 * a conversion of that day is written, changed (a claim, an erasure, a reversal) or deleted, by refkit or
 * anyone else, so a summary never outlives what it was made from.
 */
export function m0004StatsDays(dialect: DialectName): Migration {
	const pg = dialect === "postgres";
	const blob = pg ? "bytea" : "blob";
	return {
		async up(db: Kysely<unknown>) {
			await db.schema
				.createTable("refkit_stats_day")
				.addColumn("day", "text", (col) => col.notNull())
				.addColumn("link_id", "integer", (col) => col.notNull())
				.addColumn("hits", "integer", (col) => col.notNull())
				.addColumn("goals", "text", (col) => col.notNull())
				.addColumn("link_hits", blob)
				.addColumn("referrers", "text")
				.addColumn("visitors", blob, (col) => col.notNull())
				.addColumn("users", blob, (col) => col.notNull())
				.addColumn("converted", blob, (col) => col.notNull())
				// A link's days are one range of the key; the triggers find a day's rows by the second index.
				.addPrimaryKeyConstraint("refkit_stats_day_pk", ["link_id", "day"])
				.execute();
			await db.schema.createIndex("refkit_stats_day_day").on("refkit_stats_day").column("day").execute();
			// Sketches barely compress, and reading them back decompressed took PostgreSQL twice as long.
			if (pg) {
				for (const column of ["link_hits", "visitors", "users", "converted"]) {
					await sql
						.raw(`alter table refkit_stats_day alter column ${column} set storage external`)
						.execute(db);
				}
			}
			for (const [table, columns] of Object.entries(SUMMARISED)) {
				for (const statement of forgetDaysTriggers(dialect, table, columns))
					await sql.raw(statement).execute(db);
			}
		},
		async down(db: Kysely<unknown>) {
			for (const table of Object.keys(SUMMARISED)) {
				for (const event of ["insert", "update", "delete"]) {
					const name = `${table}_forget_days_${event}`;
					await sql.raw(pg ? `drop trigger ${name} on ${table}` : `drop trigger ${name}`).execute(db);
				}
				if (pg) await sql.raw(`drop function ${table}_forget_days()`).execute(db);
			}
			await db.schema.dropTable("refkit_stats_day").execute();
		},
	};
}

/** The statements that create this migration's triggers on `table`. */
function forgetDaysTriggers(dialect: DialectName, table: string, columns: readonly string[]): string[] {
	return dialect === "postgres" ? postgresTriggers(table, columns) : sqliteTriggers(table, columns);
}

/** Times are ISO-8601 text on SQLite: the day is the first ten characters. */
function sqliteTriggers(table: string, columns: readonly string[]): string[] {
	const forget = (row: string) =>
		`delete from refkit_stats_day where day = substr(${row}.created_at, 1, 10);`;
	return [
		`create trigger ${table}_forget_days_insert after insert on ${table} begin ${forget("new")} end`,
		`create trigger ${table}_forget_days_update after update of ${columns.join(", ")} on ${table} begin
			${forget("old")} ${forget("new")} end`,
		`create trigger ${table}_forget_days_delete after delete on ${table} begin ${forget("old")} end`,
	];
}

/**
 * One call per statement, not per row (a batch of hits is one INSERT), reading the statement's rows from its
 * transition tables. An UPDATE forgets only the days of rows whose summarised columns changed, so confirming
 * a hit or delivering a conversion keeps its day's summary.
 */
function postgresTriggers(table: string, columns: readonly string[]): string[] {
	const days = (rows: string) =>
		`select array_agg(distinct (created_at at time zone 'UTC')::date) into days from ${rows};`;
	const fn = `create function ${table}_forget_days() returns trigger language plpgsql as $$
declare
	days date[];
begin
	if tg_op = 'INSERT' then
		${days("new_rows")}
	elsif tg_op = 'DELETE' then
		${days("old_rows")}
	else
		select array_agg(distinct day) into days from (
			select unnest(array[(o.created_at at time zone 'UTC')::date, (n.created_at at time zone 'UTC')::date]) as day
			from old_rows as o join new_rows as n on n.id = o.id
			where (${columns.map((c) => `o.${c}`).join(", ")}) is distinct from (${columns.map((c) => `n.${c}`).join(", ")})
		) as changed;
	end if;
	if days is null then
		return null;
	end if;
	perform pg_advisory_xact_lock_shared(${SUMMARY_LOCK}, d - date '1970-01-01') from unnest(days) as d order by d;
	delete from refkit_stats_day where day in (select to_char(d, 'YYYY-MM-DD') from unnest(days) as d);
	return null;
end $$`;
	const create = (event: string, tables: string) =>
		`create trigger ${table}_forget_days_${event} after ${event} on ${table} referencing ${tables}
			for each statement execute function ${table}_forget_days()`;
	return [
		fn,
		create("insert", "new table as new_rows"),
		create("update", "old table as old_rows new table as new_rows"),
		create("delete", "old table as old_rows"),
	];
}
