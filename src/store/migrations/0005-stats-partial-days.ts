import { type Kysely, type Migration, sql } from "kysely";
import type { DialectName } from "../../types.js";

/*
 * A migration never changes once released, so this one imports nothing of another: what it shares with
 * 0004 (the lock's key, the summarised columns, and 0004's triggers, which `down()` puts back) is copied
 * here as 0004 wrote it.
 */

/**
 * The first key of the advisory lock that guards one day's summaries on PostgreSQL (see migration 0004).
 * Must equal `SUMMARY_LOCK` of src/store/locks.ts, which the summarising code takes (a test checks it).
 */
export const SUMMARY_LOCK = 0x7265666b;

/** The tables whose rows are summarised, and the columns a summary reads of them (as in migration 0004). */
const SUMMARISED = {
	refkit_hit: ["link_id", "user_id", "visitor_id", "created_at"],
	refkit_conversion: ["link_id", "goal", "referred_user_id", "referrer_user_id", "reversed_at", "created_at"],
} as const;

/**
 * Summaries of part of a day: `covered_until` says up to when (excluded) a row of `refkit_stats_day` counts
 * its day's hits and conversions, the next midnight for a whole day. `stats()` keeps one for the day under
 * way, extended an hour at a time, so that it reads at most the last hour or so of hits one by one, however
 * late in the day it is asked.
 *
 * The triggers of migration 0004 are replaced by ones that forget a day's summaries only if they covered the
 * time of the hit or conversion written: the hits of the hour under way leave the morning's summary alone,
 * while a claim of this morning's hits, a late write or an erasure forget it as before.
 *
 * The rows are a cache, so the old ones are dropped rather than converted.
 */
export function m0005StatsPartialDays(dialect: DialectName): Migration {
	const pg = dialect === "postgres";
	return {
		async up(db: Kysely<unknown>) {
			await sql`delete from refkit_stats_day`.execute(db);
			await sql
				.raw(
					pg
						? "alter table refkit_stats_day add column covered_until timestamptz not null"
						: // SQLite adds a NOT NULL column only with a default; every row refkit writes sets it.
							"alter table refkit_stats_day add column covered_until text not null default ''",
				)
				.execute(db);
			for (const [table, columns] of Object.entries(SUMMARISED)) {
				const statements = pg ? [postgresFunction(table, columns)] : sqliteTriggers(table, columns);
				if (!pg) await dropSqliteTriggers(db, table);
				for (const statement of statements) await sql.raw(statement).execute(db);
			}
		},
		async down(db: Kysely<unknown>) {
			// Back to 0004's triggers, then without the column.
			for (const [table, columns] of Object.entries(SUMMARISED)) {
				if (pg) await sql.raw(`drop function ${table}_forget_days() cascade`).execute(db);
				else await dropSqliteTriggers(db, table);
				for (const statement of pg
					? postgresTriggers0004(table, columns)
					: sqliteTriggers0004(table, columns))
					await sql.raw(statement).execute(db);
			}
			await sql`delete from refkit_stats_day`.execute(db);
			await sql.raw("alter table refkit_stats_day drop column covered_until").execute(db);
		},
	};
}

async function dropSqliteTriggers(db: Kysely<unknown>, table: string): Promise<void> {
	for (const event of ["insert", "update", "delete"])
		await sql.raw(`drop trigger ${table}_forget_days_${event}`).execute(db);
}

/** Times are ISO-8601 text on SQLite, compared as text: the day is the first ten characters. */
function sqliteTriggers(table: string, columns: readonly string[]): string[] {
	const forget = (row: string) =>
		`delete from refkit_stats_day where day = substr(${row}.created_at, 1, 10) and covered_until > ${row}.created_at;`;
	return [
		`create trigger ${table}_forget_days_insert after insert on ${table} begin ${forget("new")} end`,
		`create trigger ${table}_forget_days_update after update of ${columns.join(", ")} on ${table} begin
			${forget("old")} ${forget("new")} end`,
		`create trigger ${table}_forget_days_delete after delete on ${table} begin ${forget("old")} end`,
	];
}

/**
 * 0004's statement triggers call this function: it now finds, for each day of the statement's rows, the
 * earliest of their times, and forgets the summaries of that day that cover it.
 */
function postgresFunction(table: string, columns: readonly string[]): string {
	const earliest = (times: string) =>
		`select array_agg(day order by day), array_agg(first order by day) into days, firsts from (
			select (at at time zone 'UTC')::date as day, min(at) as first from (${times}) as times group by 1
		) as earliest;`;
	return `create or replace function ${table}_forget_days() returns trigger language plpgsql as $$
declare
	days date[];
	firsts timestamptz[];
begin
	if tg_op = 'INSERT' then
		${earliest("select created_at as at from new_rows")}
	elsif tg_op = 'DELETE' then
		${earliest("select created_at as at from old_rows")}
	else
		${earliest(`select unnest(array[o.created_at, n.created_at]) as at
			from old_rows as o join new_rows as n on n.id = o.id
			where (${columns.map((c) => `o.${c}`).join(", ")}) is distinct from (${columns.map((c) => `n.${c}`).join(", ")})`)}
	end if;
	if days is null then
		return null;
	end if;
	perform pg_advisory_xact_lock_shared(${SUMMARY_LOCK}, d - date '1970-01-01') from unnest(days) as d order by d;
	delete from refkit_stats_day as s using unnest(days, firsts) as c(day, first)
	where s.day = to_char(c.day, 'YYYY-MM-DD') and s.covered_until > c.first;
	return null;
end $$`;
}

/** Migration 0004's triggers on SQLite, as it made them: `down()` puts them back. */
function sqliteTriggers0004(table: string, columns: readonly string[]): string[] {
	const forget = (row: string) =>
		`delete from refkit_stats_day where day = substr(${row}.created_at, 1, 10);`;
	return [
		`create trigger ${table}_forget_days_insert after insert on ${table} begin ${forget("new")} end`,
		`create trigger ${table}_forget_days_update after update of ${columns.join(", ")} on ${table} begin
			${forget("old")} ${forget("new")} end`,
		`create trigger ${table}_forget_days_delete after delete on ${table} begin ${forget("old")} end`,
	];
}

/** Migration 0004's function and triggers on PostgreSQL, as it made them: `down()` puts them back. */
function postgresTriggers0004(table: string, columns: readonly string[]): string[] {
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
