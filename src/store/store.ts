import type {
	Conversion,
	DialectName,
	Hit,
	HitWithLink,
	MigrationResult,
	ReferralLink,
	RewardTransaction,
	UserExport,
} from "../types.js";
import type { BillingStore } from "./billing-roles.js";
import type { LedgerStore, PayoutStore, SaleStore } from "./ledger-roles.js";
import type { Page } from "./page.js";

/** A link to insert. */
export interface NewLink {
	identifier: string;
	userId: string | null;
	target: string | null;
	program?: string | null;
}

/**
 * A hit to insert: a {@link Hit} and, for a followed link, the id of the browser it came from (see
 * `refkit_hit.browser_id`), which refkit keeps for telling self-referrals and does not list. Stored as
 * `null` when it is the hit's visitor id, as it is for most anonymous hits.
 */
export type NewHit = Omit<Hit, "confirmedAt" | "updatedAt"> & { browserId?: string | null };

export interface LinkQuery {
	userId?: string | undefined;
	disabled?: boolean | undefined;
	/** Only links whose identifier or user id contains this text, ignoring case. */
	search?: string | undefined;
	limit: number;
	offset: number;
}

/** Where a row sits in a newest-first listing: keyset pagination continues after it. */
export type { Page, RowPosition } from "./page.js";

export interface HitFilters {
	identifier?: string | undefined;
	userId?: string | undefined;
	/** Only hits on links owned by this user. */
	referrerUserId?: string | undefined;
	authenticated?: boolean | undefined;
	/** Created at or after. */
	from?: Date | undefined;
	/** Created before. */
	to?: Date | undefined;
	/** The user id, visitor id, IP, User-Agent, Referer or link identifier contains this text, ignoring case. */
	search?: string | undefined;
}

export interface HitQuery extends HitFilters, Page {}

/** A hit that may earn a conversion, with the owner of its link. */
export interface CandidateHit extends Hit {
	linkUserId: string | null;
	/** The browser it came from, if known. */
	browserId: string | null;
}

/** A conversion to insert; the delivery columns start pending. */
export type NewConversion = Pick<
	Conversion,
	"id" | "goal" | "referredUserId" | "referrerUserId" | "hitId" | "linkId" | "value" | "createdAt"
>;

export interface ConversionFilters {
	referrerUserId?: string | undefined;
	referredUserId?: string | undefined;
	goal?: string | undefined;
	/** `active`: not reversed; `reversed`: reversed. */
	status?: "active" | "reversed" | undefined;
	/** Only conversions credited to the link with this identifier. */
	identifier?: string | undefined;
	/** Created at or after. */
	from?: Date | undefined;
	/** Created before. */
	to?: Date | undefined;
}

export interface ConversionQuery extends ConversionFilters, Page {}

/** The period of a statistics query, `from` and `to` included, for all links or one. */
export interface StatsQuery {
	linkId?: number | undefined;
	from: Date;
	to: Date;
}

/**
 * One UTC day's hits and conversions summarised, for all links (`linkId` 0) or for one link: those made from
 * the day's start to `until` (excluded), the next midnight unless the day is under way.
 */
export interface DaySummary {
	/** `YYYY-MM-DD`. */
	day: string;
	until: Date;
	linkId: number;
	hits: number;
	/** Conversions made that day per goal: `[not reversed, reversed]`. */
	goals: Record<string, [number, number]>;
	/** All links' summary only: hits per link, as pairs: `[link id, hits, link id, hits, ...]`. */
	linkHits: Uint32Array | null;
	/** All links' summary only: conversions (not reversed) per referrer. */
	referrers: Record<string, number> | null;
	/** Sketches (see src/core/sketch.ts) of the distinct visitors, users, and converted referred users. */
	visitors: Uint8Array;
	users: Uint8Array;
	converted: Uint8Array;
}

