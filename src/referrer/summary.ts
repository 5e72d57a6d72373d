import { createHmac } from "node:crypto";
import { assertTime, assertUserId, filtersObject, invalid, optionalBoolean } from "../core/arguments.js";
import type { CoreContext } from "../core/context.js";
import { addLinkHits, dayOf, increment } from "../core/counts.js";
import { summarizeDay } from "../core/day-summaries.js";
import { assertIdentifier } from "../core/identifiers.js";
import { report } from "../core/report.js";
import {
	byteOrder,
	DEFAULT_STATS_DAYS,
	MAX_STATS_DAYS,
	rankReferrers,
	SUMMARY_DELAY_MS,
	statsPeriod,
	TOP_REFERRERS,
} from "../core/stats.js";
import { RefkitError } from "../errors.js";
import type { Program } from "../programs/types.js";
import type { SummaryCounts } from "../store/store.js";
import type { ReferralLink } from "../types.js";
import type {
	DisplayName,
	LeaderboardEntry,
	ReferrerDay,
	ReferrerLink,
	ReferrerPayout,
	ReferrerReferral,
	ReferrerSummary,
	ReferrerSummaryInput,
} from "./types.js";

/** How many of a referrer's links the summary reads: far more than anyone shares. */
export const MAX_REFERRER_LINKS = 100;
/** The recent referrals and payouts listed by default. */
export const DEFAULT_RECENT = 20;
const MAX_RECENT = 100;

interface Checked {
	userId: string;
	days: number;
	link: string | null;
	origin: string | null;
	displayName: DisplayName | null;
	referrals: number;
	payouts: number;
	leaderboard: boolean;
	now: Date;
}

function count(value: unknown, name: string, fallback: number, max: number): number {
	if (value === undefined) return fallback;
	if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > max) {
		invalid(
			`referrerSummary()'s ${name} must be a whole number from 0 to ${max} (got ${JSON.stringify(value)}).`,
		);
	}
	return value;
}

/** `https://example.com` (its origin only) from a `baseUrl`; `INVALID_ARGUMENT` for anything else. */
export function baseOrigin(value: unknown, name: string): string {
	let url: URL | null = null;
	try {
		url = typeof value === "string" ? new URL(value) : null;
	} catch {
		url = null;
	}
	if (
		url === null ||
		(url.protocol !== "https:" && url.protocol !== "http:") ||
		url.pathname !== "/" ||
		url.search !== "" ||
		url.hash !== "" ||
		url.username !== "" ||
		url.password !== ""
	) {
		invalid(`${name} must be an origin such as "https://example.com" (got ${JSON.stringify(value)}).`);
	}
	return url.origin;
}

function check(ctx: CoreContext, userId: unknown, input: ReferrerSummaryInput | undefined): Checked {
	const checkedUser = assertUserId(userId, "referrerSummary()");
	const filters: ReferrerSummaryInput = filtersObject(input, "referrerSummary()");
	const days = filters.days ?? DEFAULT_STATS_DAYS;
	if (typeof days !== "number" || !Number.isInteger(days) || days < 1 || days > MAX_STATS_DAYS) {
		invalid(
			`referrerSummary()'s days must be a whole number from 1 to ${MAX_STATS_DAYS} (got ${JSON.stringify(days)}).`,
		);
	}
	if (filters.displayName !== undefined && typeof filters.displayName !== "function") {
		invalid("referrerSummary()'s displayName must be a function (userId) => string | null.");
	}
	return {
		userId: checkedUser,
		days,
		link: filters.link === undefined ? null : assertIdentifier(filters.link),
		origin: filters.baseUrl === undefined ? null : baseOrigin(filters.baseUrl, "referrerSummary()'s baseUrl"),
		displayName: filters.displayName ?? null,
		referrals: count(filters.referrals, "referrals", DEFAULT_RECENT, MAX_RECENT),
		payouts: count(filters.payouts, "payouts", DEFAULT_RECENT, MAX_RECENT),
		leaderboard: optionalBoolean(filters.leaderboard, "referrerSummary()'s leaderboard") ?? false,
		now: assertTime(filters.now, "referrerSummary()'s now", ctx.now),
	};
}

/**
 * A user's pseudonym for other users' eyes: 6 hexadecimal digits of an HMAC of their id under the
 * application's secret, so that it tells referrals apart without revealing, or letting anyone compute, whose
 * they are.
 */
