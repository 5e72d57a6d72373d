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
	createdAt: Date;
	updatedAt: Date;
}

/** One visit that followed a referral link. */
export interface Hit {
	/** A UUID. */
	id: string;
	linkId: number;
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

/** Which database a refkit instance runs on. */
export type DialectName = "sqlite" | "postgres";

/** What one migration did, as reported by `refkit.migrate()`. */
export interface MigrationResult {
	migrationName: string;
	direction: "Up" | "Down";
	status: "Success" | "Error" | "NotExecuted";
}
