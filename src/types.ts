import type { Kysely } from "kysely";
import type { Commission, LedgerEvent, LedgerEventType, Payout, Sale } from "./programs/types.js";

/** A referral link: what a user shares as `/ref/<identifier>`. */
export interface ReferralLink {
	id: number;
	/** Unique, case-sensitive, `[A-Za-z0-9_]{1,50}`. */
	identifier: string;
	/** The user who owns the link; `null` for a link of nobody's (or whose user was erased). */
	userId: string | null;
	/** A disabled link records nothing and redirects to the success URL. */
	disabled: boolean;
	/** Where the link sends visitors when they give no safe `next`: a same-site path, or `null`. */
	target: string | null;
	/** The referral program its referrals earn under; `null` for the default program. */
	program: string | null;
	createdAt: Date;
	updatedAt: Date;
}

/** How a hit came about: a visitor followed `/ref/<identifier>` (or `?ref=`), or a user typed the code. */
export type HitSource = "link" | "code";

/** One visit that followed a referral link, or one referral code a user typed. */
export interface Hit {
	/** A UUID. */
	id: string;
	linkId: number;
	/** `link` for a followed link, `code` for a code applied with `refkit.applyCode()`. */
	source: HitSource;
	/** Whether the visitor was logged in when following the link. */
	authenticated: boolean;
	/** The visitor's user: set at once for a logged-in visitor, or later when an anonymous visitor logs in. */
	userId: string | null;
	/** The anonymous visitor's id from the signed cookie; `null` for a logged-in visitor. */
	visitorId: string | null;
	ip: string | null;
	userAgent: string | null;
	referer: string | null;
	/** The `next` the visitor asked for, as given. */
	next: string | null;
	/** When the referral this hit represents was confirmed, if it was. */
	confirmedAt: Date | null;
	createdAt: Date;
	updatedAt: Date;
}

/** A hit together with the identifier of its link, as listed by `refkit.listHits()`. */
export interface HitWithLink extends Hit {
	identifier: string;
}

/**
 * One referral confirmed for a goal: the referred user reached it (signed up, bought...) and the hit that
 * earned the credit is recorded. At most one per (referred user, goal), enforced by a unique constraint.
 */
export interface Conversion {
	/** A UUID; also the idempotency key of its delivery. */
	id: string;
	/** The goal reached, such as `signup` or `purchase`. */
	goal: string;
	/** The user who was referred and reached the goal. */
	referredUserId: string;
	/** The owner of the link credited, when the link has one. */
	referrerUserId: string | null;
	/** The hit credited; `null` once that hit has been pruned or erased. */
	hitId: string | null;
	/** The link credited; `null` once that link has been deleted. */
	linkId: number | null;
	/** An amount the application attached (an order total in cents, say), or `null`. */
	value: number | null;
	/** When the goal was reached. */
	createdAt: Date;
	/** When the conversion was reversed (a refund, fraud), or `null`. */
	reversedAt: Date | null;
	/** Why it was reversed, as given to `refkit.reverseConversion()`. */
	reversalReason: string | null;
	/** When the outbox delivered the conversion, or `null` while it is pending. */
	deliveredAt: Date | null;
	/** When the outbox delivered the reversal, or `null`. */
	reversalDeliveredAt: Date | null;
}

/** Which database a refkit instance runs on. */
export type DialectName = "sqlite" | "postgres";

/**
 * The transaction a `confirm()` reward runs in: a Kysely instance on refkit's database, bound to the
 * conversion's own transaction, so that whatever the reward writes through it commits with the conversion or
 * not at all. Its tables are the application's: type them with `tx.withTables<MyTables>()`, or write SQL with
 * Kysely's `sql` tag. It lives as long as the reward runs, and must not be kept or used for refkit's methods.
 *
 * @example
 * await refkit.confirm({ userId, goal: "signup" }, async (tx: RewardTransaction, conversion) => {
 * 	await sql`update account set credit = credit + 500 where id = ${conversion.referrerUserId}`.execute(tx);
 * });
 */
// biome-ignore lint/suspicious/noExplicitAny: the application's tables are its own; `withTables` types them.
export type RewardTransaction = Kysely<any>;

/** What one migration did, as reported by `refkit.migrate()`. */
export interface MigrationResult {
	migrationName: string;
	direction: "Up" | "Down";
	status: "Success" | "Error" | "NotExecuted";
}

/** One ledger event handed to a `deliverEvents()` handler. */
export interface LedgerDelivery {
	type: LedgerEventType;
	/** The event's id: the same on every retry, so a receiver can ignore repeats. */
	idempotencyKey: string;
	/** 1 on the first attempt, 2 on the first retry, and so on. */
	attempt: number;
	event: LedgerEvent;
}