/**
 * A week's all-links day summaries added up, Monday to Sunday (UTC), with each day's hits and conversions
 * kept for the daily series: what `stats()` reads of the whole weeks of a long period.
 */
export interface WeekSummary {
	/** Its Monday: `YYYY-MM-DD`. */
	week: string;
	hits: number;
	goals: Record<string, [number, number]>;
	/** Hits and conversions (reversed ones included) of each day with any. */
	daily: Record<string, [hits: number, conversions: number]>;
	linkHits: Uint32Array;
	referrers: Record<string, number>;
	visitors: Uint8Array;
	users: Uint8Array;
	converted: Uint8Array;
}

/** What `stats()` reads of a hit. */
export interface CountedHit {
	/** The UTC day it was made: `YYYY-MM-DD`. */
	day: string;
	linkId: number;
	userId: string | null;
	visitorId: string | null;
}

/** What `stats()` reads of a period's rows. */
export interface CountedRows {
	hits: CountedHit[];
	conversions: CountedConversion[];
}

/**
 * A day being summarised (see {@link SummaryStore.startDaySummary}): its summaries stored when it began, and
 * the marker that says whether the day changed since.
 */
export interface DaySummaryStart {
	/** The day's stored summaries (all links' and each link's), whatever time they cover. */
	stored: DaySummary[];
	/** The marker's id, for {@link SummaryStore.finishDaySummary}. */
	marker: number;
}

/** What `stats()` reads of a conversion. */
export interface CountedConversion {
	/** The UTC day it was made: `YYYY-MM-DD`. */
	day: string;
	linkId: number | null;
	goal: string;
	referredUserId: string;
	referrerUserId: string | null;
	reversed: boolean;
}

/** A conversion taken by the outbox, with the number of this attempt (1 for the first). */
export interface DueDelivery {
	conversion: Conversion;
	attempt: number;
}

/** Everything stored about one person, each list oldest first (by `created_at`, then `id`). */
export type PersonData = Omit<UserExport, "userId" | "exportedAt" | "commissions" | "sales" | "payouts">;

/** What erasing a person's hits did: hits deleted, and hits a conversion credits, anonymised instead. */
export interface ErasedHits {
	deleted: number;
	anonymised: number;
}

/*
 * Everything refkit asks of a database, in its own words (Lucia's idea: domain verbs, not generic CRUD), one
 * role per aggregate: a caller asks for the roles it uses. One implementation (src/store/kysely-store.ts,
 * one module per role) serves SQLite and PostgreSQL, and test/store/conformance.ts holds any store to these
 * contracts.
 */

/** Referral links. */
export interface LinkStore {
	findLink(identifier: string): Promise<ReferralLink | null>;
	/** Throws `IDENTIFIER_TAKEN` when the identifier exists. */
	insertLink(link: NewLink, now: Date): Promise<ReferralLink>;
	/**
	 * The user's link: their oldest enabled link, else their oldest link, else `link` inserted for them. Racing
	 * calls for one user (in any process) make one link: they take turns under a lock.
	 */
	userLink(userId: string, link: NewLink, now: Date): Promise<ReferralLink>;
	/** Newest first (by id, descending). */
	listLinks(query: LinkQuery): Promise<ReferralLink[]>;
	/** The updated link, or `null` when no link has this identifier. */
	setLinkDisabled(identifier: string, disabled: boolean, now: Date): Promise<ReferralLink | null>;
	/** How many links exist. */
	countLinks(): Promise<number>;
	/** The owners of these links, for those that have one. */
	linkOwners(linkIds: number[]): Promise<Map<number, string>>;
}

