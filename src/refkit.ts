import { claimHits } from "./core/claim.js";
import { type CoreContext, PASS, report } from "./core/context.js";
import { handleRequest } from "./core/handle.js";
import { assertIdentifier, generateIdentifier } from "./core/identifiers.js";
import { safeRedirectPath } from "./core/safe-redirect.js";
import { isRefkitError, RefkitError } from "./errors.js";
import type { Outcome, RefkitRequest } from "./http/request.js";
import { type RefkitOptions, type ResolvedOptions, resolveOptions } from "./options.js";
import { KyselyStore } from "./store/kysely-store.js";
import { openDatabase } from "./store/open.js";
import type { DialectName, HitWithLink, MigrationResult, ReferralLink } from "./types.js";

/** Arguments of {@link Refkit.createLink}. */
export interface CreateLinkInput {
	/** The identifier to use; generated (8 characters, no look-alikes) when omitted. */
	identifier?: string | undefined;
	/** The user who owns the link. */
	userId?: string | null | undefined;
	/** Where the link sends visitors who give no `next`: a same-site path such as `/pricing`. */
	target?: string | null | undefined;
}

/** Filters of {@link Refkit.listLinks}. */
export interface ListLinksInput {
	userId?: string | undefined;
	disabled?: boolean | undefined;
	/** At most this many, 1 to 1000; default 100. */
	limit?: number | undefined;
	offset?: number | undefined;
}

/** Filters of {@link Refkit.listHits}. Newest hits first. */
export interface ListHitsInput {
	/** Only the hits of the link with this identifier. */
	link?: string | undefined;
	userId?: string | undefined;
	/** At most this many, 1 to 1000; default 100. */
	limit?: number | undefined;
	offset?: number | undefined;
}

/** A refkit instance: the request handler adapters call, and the API an application calls. */
export interface Refkit {
	/** The options after validation and defaults. */
	readonly options: ResolvedOptions;
	/** `sqlite` or `postgres`. */
	readonly dialect: DialectName;
	/**
	 * Decides what to do with a request (follow a link, redirect `?ref=`, claim hits). Adapters call it; it never
	 * throws, and a database failure still lets the visitor through.
	 */
	handle(request: RefkitRequest): Promise<Outcome>;
	/** Creates or updates refkit's tables. Run it at start-up or with `refkit migrate`. */
	migrate(): Promise<MigrationResult[]>;
	/** Creates a link. Throws `INVALID_IDENTIFIER`, `IDENTIFIER_TAKEN` or `INVALID_ARGUMENT`. */
	createLink(input?: CreateLinkInput): Promise<ReferralLink>;
	/** The link with this identifier, or `null`. */
	getLink(identifier: string): Promise<ReferralLink | null>;
	/** Links, newest first. */
	listLinks(input?: ListLinksInput): Promise<ReferralLink[]>;
	/** Disables a link: following it records nothing. Throws `LINK_NOT_FOUND`. */
	disableLink(identifier: string): Promise<ReferralLink>;
	/** Enables a disabled link. Throws `LINK_NOT_FOUND`. */
	enableLink(identifier: string): Promise<ReferralLink>;
	/** Hits, newest first. */
	listHits(input?: ListHitsInput): Promise<HitWithLink[]>;
	/**
	 * Gives the anonymous hits behind a visitor cookie value to `userId`, e.g. in a signup handler before the
	 * session exists. Returns how many hits were claimed; an invalid or forged cookie claims nothing.
	 */
	claim(cookieValue: string | null | undefined, userId: string): Promise<number>;
	/** Closes the database connection refkit opened (not an application's own Kysely instance). */
	close(): Promise<void>;
}

function invalidArgument(message: string): never {
	throw new RefkitError("INVALID_ARGUMENT", `refkit: ${message}`);
}

function optionalUserId(value: unknown, name: string): string | undefined {
	if (value === undefined || value === null) return undefined;
	if (typeof value !== "string" || value === "") invalidArgument(`${name} must be a non-empty string.`);
	return value;
}