export function aliasOf(secret: string, role: "referred" | "referrer", userId: string): string {
	return createHmac("sha256", secret)
		.update(`refkit.alias\u0000${role}\u0000${userId}`)
		.digest("hex")
		.slice(0, 6);
}

/** What `displayName` answers for `userId`: a non-empty string, or `null` (masked); its failure is reported. */
async function nameOf(
	ctx: CoreContext,
	displayName: DisplayName | null,
	userId: string,
): Promise<string | null> {
	if (displayName === null) return null;
	try {
		const name = await displayName(userId);
		return typeof name === "string" && name.trim() !== "" ? name.trim().slice(0, 200) : null;
	} catch (error) {
		report(ctx, error, { operation: "referrer" });
		return null;
	}
}

const DAY = 24 * 60 * 60 * 1000;

/** What the day summaries and the rows after them count of the period. */
interface PeriodCounts {
	/** The referrer's clicks (over the links asked for) per day. */
	clicks: Map<string, number>;
	/** With the leaderboard: every link's hits, and every referrer's conversions that are not reversed. */
	linkHits: Map<number, number> | null;
	referrers: Map<string, number> | null;
}

/**
 * What the stored summaries count of the period, day after day from its first, for as long as each day's
 * summary is there and whole (the day under way's, up to its last summarised hour), and counts nothing after
 * `to`; and the time from which the rows are still to be counted one by one.
 */
function fromSummaries(rows: SummaryCounts[], dayStarts: Date[], to: Date, everyLink: boolean) {
	const byDay = new Map<string, SummaryCounts[]>();
	for (const row of rows) {
		const day = byDay.get(row.day);
		if (day === undefined) byDay.set(row.day, [row]);
		else day.push(row);
	}
	const counts: PeriodCounts = {
		clicks: new Map(),
		linkHits: everyLink ? new Map() : null,
		referrers: everyLink ? new Map() : null,
	};
	const linkHits: Uint32Array[] = [];
	// A summary counts its day's rows made before `until`; the period ends at `to`, included.
	const end = to.getTime() + 1;
	let readFrom = end;
	for (const start of dayStarts) {
		const day = dayOf(start);
		const summaries = byDay.get(day) ?? [];
		const all = summaries.find((summary) => summary.linkId === 0);
		if (all === undefined || all.until.getTime() > end) {
			readFrom = start.getTime();
			break;
		}
		// The other rows are the links asked for: a link without hits that day has none.
		let clicks = 0;
		for (const summary of summaries) if (summary.linkId !== 0) clicks += summary.hits;
		counts.clicks.set(day, clicks);
		if (all.linkHits !== null) linkHits.push(all.linkHits);
		for (const userId in all.referrers)
			if (counts.referrers !== null) increment(counts.referrers, userId, all.referrers[userId]);
		if (all.until.getTime() < start.getTime() + DAY) {
			readFrom = all.until.getTime();
			break;
		}
	}
	if (counts.linkHits !== null) addLinkHits(linkHits, counts.linkHits);
	return { counts, readFrom };
}

/**
 * Makes the summaries of the period's whole days that are missing or fall short: each day's once it ended
 * {@link SUMMARY_DELAY_MS} ago, as `stats()` would (see `countPeriod()` in src/core/stats.ts). Not the day under
 * way's: `stats()` keeps one up to its last whole hour, but a claim or a late hit of the day forgets it, and
 * summarising it again reads every link's hits of the day, where counting the referrer's own costs what they
 * made. Whether it made any.
 */
async function summariseDays(
	ctx: CoreContext,
	rows: SummaryCounts[],
	dayStarts: Date[],
	to: Date,
): Promise<boolean> {
	const covered = new Map<string, number>();
	for (const row of rows) if (row.linkId === 0) covered.set(row.day, row.until.getTime());
	const settled = ctx.now().getTime() - SUMMARY_DELAY_MS;
	let made = false;
	for (const start of dayStarts) {
		const end = start.getTime() + DAY;
		if (end > settled || end > to.getTime() + 1) break;
		const day = dayOf(start);
		if ((covered.get(day) ?? -1) < end) {
			// Every link's summaries of the day at once; kept unless the day changed meanwhile.
			await summarizeDay(ctx.store, day, new Date(end));
			made = true;
		}
	}
	return made;
}