/** Hits: the visits that followed a link and the codes users typed, and what confirming a goal reads of them. */
export interface HitStore {
	/** Inserts one hit now (inside a transaction, in it); a hit whose id is stored already is left as it is. */
	insertHit(hit: NewHit): Promise<void>;
	/**
	 * Records a visitor's hit by group commit: hits recorded at about the same time share one INSERT and one
	 * commit. Resolves once this hit is committed. While the database fails for want of itself (down,
	 * restarting, hung), the hit waits in a bounded queue and is written once it is back; `deferred` is told
	 * then, once, so that a visitor need not wait for it. Rejects when the hit is lost: refused by the
	 * database, `QUEUE_FULL`, or still waiting when the store is closed.
	 */
	recordHit(hit: NewHit, deferred?: () => void): Promise<void>;
	/** Gives every hit of `visitorId` that has no user yet to `userId`, in one statement; returns how many. */
	claimVisitorHits(visitorId: string, userId: string, now: Date): Promise<number>;
	/** Newest first (by `created_at`, then `id`, both descending). */
	listHits(query: HitQuery): Promise<HitWithLink[]>;
	/** Whether the link has a hit by this visitor (or this user, for a logged-in visitor) at or after `since`. */
	hasRecentHit(
		linkId: number,
		by: { visitorId: string | null; userId: string | null },
		since: Date,
	): Promise<boolean>;
	/** Whether the user has a hit of this source, e.g. an applied code. */
	hasHitOfSource(userId: string, source: Hit["source"]): Promise<boolean>;
	/**
	 * Inserts the hit of a typed code unless the user has one already; whether it did. Racing calls for one
	 * user take turns, so exactly one inserts.
	 */
	insertCodeHit(hit: NewHit & { userId: string }): Promise<boolean>;
	/** The user's hits created in [from, to], oldest first for `first`, newest first for `last`, at most `limit`. */
	attributableHits(
		userId: string,
		window: { from: Date; to: Date },
		order: "first" | "last",
		limit: number,
	): Promise<CandidateHit[]>;
	/** Whether the user has any hit created before `before`. */
	hasHitsBefore(userId: string, before: Date): Promise<boolean>;
	/** Whether any hit from `browserId` belongs to `userId`: a browser that user has used, logged in. */
	browserUsedBy(browserId: string, userId: string): Promise<boolean>;
	/** Whether any hit of `visitorId` belongs to `userId`: the visitor id is one that user has used. */
	visitorUsedBy(visitorId: string, userId: string): Promise<boolean>;
	/** Sets the hit's `confirmed_at` unless it is set already. */
	confirmHit(hitId: string, at: Date): Promise<void>;
}

/** Conversions: one per (referred user, goal). */
export interface ConversionStore {
	findConversion(referredUserId: string, goal: string): Promise<Conversion | null>;
	getConversion(id: string): Promise<Conversion | null>;
	/** The new conversion, or `null` when (referred user, goal) already has one. */
	insertConversion(conversion: NewConversion): Promise<Conversion | null>;
	/** The reversed conversion; `null` when it was already reversed or does not exist. */
	reverseConversion(id: string, reason: string, at: Date): Promise<Conversion | null>;
	/** Newest first (by `created_at`, then `id`, both descending). */
	listConversions(query: ConversionQuery): Promise<Conversion[]>;
}

/** The outbox's deliveries of conversions and reversals. */
export interface DeliveryStore {
	/**
	 * Takes up to `limit` conversions with a delivery due at `now`, leasing each until `leaseUntil` so that
	 * another worker does not take it meanwhile; oldest conversion first.
	 */
	takeDueDeliveries(now: Date, leaseUntil: Date, limit: number): Promise<DueDelivery[]>;
	/** Records that the pending event of a conversion was delivered; a reversal still to send becomes due. */
	markDelivered(id: string, type: "conversion" | "reversal", now: Date): Promise<void>;
	/** Records a failed attempt; the delivery is due again at `retryAt`. */
	markDeliveryFailed(id: string, error: string, retryAt: Date): Promise<void>;
}

/**
 * The stored daily and weekly summaries of `stats()`, and the rows they are made from. The store only stores
 * and reads them, under its locks: what to summarise, and from what, is src/core/day-summaries.ts's to decide.
 */
