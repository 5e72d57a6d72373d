import { createHmac } from "node:crypto";
import { assertTime, assertUserId, filtersObject, invalid, optionalBoolean } from "../core/arguments.js";
import type { CoreContext } from "../core/context.js";
import { assertIdentifier } from "../core/identifiers.js";
import { DEFAULT_STATS_DAYS, MAX_STATS_DAYS, stats, statsPeriod } from "../core/stats.js";
import { RefkitError } from "../errors.js";
import type { Program } from "../programs/types.js";
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
export function aliasOf(secret: string, userId: string): string {
	return createHmac("sha256", secret).update(`refkit.alias\u0000${userId}`).digest("hex").slice(0, 6);
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
		ctx.options.onError(error, { operation: "referrer" });
		return null;
	}
}

/** Byte order of UTF-8, the order both databases give text. */
function byteOrder(a: string, b: string): number {
	return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** The clicks of each day of the period, over `links`, from `stats()` (read from its daily summaries). */
async function clicksByDay(ctx: CoreContext, links: ReferralLink[], days: number, now: Date) {
	const clicks = new Map<string, number>();
	const all = await Promise.all(links.map((link) => stats(ctx, { link: link.identifier, days, now })));
	for (const linkStats of all) {
		for (const day of linkStats.daily) clicks.set(day.date, (clicks.get(day.date) ?? 0) + day.hits);
	}
	return clicks;
}

async function funnel(ctx: CoreContext, checked: Checked, links: ReferralLink[]) {
	const { from, to, dayStarts } = statsPeriod(checked.days, checked.now);
	const linkIds = checked.link === null ? undefined : links.map((link) => link.id);
	const [clicks, conversionDays] = await Promise.all([
		clicksByDay(ctx, links, checked.days, checked.now),
		ctx.store.referrerConversionDays({ referrerUserId: checked.userId, linkIds, from, to }),
	]);
	const byDay = new Map<string, Record<string, number>>();
	const totals: Record<string, number> = {};
	const goals = new Set<string>();
	let reversed = 0;
	for (const row of conversionDays) {
		goals.add(row.goal);
		reversed += row.reversed;
		const active = row.total - row.reversed;
		if (active === 0) continue;
		const day = byDay.get(row.day) ?? {};
		day[row.goal] = (day[row.goal] ?? 0) + active;
		byDay.set(row.day, day);
		totals[row.goal] = (totals[row.goal] ?? 0) + active;
	}
	const sortedGoals = [...goals].sort(byteOrder);
	const daily: ReferrerDay[] = dayStarts.map((start) => {
		const date = start.toISOString().slice(0, 10);
		const conversions: Record<string, number> = {};
		const day = byDay.get(date) ?? {};
		for (const goal of sortedGoals) if (day[goal] !== undefined) conversions[goal] = day[goal];
		return { date, clicks: clicks.get(date) ?? 0, conversions };
	});
	const conversions: Record<string, number> = {};
	for (const goal of sortedGoals) if (totals[goal] !== undefined) conversions[goal] = totals[goal];
	const clickTotal = daily.reduce((sum, day) => sum + day.clicks, 0);
	return {
		period: { from, to, days: checked.days },
		funnel: { goals: sortedGoals, totals: { clicks: clickTotal, conversions, reversed }, daily },
	};
}

async function leaderboard(ctx: CoreContext, checked: Checked): Promise<LeaderboardEntry[]> {
	const { topReferrers } = await stats(ctx, { days: checked.days, now: checked.now });
	return Promise.all(
		topReferrers.map(async (referrer, i) => ({
			rank: i + 1,
			name: await nameOf(ctx, checked.displayName, referrer.userId),
			alias: aliasOf(ctx.options.secret, referrer.userId),
			you: referrer.userId === checked.userId,
			conversions: referrer.conversions,
			clicks: referrer.hits,
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
	const [counted, balances, upcoming, payouts, conversions, board] = await Promise.all([
		funnel(ctx, checked, chosen),
		programs ? store.balances(checked.userId, checked.now) : Promise.resolve([]),
		programs ? store.upcomingEarnings(checked.userId, checked.now) : Promise.resolve([]),
		programs && checked.payouts > 0
			? store.listPayouts({ userId: checked.userId, limit: checked.payouts, offset: 0 })
			: Promise.resolve([]),
		checked.referrals > 0
			? store.listConversions({ referrerUserId: checked.userId, limit: checked.referrals, offset: 0 })
			: Promise.resolve([]),
		checked.leaderboard ? leaderboard(ctx, checked) : Promise.resolve(null),
	]);
	const referrals = await Promise.all(
		conversions.map(
			async (conversion): Promise<ReferrerReferral> => ({
				name: await nameOf(ctx, checked.displayName, conversion.referredUserId),
				alias: aliasOf(options.secret, conversion.referredUserId),
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
