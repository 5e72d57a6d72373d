import { RefkitError } from "../errors.js";
import type { DaySummary, StatsQuery, WeekSummary } from "../store/store.js";
import type { DailyStats, Stats, TopReferrer } from "../types.js";
import { assertTime, invalid } from "./arguments.js";
import type { CoreContext } from "./context.js";
import { Counts, dayOf } from "./counts.js";
import { summarizeDay, weekFromDays } from "./day-summaries.js";
import { assertIdentifier } from "./identifiers.js";

/** What `refkit.stats()` is asked: a period of whole UTC days ending now, for all links or one. */
export interface StatsInput {
	/** Only this link's numbers (its identifier); default all links. An unknown one throws `LINK_NOT_FOUND`. */
	link?: string | undefined;
	/** How many UTC days the period covers, today included: 1 to 366; default 30. */
	days?: number | undefined;
	/** The end of the period; default the current time. */
	now?: Date | undefined;
}

/** The number of days `stats()` covers by default. */
export const DEFAULT_STATS_DAYS = 30;
/** The longest period `stats()` covers: a leap year. */
export const MAX_STATS_DAYS = 366;
/** How many referrers `stats()` ranks. */
export const TOP_REFERRERS = 10;

const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;
/**
 * What is older than this is summarised (see migrations 0004 and 0005): the days that ended this long ago,
 * and the whole hours of the day under way that did. A hit or conversion written later still counts: writing
 * it forgets the summaries that cover its time. The delay only keeps the last moments' writes from making
 * `stats()` summarise again and again.
 */
export const SUMMARY_DELAY_MS = 10 * 60 * 1000;

/**
 * The period of `days` UTC days ending at `now`: from 00:00 UTC of the first day to `now` (included), and the
 * start of each day, oldest first.
 */
export function statsPeriod(days: number, now: Date): { from: Date; to: Date; dayStarts: Date[] } {
	const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
	const first = today - (days - 1) * DAY;
	const dayStarts = Array.from({ length: days }, (_, i) => new Date(first + i * DAY));
	return { from: new Date(first), to: new Date(now.getTime()), dayStarts };
}

/** One entry per day, oldest first, dated `YYYY-MM-DD` (UTC); a day without counts has zeros. */
export function fillDays(dayStarts: Date[], counts: Counts): DailyStats[] {
	return dayStarts.map((start) => {
		const date = dayOf(start);
		const day = counts.days?.get(date);
		return { date, hits: day?.hits ?? 0, conversions: day?.conversions ?? 0 };
	});
}

/** A day of the period to read from summaries, and the time its summaries should reach. */
interface SummarisedDay {
	day: string;
	start: number;
	until: number;
}

const isWhole = ({ start, until }: SummarisedDay) => until === start + DAY;

/**
 * Counts the period's hits and conversions: each day from its summaries (made now when missing or short),
 * whole days once they ended {@link SUMMARY_DELAY_MS} ago, and the day under way up to the last whole hour
 * that did; what follows, one row at a time. For all links, whole weeks are read from their weekly summaries,
 * made once their seven days are summarised. A day the period ends in the middle of is read row by row,
 * unless it is the day under way.
 */
async function countPeriod(ctx: CoreContext, query: StatsQuery, dayStarts: Date[]): Promise<Counts> {
	const { store } = ctx;
	const end = query.to.getTime() + 1;
	const settled = ctx.now().getTime() - SUMMARY_DELAY_MS;
	const counts = new Counts("period");
	const wanted = query.linkId ?? 0;
	const days: SummarisedDay[] = [];
	for (const start of dayStarts) {
		const dayEnd = start.getTime() + DAY;
		const until = dayEnd <= settled ? dayEnd : Math.floor(settled / HOUR) * HOUR;
		if (until <= start.getTime() || until > end) break;
		days.push({ day: dayOf(start), start: start.getTime(), until });
		if (until < dayEnd) break;
	}
	// Whole weeks, for all links: the index of each Monday (UTC day 1) with six more whole days after it.
	const mondays =
		wanted === 0
			? days.flatMap(({ start }, i) => {
					const sunday = days[i + 6];
					return new Date(start).getUTCDay() === 1 && sunday !== undefined && isWhole(sunday) ? [i] : [];
				})
			: [];
	const weeks = new Map<string, WeekSummary>();
	const firstMonday = days[mondays[0] ?? -1];
	const lastMonday = days[mondays.at(-1) ?? -1];
	if (firstMonday !== undefined && lastMonday !== undefined) {
		for (const week of await store.weekSummaries(firstMonday.day, lastMonday.day)) weeks.set(week.week, week);
	}
	const inWeeks = new Set<string>();
	for (const i of mondays) {
		if (weeks.has((days[i] as SummarisedDay).day))
			for (const { day } of days.slice(i, i + 7)) inWeeks.add(day);
	}
	const stored = new Map<string, DaySummary[]>();
	const unread = days.filter(({ day }) => !inWeeks.has(day)).map(({ day }) => day);
	for (const summary of await store.summaries(unread, query.linkId)) {
		const day = stored.get(summary.day);
		if (day === undefined) stored.set(summary.day, [summary]);
		else day.push(summary);
	}
	let readFrom = query.from.getTime();
	for (let i = 0; i < days.length; i++) {
		const { day, start, until } = days[i] as SummarisedDay;
		const week = weeks.get(day);
		if (week !== undefined) {
			counts.addSummary(week);
			i += 6;
			readFrom = start + 7 * DAY;
			continue;
		}
		let summaries = stored.get(day) ?? [];
		// A day's summaries are there when its all-links summary is; a link without activity has none.
		let covered = summaries.find((summary) => summary.linkId === 0)?.until.getTime();
		if (covered === undefined || covered < until || covered > end) {
			const to = new Date(until);
			summaries = await summarizeDay(store, day, to);
			covered = until;
		}
		for (const summary of summaries) if (summary.linkId === wanted) counts.addSummary(summary);
		readFrom = covered;
		// The Sunday of a whole week without a summary: make it for the next time.
		if (mondays.includes(i - 6)) {
			const week = days.slice(i - 6, i + 1).map((d) => d.day);
			await store.summarizeWeek(week, (summaries) => weekFromDays(week, summaries));
		}
	}
	if (readFrom <= query.to.getTime()) {
		const { hits, conversions } = await store.countedRows({ ...query, from: new Date(readFrom) });
		for (const hit of hits) counts.addHit(hit);
		for (const conversion of conversions) counts.addConversion(conversion);
	}
	return counts;
}

