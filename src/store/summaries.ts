import { randomInt } from "node:crypto";
import { type Kysely, type RawBuilder, sql } from "kysely";
import type { StoreContext } from "./context.js";
import { SUMMARY_LOCK } from "./locks.js";
import {
	toCountedConversion,
	toCountedHit,
	toDaySummary,
	toDbTime,
	toStatsDayRow,
	toStatsWeekRow,
	toWeekSummary,
} from "./rows.js";
import type { Database } from "./schema.js";
import type { CountedConversion, CountedHit, StatsQuery, SummaryStore } from "./store.js";

const DAY = 24 * 60 * 60 * 1000;
/** Summary rows per INSERT: 6 columns each, far below both databases' limits on bound parameters. */
const SUMMARIES_PER_INSERT = 1000;

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

/** `created_at` in the period, up to `query.to` included or not, and `link_id` the link's if one is asked. */
function inPeriod(query: StatsQuery, toIncluded: boolean): RawBuilder<boolean> {
	const link = query.linkId === undefined ? sql`` : sql` and link_id = ${query.linkId}`;
	return sql<boolean>`created_at >= ${toDbTime(query.from)} and created_at ${sql.raw(toIncluded ? "<=" : "<")} ${toDbTime(query.to)}${link}`;
}

/**
 * Rows of [`from`, `to`) after `cursor` in (`created_at`, `id`) order, written so that both databases read
 * the index on (`created_at`, `id`) from the cursor on: given a second lower bound on `created_at`, SQLite
 * ranges over the index from `from` and filters, reading the whole day again for every page.
 */
function page(period: { from: Date; to: Date }, cursor: Cursor | null): RawBuilder<boolean> {
	const to = toDbTime(period.to);
	if (cursor === null) return sql<boolean>`created_at >= ${toDbTime(period.from)} and created_at < ${to}`;
	return sql<boolean>`created_at >= ${cursor.at} and created_at < ${to} and (created_at > ${cursor.at} or id > ${cursor.id})`;
}