/**
 * The period's clicks on `links` by day and, for the leaderboard, every link's hits and every referrer's
 * conversions: from the day summaries `stats()` keeps, reading their counts alone (`stats()` of a link would
 * also read and merge the sketches of every link's visitors: most of a summary's size and of its time), then
 * counting the rows after them: those of the day under way, unless `stats()` summarised part of it. The
 * summaries of whole days that are not there yet (on the first call, after a write forgot a day) are made first.
 */
async function periodCounts(
	ctx: CoreContext,
	checked: Checked,
	links: ReferralLink[],
): Promise<PeriodCounts> {
	const everyLink = checked.leaderboard;
	if (links.length === 0 && !everyLink) return { clicks: new Map(), linkHits: null, referrers: null };
	const { now, days } = checked;
	const { dayStarts } = statsPeriod(days, now);
	const linkIds = links.map((link) => link.id);
	const query = {
		linkIds,
		firstDay: dayOf(dayStarts[0] as Date),
		lastDay: dayOf(dayStarts.at(-1) as Date),
		everyLink,
	};
	let rows = await ctx.store.summaryCounts(query);
	if (await summariseDays(ctx, rows, dayStarts, now)) rows = await ctx.store.summaryCounts(query);
	const { counts, readFrom } = fromSummaries(rows, dayStarts, now, everyLink);
	if (readFrom <= now.getTime()) {
		const from = new Date(readFrom);
		const [clicks, latest] = await Promise.all([
			links.length > 0 ? ctx.store.linkHitDays({ linkIds, from, to: now }) : [],
			everyLink ? ctx.store.leaderCounts({ from, to: now }) : null,
		]);
		for (const { day, hits } of clicks) increment(counts.clicks, day, hits);
		for (const [linkId, hits] of latest?.linkHits ?? [])
			if (counts.linkHits !== null) increment(counts.linkHits, linkId, hits);
		for (const [userId, conversions] of latest?.referrers ?? [])
			if (counts.referrers !== null) increment(counts.referrers, userId, conversions);
	}
	return counts;
}

async function funnel(ctx: CoreContext, checked: Checked, links: ReferralLink[]) {
	const { from, to, dayStarts } = statsPeriod(checked.days, checked.now);
	const linkIds = checked.link === null ? undefined : links.map((link) => link.id);
	const [counts, conversionDays] = await Promise.all([
		periodCounts(ctx, checked, links),
		ctx.store.referrerConversionDays({ referrerUserId: checked.userId, linkIds, from, to }),
	]);
	const { clicks } = counts;
	// Counted in maps, made objects with Object.fromEntries: a goal may be named `constructor` or `__proto__`.
	const byDay = new Map<string, Map<string, number>>();
	const totals = new Map<string, number>();
	const goals = new Set<string>();
	let reversed = 0;
	for (const row of conversionDays) {
		goals.add(row.goal);
		reversed += row.reversed;
		const active = row.total - row.reversed;
		if (active === 0) continue;
		const day = byDay.get(row.day) ?? new Map<string, number>();
		increment(day, row.goal, active);
		byDay.set(row.day, day);
		increment(totals, row.goal, active);
	}
	const sortedGoals = [...goals].sort(byteOrder);
	const inOrder = (counts: Map<string, number> | undefined): Record<string, number> =>
		Object.fromEntries(
			sortedGoals.flatMap((goal) => {
				const count = counts?.get(goal);
				return count === undefined ? [] : [[goal, count] as const];
			}),
		);
	const daily: ReferrerDay[] = dayStarts.map((start) => {
		const date = dayOf(start);
		return { date, clicks: clicks.get(date) ?? 0, conversions: inOrder(byDay.get(date)) };
	});
	const conversions = inOrder(totals);
	const clickTotal = daily.reduce((sum, day) => sum + day.clicks, 0);
	return {
		period: { from, to, days: checked.days },
		funnel: { goals: sortedGoals, totals: { clicks: clickTotal, conversions, reversed }, daily },
		counts,
	};
}

/**
 * The period's top referrers, ranked as `stats()` ranks its `topReferrers`: by conversions (not reversed),
 * then clicks on their links, then user id; those with neither left out.
 */
