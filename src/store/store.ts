import type { DialectName, Hit, HitWithLink, MigrationResult, ReferralLink } from "../types.js";

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
	limit: number;
	offset: number;
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
	close(): Promise<void>;
}
