import type { Payout, Program } from "../programs/types.js";

/**
 * The vocabulary of the referrer's view: what `refkit.referrerSummary()` answers about one user, and nothing
 * about anyone else. Every amount is a whole number of the currency's minor units beside its ISO 4217 code;
 * every day is a UTC day written `YYYY-MM-DD`.
 */

/**
 * How the application names a user to a referrer: a display name ("Ada L."), or `null` to keep them masked.
 * refkit calls it for the referred users of the recent referrals, and for the leaderboard's referrers. What it
 * answers is shown as it is (escaped): never answer an email address or anything else private.
 *
 * @example
 * const displayName: DisplayName = async (userId) => (await users.find(userId))?.firstName ?? null;
 */
export type DisplayName = (userId: string) => string | null | undefined | Promise<string | null | undefined>;

/** What `refkit.referrerSummary()` is asked, beside the user id. Every field is optional. */
export interface ReferrerSummaryInput {
	/** How many UTC days the funnel covers, today included: 1 to 366; default 30. */
	days?: number | undefined;
	/**
	 * Only this link's funnel (its identifier). It must be one of the user's own links: any other identifier,
	 * another user's included, throws `LINK_NOT_FOUND`, the same as an unknown one; a malformed one throws
	 * `INVALID_IDENTIFIER`.
	 */
	link?: string | undefined;
	/**
	 * The application's public origin, such as `https://example.com`, for the links' full URLs. Without it,
	 * each link's `url` is its path (`/ref/abc123`).
	 */
	baseUrl?: string | undefined;
	/** How referred users (and the leaderboard's referrers) are named; default: masked, by their `alias` alone. */
	displayName?: DisplayName | undefined;
	/** How many recent referrals to list: 0 to 100; default 20. */
	referrals?: number | undefined;
	/** How many recent payouts to list: 0 to 100; default 20. */
	payouts?: number | undefined;
	/** Whether to rank the period's top referrers (by conversions, then clicks); default `false`. */
	leaderboard?: boolean | undefined;
	/** The end of the period and the time earnings are read at; default the current time. */
	now?: Date | undefined;
}

/** One of the referrer's links, with what to share. */
export interface ReferrerLink {
	/** The identifier: also the code a referred user can type (`refkit.applyCode()`). */
	identifier: string;
	/** The link's path, `/ref/<identifier>` under the application's `mountPath`. */
	path: string;
	/** The full URL when a `baseUrl` was given; otherwise the path. */
	url: string;
	/** A disabled link records nothing: the page says so, and shows no QR code for it. */
	disabled: boolean;
	/** The program its referrals earn under (the default program's id when the link names none); `null` without programs. */
	program: string | null;
	createdAt: Date;
}

/** One UTC day of the referrer's funnel. */
export interface ReferrerDay {
	/** `YYYY-MM-DD`, in UTC. */
	date: string;
	/** Visits that followed the referrer's links, and codes typed. */
	clicks: number;
	/** Conversions credited to the referrer that day, per goal (reversed ones not counted); goals without any are absent. */
	conversions: Record<string, number>;
}

/** The referrer's funnel over the period: clicks, then each goal's conversions. */
export interface ReferrerFunnel {
	/** The goals reached in the period, in byte order (`purchase`, `signup`...). */
	goals: string[];
	totals: {
		clicks: number;
		/** Conversions per goal, not counting reversed ones. */
		conversions: Record<string, number>;
		/** Conversions of the period that were reversed since (refunds, fraud). */
		reversed: number;
	};
	/** Every day of the period, oldest first, days without activity included as zeros. */
	daily: ReferrerDay[];
}

/** The referrer's money in one currency, by state: what the ledger's `balances()` says, in words a referrer reads. */
export interface ReferrerEarnings {
	currency: string;
	/** Earned, waiting for its holding period (the refund window) to end. */
	pending: number;
	/** Held for review. */
	held: number;
	/** Payable at the next payout run (clawbacks netted; it can be negative). */
	payable: number;
	/** Paid out. */
	paid: number;
}

/** Pending earnings that become payable on one UTC day, in one currency. */
export interface UpcomingEarnings {
	/** `YYYY-MM-DD`, in UTC: the day the holding period ends. */
	date: string;
	currency: string;
	amount: number;
}

/** A payout to the referrer, without the application's internal fields. */
export type ReferrerPayout = Pick<
	Payout,
	"id" | "amount" | "currency" | "status" | "reference" | "createdAt" | "paidAt"
>;

/** One referral credited to the referrer: a referred user who reached a goal. */
export interface ReferrerReferral {
	/** What `displayName` answered, or `null`: the user is then known by `alias` alone. */
	name: string | null;
	/**
	 * A short pseudonym of the referred user (6 hexadecimal digits), the same on every call and for every
	 * referrer as long as the application's secret is, that reveals nothing of their user id (it is keyed by
	 * the secret). It is not the alias the same user has on the leaderboard, so that a referrer cannot follow
	 * a friend they referred there.
	 */
	alias: string;
	goal: string;
	createdAt: Date;
	/** Whether the conversion was reversed since. */
	reversed: boolean;
}

/** A referrer of the leaderboard. */
export interface LeaderboardEntry {
	/** 1 for the first. */
	rank: number;
	/** What `displayName` answered, or `null` (masked, known by `alias`). */
	name: string | null;
	alias: string;
	/** Whether this is the referrer the summary is about. */
	you: boolean;
	conversions: number;
	clicks: number;
}

/** Everything a referrer may see about themselves, as `refkit.referrerSummary()` answers it. */
export interface ReferrerSummary {
	userId: string;
	/** The funnel's period: from 00:00 UTC of its first day to `to`. */
	period: { from: Date; to: Date; days: number };
	/** The referrer's links, oldest first: their newest 100 (whose clicks the funnel counts). */
	links: ReferrerLink[];
	/** The identifier of the link the funnel is about, or `null` for all of them. */
	link: string | null;
	funnel: ReferrerFunnel;
	/** Per currency, in alphabetical order; empty without programs or earnings. */
	earnings: ReferrerEarnings[];
	/** Pending earnings by the day they become payable, soonest first. */
	upcoming: UpcomingEarnings[];
	/** The most recent payouts, newest first. */
	payouts: ReferrerPayout[];
	/** The most recent referrals, newest first. */
	referrals: ReferrerReferral[];
	/** The terms of the programs the referrer's links earn under. */
	programs: Program[];
	/** The top referrers of the period, when asked for (`leaderboard: true`); otherwise `null`. */
	leaderboard: LeaderboardEntry[] | null;
}