function page(input: { limit?: number | undefined; offset?: number | undefined }): {
	limit: number;
	offset: number;
} {
	const limit = input.limit ?? 100;
	const offset = input.offset ?? 0;
	if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
		invalidArgument(`limit must be a whole number from 1 to 1000 (got ${limit}).`);
	}
	if (!Number.isInteger(offset) || offset < 0)
		invalidArgument(`offset must be a whole number ≥ 0 (got ${offset}).`);
	return { limit, offset };
}

/**
 * Creates a refkit instance. Every option is checked here, once: a bad one throws `INVALID_OPTION` with a
 * message that says what to change. Opening the database connects lazily, on the first query.
 *
 * @example
 * import { createRefkit } from "refkit";
 * const refkit = createRefkit({ database: "./refkit.sqlite", secret: process.env.REFKIT_SECRET });
 * await refkit.migrate();
 */
export function createRefkit(options: RefkitOptions): Refkit {
	const resolved = resolveOptions(options);
	const ctx: CoreContext = {
		options: resolved,
		store: new KyselyStore(
			openDatabase(options.database, (error) => report(ctx, error, { operation: "database" })),
		),
		now: () => new Date(),
	};
	const { store } = ctx;

	async function setDisabled(identifier: string, disabled: boolean): Promise<ReferralLink> {
		const link = await store.setLinkDisabled(assertIdentifier(identifier), disabled, ctx.now());
		if (link === null)
			throw new RefkitError("LINK_NOT_FOUND", `refkit: no link has the identifier "${identifier}".`);
		return link;
	}

	return Object.freeze({
		options: resolved,
		dialect: store.dialect,

		async handle(request: RefkitRequest): Promise<Outcome> {
			try {
				return await handleRequest(ctx, request);
			} catch (error) {
				// A bug, not a database failure (those are handled where they happen): still never the visitor's problem.
				report(ctx, error, { operation: "follow" });
				const onLink = request.url.startsWith(`${resolved.mountPath}/`);
				return onLink ? { redirect: { status: 302, location: resolved.successUrl }, setCookies: [] } : PASS;
			}
		},

		migrate: () => store.migrate(),

		async createLink(input: CreateLinkInput = {}): Promise<ReferralLink> {
			const userId = optionalUserId(input.userId, "userId") ?? null;
			let target: string | null = null;
			if (input.target !== undefined && input.target !== null) {
				target = safeRedirectPath(input.target);
				if (target === null) {
					invalidArgument(
						`target must be a same-site path such as "/pricing" (got ${JSON.stringify(String(input.target).slice(0, 100))}).`,
					);
				}
			}
			if (input.identifier !== undefined) {
				return store.insertLink(
					{ identifier: assertIdentifier(input.identifier), userId, target },
					ctx.now(),
				);
			}
			// A generated identifier collides about once in 10^14; retry a few times to be sure.
			for (let attempt = 1; ; attempt++) {
				try {
					return await store.insertLink({ identifier: generateIdentifier(), userId, target }, ctx.now());
				} catch (error) {
					if (!isRefkitError(error, "IDENTIFIER_TAKEN") || attempt >= 5) throw error;
				}
			}
		},

		getLink: async (identifier: string) => store.findLink(assertIdentifier(identifier)),

		listLinks: async (input: ListLinksInput = {}) =>
			store.listLinks({
				userId: optionalUserId(input.userId, "userId"),
				disabled: input.disabled,
				...page(input),
			}),

		disableLink: (identifier: string) => setDisabled(identifier, true),
		enableLink: (identifier: string) => setDisabled(identifier, false),

		listHits: async (input: ListHitsInput = {}) =>
			store.listHits({
				identifier: input.link === undefined ? undefined : assertIdentifier(input.link),
				userId: optionalUserId(input.userId, "userId"),
				...page(input),
			}),

		async claim(cookieValue: string | null | undefined, userId: string): Promise<number> {
			if (typeof userId !== "string" || userId === "")
				invalidArgument("claim() needs the user id as a non-empty string.");
			return claimHits(ctx, cookieValue, userId);
		},

		close: () => store.close(),
	});
}