async function leaderboard(
	ctx: CoreContext,
	checked: Checked,
	{ linkHits, referrers }: PeriodCounts,
): Promise<LeaderboardEntry[] | null> {
	if (linkHits === null || referrers === null) return null;
	const top = await rankReferrers(ctx, linkHits, referrers, TOP_REFERRERS);
	return Promise.all(
		top.map(async (entry, i) => ({
			rank: i + 1,
			name: await nameOf(ctx, checked.displayName, entry.userId),
			alias: aliasOf(ctx.options.secret, "referrer", entry.userId),
			you: entry.userId === checked.userId,
			conversions: entry.conversions,
			clicks: entry.hits,
		})),
	);
}

/** The programs `links` earn under, in the order of the application's declaration. */
function programsOf(ctx: CoreContext, links: ReferralLink[]): Program[] {
	const { programs } = ctx.options;
	const ids = new Set(links.map((link) => link.program ?? programs.default?.id));
	return [...programs.byId.values()].filter((program) => ids.has(program.id));
}

/**
 * Everything `userId` may see as a referrer, and nothing about anyone else: their links, their funnel over the
 * period, their earnings, payouts and recent referrals (the referred users named by `displayName`, masked by
 * default), the terms they earn under and, when asked, the leaderboard.
 */
export async function referrerSummary(
	ctx: CoreContext,
	userId: string,
	input?: ReferrerSummaryInput,
): Promise<ReferrerSummary> {
	const checked = check(ctx, userId, input);
	const { store, options } = ctx;
	const owned = (await store.listLinks({ userId: checked.userId, limit: MAX_REFERRER_LINKS, offset: 0 }))
		// Oldest first: the first link a user got stays the one the page puts first.
		.reverse();
	const chosen = checked.link === null ? owned : owned.filter((link) => link.identifier === checked.link);
	if (checked.link !== null && chosen.length === 0) {
		// Another user's link answers as an unknown one: whether it exists is not this user's to learn.
		throw new RefkitError(
			"LINK_NOT_FOUND",
			`refkit: you have no link with the identifier "${checked.link}".`,
		);
	}
	const programs = options.programs.default !== null;
	const counting = funnel(ctx, checked, chosen);
	const [counted, balances, upcoming, payouts, conversions, board] = await Promise.all([
		counting,
		programs ? store.balances(checked.userId, checked.now) : Promise.resolve([]),
		programs ? store.upcomingEarnings(checked.userId, checked.now) : Promise.resolve([]),
		programs && checked.payouts > 0
			? store.listPayouts({ userId: checked.userId, limit: checked.payouts, offset: 0 })
			: Promise.resolve([]),
		checked.referrals > 0
			? store.listConversions({ referrerUserId: checked.userId, limit: checked.referrals, offset: 0 })
			: Promise.resolve([]),
		counting.then((counted) => leaderboard(ctx, checked, counted.counts)),
	]);
	const referrals = await Promise.all(
		conversions.map(
			async (conversion): Promise<ReferrerReferral> => ({
				name: await nameOf(ctx, checked.displayName, conversion.referredUserId),
				alias: aliasOf(options.secret, "referred", conversion.referredUserId),
				goal: conversion.goal,
				createdAt: conversion.createdAt,
				reversed: conversion.reversedAt !== null,
			}),
		),
	);
	const links = owned.map((link): ReferrerLink => {
		const path = `${options.mountPath}/${link.identifier}`;
		return {
			identifier: link.identifier,
			path,
			url: checked.origin === null ? path : `${checked.origin}${path}`,
			disabled: link.disabled,
			program: link.program ?? options.programs.default?.id ?? null,
			createdAt: link.createdAt,
		};
	});
	return {
		userId: checked.userId,
		period: counted.period,
		links,
		link: checked.link,
		funnel: counted.funnel,
		earnings: balances
			.map(({ currency, pending, held, approved, paid }) => ({
				currency,
				pending,
				held,
				payable: approved,
				paid,
			}))
			.sort((a, b) => byteOrder(a.currency, b.currency)),
		upcoming: upcoming
			.map(({ day, currency, amount }) => ({ date: day, currency, amount }))
			.sort((a, b) => byteOrder(a.date, b.date) || byteOrder(a.currency, b.currency)),
		payouts: payouts.map(
			({ id, amount, currency, status, reference, createdAt, paidAt }): ReferrerPayout => ({
				id,
				amount,
				currency,
				status,
				reference,
				createdAt,
				paidAt,
			}),
		),
		referrals,
		programs: programsOf(ctx, owned),
		leaderboard: board,
	};
}