/**
 * The stored daily and weekly summaries of `stats()` (migrations 0004 to 0006), and the rows they are made
 * from. src/core/day-summaries.ts decides what to summarise; this stores it so that a stored summary is never
 * stale, which takes three steps, so that no lock is held while a day's hits are read (a million of them take
 * seconds, and better-sqlite3 is synchronous: a process waiting for SQLite's write lock does nothing else
 * meanwhile).
 *
 * 1. {@link SummaryStore.startDaySummary}: a brief write transaction reads the day's stored summaries and
 *    inserts a *marker*: a row of the day with a random negative `link_id` (no link has one; readers ask for
 *    link 0 or a link's id) and `covered_until` = `until`. The triggers of migration 0005 delete it, like any
 *    summary covering that time, when a hit or conversion of the day before `until` is written, changed or
 *    deleted later.
 * 2. {@link SummaryStore.dayRows}: without a transaction, the rows not covered are read PAGE at a time, in
 *    (`created_at`, `id`) order, each page folded into the summaries and dropped: memory is bounded by the
 *    day's links, not its hits.
 * 3. {@link SummaryStore.finishDaySummary}: a brief write transaction stores the summaries if the marker is
 *    still there, replacing the day's rows (and any other summariser's marker, which then stores nothing:
 *    one of two racing summarisers stores its summaries, and a marker left by a process that died is
 *    cleared). If the marker is gone, the day changed while it was read: nothing is stored (the summaries
 *    made count the day as it was when read); the next `stats()` summarises the day again.
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
export function summaryStore(ctx: StoreContext): SummaryStore {
	const { db, dialect } = ctx;

	/**
	 * Keeps the days' hits and conversions from being written until the transaction ends (`days` are
	 * consecutive and in order): the writers wait in the triggers of migration 0005, which take the same locks
	 * shared, day by day in order. SQLite's write transaction keeps everything else from writing anyway.
	 */
	const lockDays = (tx: Kysely<Database>, days: string[]) => {
		const first = Math.floor(Date.parse(`${days[0] as string}T00:00:00.000Z`) / DAY);
		return dialect.lockRange(tx, SUMMARY_LOCK, first, first + days.length - 1);
	};

	/** The rows of [`from`, `to`) of `table`, PAGE at a time. */
	async function* pages<T>(
		period: { from: Date; to: Date },
		read: (where: RawBuilder<boolean>) => Promise<(T & Cursor)[]>,
	): AsyncGenerator<(T & Cursor)[]> {
		let cursor: Cursor | null = null;
		for (;;) {
			const rows = await ctx.run("read a day's rows to summarise", () => read(page(period, cursor)));
			if (rows.length > 0) yield rows;
			const last = rows.at(-1);
			if (last === undefined || rows.length < PAGE) return;
			cursor = { at: last.at, id: last.id };
		}
	}

	return {
		summaries: (days, linkId) =>
			ctx.run("read daily summaries", async () => {
				if (days.length === 0) return [];
				// Only these link ids: never a marker (a negative one, see startDaySummary).
				const rows = await db
					.selectFrom("refkit_stats_day")
					.selectAll()
					.where("link_id", "in", linkId === undefined ? [0] : [0, linkId])
					.where("day", "in", days)
					.execute();
				return rows.map(toDaySummary);
			}),

		weekSummaries: (firstWeek, lastWeek) =>
			ctx.run("read weekly summaries", async () => {
				const rows = await db
					.selectFrom("refkit_stats_week")
					.selectAll()
					.where("week", ">=", firstWeek)
					.where("week", "<=", lastWeek)
					.execute();
				return rows.map(toWeekSummary);
			}),

		summarizeWeek: (days, summarize) =>
			ctx.run("summarise a week", () =>
				ctx.transaction(async ({ db: tx }) => {
					await lockDays(tx, days);
					const rows = await tx
						.selectFrom("refkit_stats_day")
						.selectAll()
						.where("link_id", "=", 0)
						.where("day", "in", days)
						.orderBy("day")
						.execute();
					const summary = summarize(rows.map(toDaySummary));
					if (summary === null) return null;
					await tx.deleteFrom("refkit_stats_week").where("week", "=", summary.week).execute();
					await tx.insertInto("refkit_stats_week").values(toStatsWeekRow(summary)).execute();
					return summary;
				}),
			),

		startDaySummary: (day, until) =>
			ctx.run("summarise a day", () =>
				ctx.transaction(async ({ db: tx }) => {
					await lockDays(tx, [day]);
					const rows = await tx
						.selectFrom("refkit_stats_day")
						.selectAll()
						.where("day", "=", day)
						.where("link_id", ">=", 0)
						.execute();
					// Random, so that racing summarisers of the day (in other processes) each see their own.
					const marker = -randomInt(1, 2 ** 31 - 1);
					const none = Buffer.alloc(0);
					await tx
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
					return { stored: rows.map(toDaySummary), marker };
				}),
			),

		async *dayRows(period) {
			const exactAt = dialect.exactTime("created_at").as("at");
			const day = dialect.utcDay("created_at").as("day");
			for await (const hits of pages(period, (where) =>
				db
					.selectFrom("refkit_hit")
					.select([day, exactAt, "id", "link_id", "user_id", "visitor_id"])
					.where(where)
					.orderBy("created_at")
					.orderBy("id")
					.limit(PAGE)
					.execute(),
			)) {
				yield { hits: hits.map(toCountedHit), conversions: [] as CountedConversion[] };
			}
			for await (const conversions of pages(period, (where) =>
				db
					.selectFrom("refkit_conversion")
					.select([
						day,
						exactAt,
						"id",
						"link_id",
						"goal",
						"referred_user_id",
						"referrer_user_id",
						"reversed_at",
					])
					.where(where)
					.orderBy("created_at")
					.orderBy("id")
					.limit(PAGE)
					.execute(),
			)) {
				yield { hits: [] as CountedHit[], conversions: conversions.map(toCountedConversion) };
			}
		},

		finishDaySummary: async (day, marker, summaries) => {
			await summaryTestHooks.afterRead?.(day);
			return ctx.run("summarise a day", () =>
				ctx.transaction(async ({ db: tx }) => {
					await lockDays(tx, [day]);
					const mine = await tx
						.selectFrom("refkit_stats_day")
						.select("link_id")
						.where("day", "=", day)
						.where("link_id", "=", marker)
						.executeTakeFirst();
					if (mine === undefined) return false;
					await tx.deleteFrom("refkit_stats_day").where("day", "=", day).execute();
					for (let i = 0; i < summaries.length; i += SUMMARIES_PER_INSERT) {
						await tx
							.insertInto("refkit_stats_day")
							.values(summaries.slice(i, i + SUMMARIES_PER_INSERT).map(toStatsDayRow))
							.execute();
					}
					return true;
				}),
			);
		},

		/**
		 * The period's hits and conversions, up to `query.to` included, with the UTC day of each: what `stats()`
		 * reads one by one after the summaries (at most the last hour or so of the day under way).
		 */
		countedRows: (query) =>
			ctx.run("read hits and conversions to count", async () => {
				const day = dialect.utcDay("created_at").as("day");
				const hits = await db
					.selectFrom("refkit_hit")
					.select([day, "link_id", "user_id", "visitor_id"])
					.where(inPeriod(query, true))
					.execute();
				const conversions = await db
					.selectFrom("refkit_conversion")
					.select([day, "link_id", "goal", "referred_user_id", "referrer_user_id", "reversed_at"])
					.where(inPeriod(query, true))
					.execute();
				return { hits: hits.map(toCountedHit), conversions: conversions.map(toCountedConversion) };
			}),
	};
}
