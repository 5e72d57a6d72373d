import type { Kysely } from "kysely";
import type { Conversion, DialectName, Hit, HitWithLink, MigrationResult, ReferralLink } from "../types.js";

/** A link to insert. */
export interface NewLink {
	identifier: string;
	userId: string | null;
	target: string | null;
}

/** A hit to insert; `createdAt` is also its `updatedAt`. */
export type NewHit = Omit<Hit, "confirmedAt" | "updatedAt">;

export interface LinkQuery {
	userId?: string | undefined;
	disabled?: boolean | undefined;
	limit: number;
	offset: number;
}

export interface HitQuery {
	identifier?: string | undefined;
	userId?: string | undefined;
	/** Only hits on links owned by this user. */
	referrerUserId?: string | undefined;
	limit: number;
	offset: number;
}

/** A hit that may earn a conversion, with the owner of its link. */
export interface CandidateHit extends Hit {
	linkUserId: string | null;
}

/** A conversion to insert; the delivery columns start pending. */
export type NewConversion = Pick<
	Conversion,
	"id" | "goal" | "referredUserId" | "referrerUserId" | "hitId" | "linkId" | "value" | "createdAt"
>;

export interface ConversionQuery {
	referrerUserId?: string | undefined;
	referredUserId?: string | undefined;
	goal?: string | undefined;
	limit: number;
	offset: number;
}

/** A conversion taken by the outbox, with the number of this attempt (1 for the first). */
export interface DueDelivery {
	conversion: Conversion;
	attempt: number;
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
	listLinks(query: LinkQuery): Promise<ReferralLink[]>;
	/** The updated link, or `null` when no link has this identifier. */
	setLinkDisabled(identifier: string, disabled: boolean, now: Date): Promise<ReferralLink | null>;
	insertHit(hit: NewHit): Promise<void>;
	/** Gives every hit of `visitorId` that has no user yet to `userId`, in one statement; returns how many. */
	claimVisitorHits(visitorId: string, userId: string, now: Date): Promise<number>;
	/** Newest first. */
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
	/** Whether any hit of `visitorId` belongs to `userId`: the visitor id is one that user has used. */
	visitorUsedBy(visitorId: string, userId: string): Promise<boolean>;
	/** The new conversion, or `null` when (referred user, goal) already has one. */
	insertConversion(conversion: NewConversion): Promise<Conversion | null>;
	/** Sets the hit's `confirmed_at` unless it is set already. */
	confirmHit(hitId: string, at: Date): Promise<void>;
	/** The reversed conversion; `null` when it was already reversed or does not exist. */
	reverseConversion(id: string, reason: string, at: Date): Promise<Conversion | null>;
	/** Newest first. */
	listConversions(query: ConversionQuery): Promise<Conversion[]>;
	/**
	 * Takes up to `limit` conversions with a delivery due at `now`, leasing each until `leaseUntil` so that
	 * another worker does not take it meanwhile.
	 */
	takeDueDeliveries(now: Date, leaseUntil: Date, limit: number): Promise<DueDelivery[]>;
	/** Records that the pending event of a conversion was delivered; a reversal still to send becomes due. */
	markDelivered(id: string, type: "conversion" | "reversal", now: Date): Promise<void>;
	/** Records a failed attempt; the delivery is due again at `retryAt`. */
	markDeliveryFailed(id: string, error: string, retryAt: Date): Promise<void>;
	close(): Promise<void>;
}