export interface SummaryStore {
	/** The stored summaries of these days (`YYYY-MM-DD`): all links' and `linkId`'s. */
	summaries(days: string[], linkId: number | undefined): Promise<DaySummary[]>;
	/** The stored summaries of the weeks from the one starting on `firstWeek` to `lastWeek` (Mondays). */
	weekSummaries(firstWeek: string, lastWeek: string): Promise<WeekSummary[]>;
	/**
	 * Stores the summary `summarize` makes of a week from the stored all-links summaries of its `days` (its
	 * seven `YYYY-MM-DD`, in order; those missing are left out), unless it makes none (`null`). Atomic (under
	 * the days' locks): a change to one of the days that commits later forgets the week.
	 */
	summarizeWeek(
		days: string[],
		summarize: (days: DaySummary[]) => WeekSummary | null,
	): Promise<WeekSummary | null>;
	/**
	 * Begins summarising `day` (`YYYY-MM-DD`, UTC) up to `until` (excluded): reads the day's stored summaries
	 * and leaves a marker, which any later write of a hit or conversion of the day before `until` deletes.
	 */
	startDaySummary(day: string, until: Date): Promise<DaySummaryStart>;
	/**
	 * The hits, then the conversions, made in [`from`, `to`), a bounded page at a time, each in
	 * (`created_at`, `id`) order. Holds no lock while it reads them.
	 */
	dayRows(period: { from: Date; to: Date }): AsyncIterable<CountedRows>;
	/**
	 * Replaces the day's stored summaries by `summaries`, if the marker of {@link SummaryStore.startDaySummary} is still
	 * there (nothing of the day was written, changed or deleted meanwhile); whether it did.
	 */
	finishDaySummary(day: string, marker: number, summaries: DaySummary[]): Promise<boolean>;
	/** The hits and conversions (reversed ones included) of the period, `to` included, read to be counted. */
	countedRows(query: StatsQuery): Promise<CountedRows>;
}

/** Pruning old hits, and what refkit keeps of a person: their export and their erasure. */
export interface PrivacyStore {
	/**
	 * How many hits {@link PrivacyStore.pruneHits} would delete: those created before `before`, never
	 * confirmed, and credited by no conversion.
	 */
	countPrunableHits(before: Date): Promise<number>;
	/**
	 * Deletes up to `limit` of those hits, oldest first, in one statement (so each batch holds its locks
	 * briefly); returns how many. The conditions are checked again on each row as it is deleted.
	 */
	pruneHits(before: Date, limit: number): Promise<number>;
	/**
	 * Everything stored about `userId`: the visitor ids of their hits, the links they own, their hits, the
	 * anonymous hits of those visitor ids, and the conversions in which they are the referred user or the
	 * referrer.
	 */
	readPersonData(userId: string): Promise<PersonData>;
	/**
	 * Erases the hits of `userId` (their own, and the anonymous hits of visitor ids they used): deletes each,
	 * unless a conversion credits it; then it is kept without anything that identifies the visitor (user,
	 * visitor id, IP, User-Agent, Referer, `next`).
	 */
	eraseHitsOf(userId: string, now: Date): Promise<ErasedHits>;
	/**
	 * Gives the user's links no owner, a new identifier each (an identifier may name the person) and disables
	 * them; returns their former identifiers.
	 */
	detachLinksOf(userId: string, now: Date, newIdentifier: () => string): Promise<string[]>;
	/**
	 * Replaces `userId` in conversions: as the referred user by `pseudonym`, as the referrer by `null`.
	 * Returns how many conversions changed.
	 */
	pseudonymiseConversionsOf(userId: string, pseudonym: string, now: Date): Promise<number>;
}

/**
 * What a transaction's work may call, bound to the transaction: the roles whose writes belong together. Not
 * the summaries (they keep no lock while they read) nor the deliveries (a lease is its own commit).
 */
