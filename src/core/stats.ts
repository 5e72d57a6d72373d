import { RefkitError } from "../errors.js";
import type { DayCounts, StatsQuery } from "../store/store.js";
import type { DailyStats, Stats } from "../types.js";
import type { CoreContext } from "./context.js";
import { assertTime } from "./conversions.js";
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

const DAY = 24 * 60 * 60 * 1000;

function invalid(message: string): never {
	throw new RefkitError("INVALID_ARGUMENT", `refkit: ${message}`);
}

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
export function fillDays(dayStarts: Date[], counts: DayCounts[]): DailyStats[] {
	return dayStarts.map((start, i) => ({
		date: start.toISOString().slice(0, 10),
		hits: counts[i]?.hits ?? 0,
		conversions: counts[i]?.conversions ?? 0,
	}));
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
	const [totals, daily, topReferrers] = await Promise.all([
		store.statsTotals(query),
		store.dailyCounts(query, dayStarts),
		linkId === undefined ? store.topReferrers(query, TOP_REFERRERS) : Promise.resolve([]),
	]);
	return {
		from,
		to,
		link,
		totals: {
			links: linkId === undefined ? totals.links : 1,
			hits: totals.hits,
			uniqueVisitors: totals.uniqueVisitors,
			claimedUsers: totals.claimedUsers,
			conversions: Object.values(totals.conversionsByGoal).reduce((sum, n) => sum + n, 0),
			conversionsByGoal: totals.conversionsByGoal,
			reversed: totals.reversed,
			conversionRate: conversionRate(totals.convertedUsers, totals.uniqueVisitors),
		},
		daily: fillDays(dayStarts, daily),
		topReferrers,
	};
}
