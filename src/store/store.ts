import type { Kysely } from "kysely";
import type {
	Conversion,
	DialectName,
	Hit,
	HitWithLink,
	MigrationResult,
	ReferralLink,
	UserExport,
} from "../types.js";

/** A link to insert. */
export interface NewLink {
	identifier: string;
	userId: string | null;
	target: string | null;
}

/** A hit to insert; `createdAt` is also its `updatedAt`. */
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
export interface RowPosition {
	createdAt: Date;
	id: string;
}

/** A page of a newest-first listing: `limit` rows after skipping `offset`, or after the row `after`. */
export interface Page {
	limit: number;
	offset: number;
	/** Only rows older than this one (by `created_at`, then `id`): the next batch of an export. */
	after?: RowPosition | undefined;
}

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

/** Folds a day's hits and conversions, page by page, into the day's summaries: see `summarizeDay`. */
export interface DaySummarizer {
	add(rows: CountedRows): void;
	/** The summaries of what was added (and of the previous summaries it started from). */
	summaries(): DaySummary[];
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
export type PersonData = Omit<UserExport, "userId" | "exportedAt">;

/** What erasing a person's hits did: hits deleted, and hits a conversion credits, anonymised instead. */
export interface ErasedHits {
	deleted: number;
	anonymised: number;
}

/**
 * Everything refkit asks of a database, in its own words (Lucia's idea: domain verbs, not generic CRUD).
 * One implementation, {@link KyselyStore}, serves SQLite and PostgreSQL.
 */
export interface RefkitStore {
	readonly dialect: DialectName;
	migrate(): Promise<MigrationResult[]>;
	findLink(identifier: string): Promise<ReferralLink | null>;
	/** Throws `IDENTIFIER_TAKEN` when the identifier exists. */
	insertLink(link: NewLink, now: Date): Promise<ReferralLink>;
	/**
	 * The user's link: their oldest enabled link, else their oldest link, else `link` inserted for them. Racing
	 * calls for one user (in any process) make one link: they take turns under a lock.
	 */
	userLink(userId: string, link: NewLink, now: Date): Promise<ReferralLink>;
	listLinks(query: LinkQuery): Promise<ReferralLink[]>;
	/** The updated link, or `null` when no link has this identifier. */
	setLinkDisabled(identifier: string, disabled: boolean, now: Date): Promise<ReferralLink | null>;
	/** Inserts one hit now (inside a transaction, in it). */
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

	/**
	 * Runs `work` in one database transaction, with a store and a Kysely instance bound to it. SQLite takes the
	 * write lock at once (`BEGIN IMMEDIATE`), so transactions never deadlock on upgrading a read lock. `work`'s
	 * own errors pass through unchanged; the transaction is rolled back.
	 */
	transaction<T>(work: (store: RefkitStore, db: Kysely<unknown>) => Promise<T>): Promise<T>;
	findConversion(referredUserId: string, goal: string): Promise<Conversion | null>;
	getConversion(id: string): Promise<Conversion | null>;
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
	/** The new conversion, or `null` when (referred user, goal) already has one. */
	insertConversion(conversion: NewConversion): Promise<Conversion | null>;
	/** Sets the hit's `confirmed_at` unless it is set already. */
	confirmHit(hitId: string, at: Date): Promise<void>;
	/** The reversed conversion; `null` when it was already reversed or does not exist. */
	reverseConversion(id: string, reason: string, at: Date): Promise<Conversion | null>;
	/** Newest first (by `created_at`, then `id`, both descending). */
	listConversions(query: ConversionQuery): Promise<Conversion[]>;
	/** The stored summaries of these days (`YYYY-MM-DD`): all links' and `linkId`'s. */
	summaries(days: string[], linkId: number | undefined): Promise<DaySummary[]>;
	/** The stored summaries of the weeks from the one starting on `firstWeek` to `lastWeek` (Mondays). */
	weekSummaries(firstWeek: string, lastWeek: string): Promise<WeekSummary[]>;
	/**
	 * Stores the summary `summarize` makes of a week from the all-links summaries of its `days` (its seven
	 * `YYYY-MM-DD`, in order), if they are all stored and whole (else `null`). Atomic (under
	 * the days' locks): a change to one of the days that commits later forgets the week.
	 */
	summarizeWeek(days: string[], summarize: (days: DaySummary[]) => WeekSummary): Promise<WeekSummary | null>;
	/**
	 * Summarises `day` (`YYYY-MM-DD`, UTC) up to `until` (excluded): `start` gets the day's stored summaries
	 * when they end at or before `until` (else nothing), and is given the hits and conversions they do not
	 * cover, up to `until`, a bounded page at a time. Holds no lock while it reads them. The summaries made
	 * replace the stored ones unless a hit or conversion of the day before `until` was written, changed or
	 * deleted meanwhile (then nothing is stored: the next call summarises the day again). Returns the
	 * summaries made, stored or not.
	 */
	summarizeDay(
		day: string,
		until: Date,
		start: (previous: DaySummary[]) => DaySummarizer,
	): Promise<DaySummary[]>;
	/** The hits and conversions (reversed ones included) of the period, read to be counted. */
	countedRows(query: StatsQuery): Promise<CountedRows>;
	/** How many links exist. */
	countLinks(): Promise<number>;
	/** The owners of these links, for those that have one. */
	linkOwners(linkIds: number[]): Promise<Map<number, string>>;
	/**
	 * Takes up to `limit` conversions with a delivery due at `now`, leasing each until `leaseUntil` so that
	 * another worker does not take it meanwhile.
	 */
	takeDueDeliveries(now: Date, leaseUntil: Date, limit: number): Promise<DueDelivery[]>;
	/** Records that the pending event of a conversion was delivered; a reversal still to send becomes due. */
	markDelivered(id: string, type: "conversion" | "reversal", now: Date): Promise<void>;
	/** Records a failed attempt; the delivery is due again at `retryAt`. */
	markDeliveryFailed(id: string, error: string, retryAt: Date): Promise<void>;
	/**
	 * How many hits {@link RefkitStore.pruneHits} would delete: those created before `before`, never confirmed,
	 * and credited by no conversion.
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
	/** Gives the links of `userId` to nobody (they keep working); returns how many. */
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
	close(): Promise<void>;
}
