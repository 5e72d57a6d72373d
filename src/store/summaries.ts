import { randomInt } from "node:crypto";
import { type Insertable, type Kysely, type RawBuilder, type Selectable, sql } from "kysely";
import type { DialectName } from "../types.js";
import { type DialectHelpers, fromDbTime, toDbTime } from "./dialect.js";
import { SUMMARY_LOCK } from "./migrations/0004-stats-days.js";
import type { Database, StatsDayTable, StatsWeekTable } from "./schema.js";
import type {
	CountedConversion,
	CountedHit,
	CountedRows,
	DaySummarizer,
	DaySummary,
	StatsQuery,
	WeekSummary,
} from "./store.js";

const DAY = 24 * 60 * 60 * 1000;
/** Summary rows per INSERT: 6 columns each, far below both databases' limits on bound parameters. */
const SUMMARIES_PER_INSERT = 1000;

/** A `Uint8Array` as the `Buffer` both drivers bind as a blob, without copying. */
function asBuffer(bytes: Uint8Array): Buffer {
	return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Hits per link as (link id, hits) pairs of little-endian uint32s: far quicker to read than JSON. */
function encodeLinkHits(linkHits: Uint32Array): Buffer {
	const bytes = Buffer.alloc(linkHits.length * 4);
	for (let i = 0; i < linkHits.length; i++) bytes.writeUInt32LE(linkHits[i] as number, i * 4);
	return bytes;
}

function decodeLinkHits(bytes: Uint8Array): Uint32Array {
	const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
	const linkHits = new Uint32Array(bytes.byteLength >>> 2);
	for (let i = 0; i < linkHits.length; i++) linkHits[i] = view.getUint32(i * 4, true);
	return linkHits;
}

/** When a day (`YYYY-MM-DD`) starts, in UTC, as milliseconds since the epoch. */
function dayStart(day: string): number {
	return Date.parse(`${day}T00:00:00.000Z`);
}

/** `created_at` in the period, up to `query.to` included or not, and `link_id` the link's if one is asked. */
function inPeriod(query: StatsQuery, toIncluded: boolean): RawBuilder<boolean> {
	const link = query.linkId === undefined ? sql`` : sql` and link_id = ${query.linkId}`;
	return sql<boolean>`created_at >= ${toDbTime(query.from)} and created_at ${sql.raw(toIncluded ? "<=" : "<")} ${toDbTime(query.to)}${link}`;
}

function toDaySummary(row: Selectable<StatsDayTable>): DaySummary {
	const json = <T>(text: string | null) => (text === null ? null : (JSON.parse(text) as T));
	return {
		day: row.day,
		until: fromDbTime(row.covered_until),
		linkId: row.link_id,
		hits: count(row.hits),
		goals: json<DaySummary["goals"]>(row.goals) ?? {},
		linkHits: row.link_hits === null ? null : decodeLinkHits(row.link_hits),
		referrers: json(row.referrers),
		visitors: row.visitors,
		users: row.users,
		converted: row.converted,
	};
}

function toStatsDayRow(summary: DaySummary): Insertable<StatsDayTable> {
	const json = (value: object | null) => (value === null ? null : JSON.stringify(value));
	return {
		day: summary.day,
		covered_until: toDbTime(summary.until),
		link_id: summary.linkId,
		hits: summary.hits,
		goals: JSON.stringify(summary.goals),
		link_hits: summary.linkHits === null ? null : encodeLinkHits(summary.linkHits),
		referrers: json(summary.referrers),
		visitors: asBuffer(summary.visitors),
		users: asBuffer(summary.users),
		converted: asBuffer(summary.converted),
	};
}

function toWeekSummary(row: Selectable<StatsWeekTable>): WeekSummary {
	return {
		week: row.week,
		hits: count(row.hits),
		goals: JSON.parse(row.goals) as WeekSummary["goals"],
		daily: JSON.parse(row.daily) as WeekSummary["daily"],
		linkHits: decodeLinkHits(row.link_hits),
		referrers: JSON.parse(row.referrers) as WeekSummary["referrers"],
		visitors: row.visitors,
		users: row.users,
		converted: row.converted,
	};
}

function toStatsWeekRow(summary: WeekSummary): Insertable<StatsWeekTable> {
	return {
		week: summary.week,
		hits: summary.hits,
		goals: JSON.stringify(summary.goals),
		daily: JSON.stringify(summary.daily),
		link_hits: encodeLinkHits(summary.linkHits),
		referrers: JSON.stringify(summary.referrers),
		visitors: asBuffer(summary.visitors),
		users: asBuffer(summary.users),
		converted: asBuffer(summary.converted),
	};
}

/** A count as the driver returns it: a number (SQLite) or a bigint/numeric string (PostgreSQL). */
export type Count = number | string | bigint | null;

export function count(value: Count | undefined): number {
	return value === null || value === undefined ? 0 : Number(value);
}

/**
 * Rows a day is summarised from, read this many at a time: what the summarising process holds of them at
 * once, whatever the day's size (about 1 MB of objects), and between two pages the connection is free.
 */
const PAGE = 5000;

/** Where a page ended: the (`created_at`, `id`) of its last row, `created_at` as the database compares it. */
interface Cursor {
	at: string;
	id: string;
}

/**
 * For tests only, not part of refkit's API: `afterRead` runs once a day's rows are read, before its summaries
 * are stored, so that a test can write into the day just then.
 */
export const summaryTestHooks: { afterRead?: ((day: string) => Promise<void>) | undefined } = {};

/** What {@link SummaryStore} needs of the store it serves. */
export interface SummaryStoreOptions {
	db: Kysely<Database>;
	dialect: DialectName;
	helpers: DialectHelpers;
	/** Runs `work` in a write transaction (SQLite: BEGIN IMMEDIATE). */
	transaction<T>(work: (db: Kysely<Database>) => Promise<T>): Promise<T>;
}

/**
 * The stored daily and weekly summaries of `stats()` (migrations 0004 to 0006), and the rows they are made
 * from. {@link KyselyStore} delegates to this and turns its errors into RefkitErrors.
 */
export class SummaryStore {
	readonly #db: Kysely<Database>;
	readonly #dialect: DialectName;
	readonly #sql: DialectHelpers;
	readonly #transaction: SummaryStoreOptions["transaction"];

	constructor(options: SummaryStoreOptions) {
		this.#db = options.db;
		this.#dialect = options.dialect;
		this.#sql = options.helpers;
		this.#transaction = options.transaction;
	}

	async summaries(days: string[], linkId: number | undefined): Promise<DaySummary[]> {
		if (days.length === 0) return [];
		// Only these link ids: never a marker (a negative one, see summarizeDay).
		const rows = await this.#db
			.selectFrom("refkit_stats_day")
			.selectAll()
			.where("link_id", "in", linkId === undefined ? [0] : [0, linkId])
			.where("day", "in", days)
			.execute();
		return rows.map(toDaySummary);
	}

	async weekSummaries(firstWeek: string, lastWeek: string): Promise<WeekSummary[]> {
		const rows = await this.#db
			.selectFrom("refkit_stats_week")
			.selectAll()
			.where("week", ">=", firstWeek)
			.where("week", "<=", lastWeek)
			.execute();
		return rows.map(toWeekSummary);
	}

	summarizeWeek(days: string[], summarize: (days: DaySummary[]) => WeekSummary): Promise<WeekSummary | null> {
		return this.#transaction(async (db) => {
			await this.#lockDays(db, days);
			const rows = await db
				.selectFrom("refkit_stats_day")
				.selectAll()
				.where("link_id", "=", 0)
				.where("day", "in", days)
				.execute();
			const summaries = rows.map(toDaySummary);
			const whole = (summary: DaySummary) => summary.until.getTime() === dayStart(summary.day) + DAY;
			if (summaries.length !== days.length || !summaries.every(whole)) return null;
			const summary = summarize(summaries);
			await db.deleteFrom("refkit_stats_week").where("week", "=", summary.week).execute();
			await db.insertInto("refkit_stats_week").values(toStatsWeekRow(summary)).execute();
			return summary;
		});
	}

	/**
	 * A day's summaries are made in three steps, so that no lock is held while its hits are read (a million
	 * of them take seconds, and better-sqlite3 is synchronous: a process waiting for SQLite's write lock does
	 * nothing else meanwhile).
	 *
	 * 1. A brief write transaction reads the day's stored summaries and inserts a *marker*: a row of the day
	 *    with a random negative `link_id` (no link has one; readers ask for link 0 or a link's id) and
	 *    `covered_until` = `until`. The triggers of migration 0005 delete it, like any summary covering that
	 *    time, when a hit or conversion of the day before `until` is written, changed or deleted later.
	 * 2. Without a transaction, the rows not covered are read PAGE at a time, in (`created_at`, `id`) order,
	 *    each page folded into the summaries and dropped: memory is bounded by the day's links, not its hits.
	 * 3. A brief write transaction stores the summaries if the marker is still there, replacing the day's
	 *    rows (and any other summariser's marker, which then stores nothing: one of two racing summarisers
	 *    stores its summaries, and a marker left by a process that died is cleared). If the marker is gone,
	 *    the day changed while it was read: nothing is stored, and the summaries made are returned all the
	 *    same (they count the day as it was when read); the next `stats()` summarises the day again.
	 *
	 * Why a stored summary is never stale: step 2 reads, page by page, every write committed before the page
	 * began. A write it may have missed (or read only in part) touches a time before `until`, and must run
	 * its trigger after the marker is committed: the trigger then deletes the marker (its `covered_until`,
	 * `until`, is after the written time), and step 3 stores nothing. On SQLite that holds by itself: writers
	 * take turns with step 1's transaction, so a write committed after it also began after it. On
	 * PostgreSQL, a writer's trigger may run before the marker exists yet commit after step 2 read its page;
	 * so step 1 takes the day's advisory lock exclusively (the triggers take it shared until their
	 * transaction ends): a writer whose trigger ran first has committed before step 1 goes on, and one whose
	 * trigger runs later waits for the marker's commit and then deletes it. Step 3 takes the lock too: a
	 * writer whose trigger deleted the marker has committed (or rolled back, restoring it) before step 3
	 * looks, and a writer after step 3 forgets the new summaries as before.
	 */
	async summarizeDay(
		day: string,
		until: Date,
		start: (previous: DaySummary[]) => DaySummarizer,
	): Promise<DaySummary[]> {
		// Random, so that racing summarisers of the day (in other processes) each see their own.
		const marker = -randomInt(1, 2 ** 31 - 1);
		const stored = await this.#transaction(async (db) => {
			await this.#lockDays(db, [day]);
			const rows = await db
				.selectFrom("refkit_stats_day")
				.selectAll()
				.where("day", "=", day)
				.where("link_id", ">=", 0)
				.execute();
			const none = Buffer.alloc(0);
			await db
				.insertInto("refkit_stats_day")
				.values({
					day,
					link_id: marker,
					covered_until: toDbTime(until),
					hits: 0,
					goals: "{}",
					link_hits: null,
					referrers: null,
					visitors: none,
					users: none,
					converted: none,
				})
				.execute();
			return rows.map(toDaySummary);
		});
		// Extended from what is stored when that ends no later than `until`, else made anew.
		const covered = stored.find((summary) => summary.linkId === 0)?.until;
		const extend = covered !== undefined && covered.getTime() <= until.getTime();
		const summarizer = start(extend ? stored : []);
		const period = { from: extend ? covered : new Date(dayStart(day)), to: until };
		for await (const hits of this.#hitPages(period)) summarizer.add({ hits, conversions: [] });
		for await (const conversions of this.#conversionPages(period)) summarizer.add({ hits: [], conversions });
		const summaries = summarizer.summaries();
		await summaryTestHooks.afterRead?.(day);
		await this.#transaction(async (db) => {
			await this.#lockDays(db, [day]);
			const mine = await db
				.selectFrom("refkit_stats_day")
				.select("link_id")
				.where("day", "=", day)
				.where("link_id", "=", marker)
				.executeTakeFirst();
			if (mine === undefined) return;
			await db.deleteFrom("refkit_stats_day").where("day", "=", day).execute();
			for (let i = 0; i < summaries.length; i += SUMMARIES_PER_INSERT) {
				await db
					.insertInto("refkit_stats_day")
					.values(summaries.slice(i, i + SUMMARIES_PER_INSERT).map(toStatsDayRow))
					.execute();
			}
		});
		return summaries;
	}

	/**
	 * Keeps the days' hits and conversions from being written until the transaction ends. SQLite's
	 * transaction is BEGIN IMMEDIATE: nothing is written meanwhile anyway. On PostgreSQL, the writers wait in
	 * the triggers of migration 0005, which take the same advisory locks shared, day by day in order, as this
	 * takes them (`days` are consecutive and in order).
	 */
	async #lockDays(db: Kysely<Database>, days: string[]): Promise<void> {
		if (this.#dialect !== "postgres") return;
		const first = Math.floor(dayStart(days[0] as string) / DAY);
		await sql`select pg_advisory_xact_lock(${SUMMARY_LOCK}, d) from generate_series(${first}::int, ${first + days.length - 1}::int) as d`.execute(
			db,
		);
	}

	/**
	 * `created_at` as the keyset compares it: SQLite's text as stored; on PostgreSQL, text to the microsecond
	 * (a JavaScript Date would cut a time written by other code to the millisecond, and repeat or skip rows).
	 */
	#cursorAt(): RawBuilder<string> {
		return this.#dialect === "postgres"
			? sql<string>`to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`
			: sql<string>`created_at`;
	}

	/**
	 * Rows of [`from`, `to`) after `cursor` in (`created_at`, `id`) order, written so that both databases read
	 * the index on (`created_at`, `id`) from the cursor on: given a second lower bound on `created_at`, SQLite
	 * ranges over the index from `from` and filters, reading the whole day again for every page.
	 */
	#page(period: { from: Date; to: Date }, cursor: Cursor | null): RawBuilder<boolean> {
		const to = toDbTime(period.to);
		if (cursor === null) return sql<boolean>`created_at >= ${toDbTime(period.from)} and created_at < ${to}`;
		return sql<boolean>`created_at >= ${cursor.at} and created_at < ${to} and (created_at > ${cursor.at} or id > ${cursor.id})`;
	}

	/** The hits of [`from`, `to`), PAGE at a time. */
	async *#hitPages(period: { from: Date; to: Date }): AsyncGenerator<CountedHit[]> {
		let cursor: Cursor | null = null;
		for (;;) {
			const rows = await this.#db
				.selectFrom("refkit_hit")
				.select([
					this.#sql.utcDay("created_at").as("day"),
					this.#cursorAt().as("at"),
					"id",
					"link_id",
					"user_id",
					"visitor_id",
				])
				.where(this.#page(period, cursor))
				.orderBy("created_at")
				.orderBy("id")
				.limit(PAGE)
				.execute();
			if (rows.length > 0) yield rows.map(toCountedHit);
			const last = rows.at(-1);
			if (last === undefined || rows.length < PAGE) return;
			cursor = { at: last.at, id: last.id };
		}
	}

	/** The conversions of [`from`, `to`), PAGE at a time. */
	async *#conversionPages(period: { from: Date; to: Date }): AsyncGenerator<CountedConversion[]> {
		let cursor: Cursor | null = null;
		for (;;) {
			const rows = await this.#db
				.selectFrom("refkit_conversion")
				.select([
					this.#sql.utcDay("created_at").as("day"),
					this.#cursorAt().as("at"),
					"id",
					"link_id",
					"goal",
					"referred_user_id",
					"referrer_user_id",
					"reversed_at",
				])
				.where(this.#page(period, cursor))
				.orderBy("created_at")
				.orderBy("id")
				.limit(PAGE)
				.execute();
			if (rows.length > 0) yield rows.map(toCountedConversion);
			const last = rows.at(-1);
			if (last === undefined || rows.length < PAGE) return;
			cursor = { at: last.at, id: last.id };
		}
	}

	/**
	 * The period's hits and conversions, up to `query.to` included, with the UTC day of each: what `stats()`
	 * reads one by one after the summaries (at most the last hour or so of the day under way).
	 */
	async countedRows(query: StatsQuery): Promise<CountedRows> {
		const day = this.#sql.utcDay("created_at").as("day");
		const hits = await this.#db
			.selectFrom("refkit_hit")
			.select([day, "link_id", "user_id", "visitor_id"])
			.where(inPeriod(query, true))
			.execute();
		const conversions = await this.#db
			.selectFrom("refkit_conversion")
			.select([day, "link_id", "goal", "referred_user_id", "referrer_user_id", "reversed_at"])
			.where(inPeriod(query, true))
			.execute();
		return { hits: hits.map(toCountedHit), conversions: conversions.map(toCountedConversion) };
	}
}

function toCountedHit(row: {
	day: string;
	link_id: number;
	user_id: string | null;
	visitor_id: string | null;
}): CountedHit {
	return { day: row.day, linkId: row.link_id, userId: row.user_id, visitorId: row.visitor_id };
}

function toCountedConversion(row: {
	day: string;
	link_id: number | null;
	goal: string;
	referred_user_id: string;
	referrer_user_id: string | null;
	reversed_at: Date | string | null;
}): CountedConversion {
	return {
		day: row.day,
		linkId: row.link_id,
		goal: row.goal,
		referredUserId: row.referred_user_id,
		referrerUserId: row.referrer_user_id,
		reversed: row.reversed_at !== null,
	};
}