export interface TransactionStore
	extends LinkStore,
		HitStore,
		ConversionStore,
		PrivacyStore,
		LedgerStore,
		SaleStore,
		PayoutStore,
		BillingStore {
	readonly dialect: DialectName;
}

/** The whole store: every role, and the store's own life (migrations, transactions, closing). */
/** A referrer's conversions of one UTC day and goal: all of them, and those reversed since. */
export interface ReferrerConversionDay {
	day: string;
	goal: string;
	total: number;
	reversed: number;
}

/** Pending commissions of one beneficiary that become payable on one UTC day, in one currency. */
export interface PendingDay {
	day: string;
	currency: string;
	amount: number;
}

/**
 * What a day's stored summary (`stats()`'s, migrations 0004 and 0005) counts, without its sketches of distinct
 * visitors (most of its size): `linkId` 0 for the row of all links, whose `until` says up to when (excluded)
 * the day's rows count its hits and conversions.
 */
export interface SummaryCounts {
	day: string;
	linkId: number;
	hits: number;
	until: Date;
	/** The all-links row's, when asked for: hits per link as (link id, hits) pairs. */
	linkHits: Uint32Array | null;
	/** The all-links row's, when asked for: conversions (not reversed) per referrer. */
	referrers: Record<string, number> | null;
}

/** The hits of one UTC day. */
export interface DayHits {
	day: string;
	hits: number;
}

/** What a referrer's own page reads, grouped by the database (src/store/referrer.ts). */
export interface ReferrerStore {
	/**
	 * The stored day summaries' counts from `firstDay` to `lastDay` (`YYYY-MM-DD`, both included): each day's
	 * all-links row (link 0) and the rows of `linkIds`; with the all-links rows' hits per link and conversions per
	 * referrer when `everyLink` is true.
	 */
	summaryCounts(query: {
		linkIds: number[];
		firstDay: string;
		lastDay: string;
		everyLink: boolean;
	}): Promise<SummaryCounts[]>;
	/** The hits of `linkIds` made from `from` to `to` (both included), counted by UTC day. */
	linkHitDays(query: { linkIds: number[]; from: Date; to: Date }): Promise<DayHits[]>;
	/**
	 * What was made from `from` to `to` (both included): every link's hits, and every referrer's conversions
	 * that are not reversed.
	 */
	leaderCounts(query: { from: Date; to: Date }): Promise<{
		linkHits: Map<number, number>;
		referrers: Map<string, number>;
	}>;
	/** The referrer's conversions made from `from` to `to` (both included), by UTC day and goal; of `linkIds` only when given. */
	referrerConversionDays(query: {
		referrerUserId: string;
		linkIds?: number[] | undefined;
		from: Date;
		to: Date;
	}): Promise<ReferrerConversionDay[]>;
	/** The beneficiary's pending commissions still in their holding period at `now`, by the UTC day it ends. */
	upcomingEarnings(userId: string, now: Date): Promise<PendingDay[]>;
}

export interface RefkitStore
	extends LinkStore,
		HitStore,
		ConversionStore,
		DeliveryStore,
		SummaryStore,
		PrivacyStore,
		LedgerStore,
		SaleStore,
		PayoutStore,
		BillingStore,
		ReferrerStore {
	readonly dialect: DialectName;
	migrate(): Promise<MigrationResult[]>;
	/**
	 * Runs `work` in one database transaction, with the store's roles and a Kysely instance bound to it (what a
	 * `confirm()` reward writes through). SQLite takes the write lock at once (`BEGIN IMMEDIATE`), so
	 * transactions never deadlock on upgrading a read lock. `work`'s own errors pass through unchanged; the
	 * transaction is rolled back.
	 */
	transaction<T>(work: (store: TransactionStore, tx: RewardTransaction) => Promise<T>): Promise<T>;
	/** Writes the hits still waiting, then closes the connection refkit opened (not an application's own). */
	close(): Promise<void>;
}