/** Byte order of UTF-8, the order PostgreSQL's "C" collation and SQLite give text. */
export function byteOrder(a: string, b: string): number {
	return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/**
 * The referrers with the most conversions (not reversed), then hits, then by user id; at most `limit`: from
 * the hits per link (credited to each link's owner) and the conversions per referrer of a period.
 */
export async function rankReferrers(
	ctx: CoreContext,
	linkHits: ReadonlyMap<number, number>,
	conversions: ReadonlyMap<string, number>,
	limit: number,
): Promise<TopReferrer[]> {
	const owners = await ctx.store.linkOwners([...linkHits.keys()]);
	const referrers = new Map<string, TopReferrer>();
	const referrer = (userId: string) => {
		let found = referrers.get(userId);
		if (found === undefined) {
			found = { userId, hits: 0, conversions: 0 };
			referrers.set(userId, found);
		}
		return found;
	};
	for (const [linkId, hits] of linkHits) {
		const owner = owners.get(linkId);
		if (owner !== undefined && hits > 0) referrer(owner).hits += hits;
	}
	for (const [userId, count] of conversions) referrer(userId).conversions += count;
	return [...referrers.values()]
		.filter((found) => found.hits + found.conversions > 0)
		.sort((a, b) => b.conversions - a.conversions || b.hits - a.hits || byteOrder(a.userId, b.userId))
		.slice(0, limit);
}

/**
 * Converted users ÷ unique visitors, from 0 to 1: 0 without visitors, and at most 1 (users converted in the
 * period may have visited before it).
 */
export function conversionRate(convertedUsers: number, uniqueVisitors: number): number {
	if (uniqueVisitors === 0) return 0;
	return Math.min(1, convertedUsers / uniqueVisitors);
}

function checkInput(input: unknown, now: () => Date): { link: string | null; days: number; now: Date } {
	if (input === undefined) return { link: null, days: DEFAULT_STATS_DAYS, now: now() };
	if (typeof input !== "object" || input === null)
		invalid("stats() takes an object such as { days: 30 }, or nothing.");
	const { link, days = DEFAULT_STATS_DAYS, now: at } = input as StatsInput;
	if (typeof days !== "number" || !Number.isInteger(days) || days < 1 || days > MAX_STATS_DAYS) {
		invalid(
			`stats()'s days must be a whole number from 1 to ${MAX_STATS_DAYS} (got ${JSON.stringify(days)}).`,
		);
	}
	return {
		link: link === undefined ? null : assertIdentifier(link),
		days,
		now: assertTime(at, "stats()'s now", now),
	};
}

/**
 * The numbers of a period of `days` UTC days ending at `now`, for all links or one: totals, a series with
 * every day, and (for all links) the top referrers.
 */
export async function stats(ctx: CoreContext, input?: StatsInput): Promise<Stats> {
	const { link, days, now } = checkInput(input, ctx.now);
	const { store } = ctx;
	let linkId: number | undefined;
	if (link !== null) {
		const found = await store.findLink(link);
		if (found === null)
			throw new RefkitError("LINK_NOT_FOUND", `refkit: no link has the identifier "${link}".`);
		linkId = found.id;
	}
	const { from, to, dayStarts } = statsPeriod(days, now);
	const query: StatsQuery = { linkId, from, to };
	const [counts, links] = await Promise.all([
		countPeriod(ctx, query, dayStarts),
		linkId === undefined ? store.countLinks() : Promise.resolve(1),
	]);
	const topReferrers =
		linkId === undefined ? await rankReferrers(ctx, counts.linkHits, counts.referrers, TOP_REFERRERS) : [];
	const uniqueVisitors = counts.visitors.count;
	const conversionsByGoal: Record<string, number> = {};
	let conversions = 0;
	let reversed = 0;
	for (const [goal, [active, undone]] of [...counts.goals].sort(([a], [b]) => byteOrder(a, b))) {
		if (active > 0) conversionsByGoal[goal] = active;
		conversions += active;
		reversed += undone;
	}
	return {
		from,
		to,
		link,
		totals: {
			links,
			hits: counts.hits,
			uniqueVisitors,
			claimedUsers: counts.users.count,
			estimated: !counts.visitors.exact || !counts.users.exact || !counts.converted.exact,
			conversions,
			conversionsByGoal,
			reversed,
			conversionRate: conversionRate(counts.converted.count, uniqueVisitors),
		},
		daily: fillDays(dayStarts, counts),
		topReferrers,
	};
}