/** One event the outbox hands to a delivery handler (see `refkit.deliverConversions()`). */
export interface Delivery {
	/** `conversion` when a conversion was recorded; `reversal` when it was later reversed. */
	type: "conversion" | "reversal";
	/**
	 * Stable across retries, so a receiver can ignore repeats: the conversion id for a conversion, and the
	 * conversion id followed by `:reversal` for its reversal.
	 */
	idempotencyKey: string;
	/** 1 on the first attempt, 2 on the first retry, and so on. */
	attempt: number;
	conversion: Conversion;
}

/** One day of a statistics series (UTC). */
export interface DailyStats {
	/** `YYYY-MM-DD`, in UTC. */
	date: string;
	hits: number;
	/** Conversions made that day, reversed ones included. */
	conversions: number;
}

/** A referrer ranked by what their links brought. */
export interface TopReferrer {
	userId: string;
	hits: number;
	/** Conversions credited to them, not counting reversed ones. */
	conversions: number;
}

/** What `refkit.stats()` reports for a period, overall or for one link. */
export interface Stats {
	/** The period: from the start of the first day (UTC) to `to`. */
	from: Date;
	to: Date;
	/** The link the numbers are about, or `null` for all links. */
	link: string | null;
	totals: {
		/** Links that exist now (1 for one link's stats). */
		links: number;
		/** Hits in the period. */
		hits: number;
		/**
		 * Distinct visitors in the period: anonymous visitor ids and logged-in users, each counted once.
		 * Exact unless `estimated`.
		 */
		uniqueVisitors: number;
		/** Distinct users the period's hits belong to (logged in, or claimed at login). Exact unless `estimated`. */
		claimedUsers: number;
		/**
		 * Whether `uniqueVisitors` and `claimedUsers` are estimates, with a typical error of 1 %: when a day of
		 * the period had more than 2,048 distinct visitors, or the period more than 65,536. Below that they are
		 * exact.
		 */
		estimated: boolean;
		/** Conversions in the period, reversed ones excluded. */
		conversions: number;
		/** The same, per goal. */
		conversionsByGoal: Record<string, number>;
		/** Conversions in the period that were reversed. */
		reversed: number;
		/** Distinct converted users ÷ unique visitors, from 0 to 1 (0 when there were no visitors). */
		conversionRate: number;
	};
	/** Every day of the period, oldest first, days without activity included as zeros. */
	daily: DailyStats[];
	/** The ten referrers with the most conversions, then hits, in the period; empty for one link's stats. */
	topReferrers: TopReferrer[];
}

/**
 * Everything refkit holds about one person, as `refkit.exportUser()` returns it: plain data that
 * `JSON.stringify` writes whole (times become ISO strings). Every list is oldest first (by creation time,
 * then id), so two exports of unchanged data are identical but for `exportedAt`.
 *
 * @example
 * const data = await refkit.exportUser("42");
 * res.attachment("refkit-42.json").json(data);
 */
export interface UserExport {
	/** The user the export is about. */
	userId: string;
	/** When the export was made. */
	exportedAt: Date;
	/**
	 * The anonymous visitor ids (from the visitor cookie) found on the person's hits: browsers they followed
	 * links from and then logged in. Sorted.
	 */
	visitorIds: string[];
	/**
	 * The browser ids (from the browser cookie) found on the person's hits: browsers they followed links from,
	 * logged in or before logging in. refkit keeps them to tell self-referrals. Sorted.
	 */
	browserIds: string[];
	/** The links they own. */
	links: ReferralLink[];
	/** Their hits: made logged in, claimed at login (with the visitor id they had), or typed codes. */
	hits: HitWithLink[];
	/** Hits still anonymous, made from one of `visitorIds`: the same browsers, before or after a login. */
	hitsAsVisitor: HitWithLink[];
	/** The conversions in which they are the referred user. */
	conversionsAsReferred: Conversion[];
	/** The conversions credited to them as the referrer. */
	conversionsAsReferrer: Conversion[];
	/** The commissions owed or paid to them (referral programs), oldest first. */
	commissions: Commission[];
	/** Their payments recorded as sales, and the sales credited to them as the referrer, oldest first. */
	sales: Sale[];
	/** The payouts made to them, oldest first. */
	payouts: Payout[];
}

/**
 * What `refkit.eraseUser()` did. Each count is 0 when there was nothing (left) to erase.
 *
 * @example
 * const erased = await refkit.eraseUser("42");
 * console.log(`${erased.hitsDeleted} hits deleted, ${erased.hitsAnonymised} anonymised`);
 */
export interface EraseUserResult {
	/** Hits deleted: the person's own, and the anonymous ones of their visitor ids. */
	hitsDeleted: number;
	/** Hits a conversion credits, kept with their user, visitor id, IP, User-Agent, Referer and `next` removed. */
	hitsAnonymised: number;
	/**
	 * Links they owned, now owned by nobody, renamed to a generated identifier (a chosen one may name them) and
	 * disabled: their former address records nothing.
	 */
	linksDetached: number;
	/**
	 * Conversions kept with their user id replaced (by a pseudonym as the referred user, by `null` as the
	 * referrer), a reversal's reason replaced by `erased` and the last delivery error removed.
	 */
	conversionsAnonymised: number;
}
