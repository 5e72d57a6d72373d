import { claimHits } from "./core/claim.js";
import { type ApplyCodeOptions, type ApplyCodeResult, applyCode } from "./core/codes.js";
import { type CoreContext, PASS, type RefkitCounters, report } from "./core/context.js";
import {
	type ConfirmInput,
	type ConfirmResult,
	confirm,
	isUuid,
	type ReverseResult,
	type Reward,
	reverseConversion,
} from "./core/conversions.js";
import { Emitter, EVENT_NAMES, type RefkitEventName, type RefkitListener } from "./core/events.js";
import { handleRequest } from "./core/handle.js";
import { assertIdentifier, generateIdentifier } from "./core/identifiers.js";
import { LinkCache } from "./core/link-cache.js";
import {
	type DeliverOptions,
	type DeliverResult,
	type DeliveryHandler,
	deliverConversions,
} from "./core/outbox.js";
import { eraseUser, exportUser, type PruneInput, type PruneResult, prune } from "./core/privacy.js";
import type { Outcome, RefkitRequest } from "./core/request.js";
import { safeRedirectPath } from "./core/safe-redirect.js";
import { type StatsInput, stats } from "./core/stats.js";
import { isRefkitError, RefkitError } from "./errors.js";
import { type RefkitOptions, type ResolvedOptions, resolveOptions } from "./options.js";
import { KyselyStore } from "./store/kysely-store.js";
import { openDatabase } from "./store/open.js";
import type { RowPosition } from "./store/store.js";
import type {
	Conversion,
	DialectName,
	EraseUserResult,
	HitWithLink,
	MigrationResult,
	ReferralLink,
	Stats,
	UserExport,
} from "./types.js";

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
	/**
	 * Only the links whose identifier or user id contains this text, ignoring case (`%`, `_` and `\` are plain
	 * characters). At most 200 characters; `""` matches every link.
	 */
	search?: string | undefined;
	/** At most this many, 1 to 1000; default 100. */
	limit?: number | undefined;
	offset?: number | undefined;
}

/** Filters of {@link Refkit.listHits}. Newest hits first. */
export interface ListHitsInput {
	/** Only the hits of the link with this identifier. */
	link?: string | undefined;
	/** Only the hits of this (referred) user. */
	userId?: string | undefined;
	/** Only the hits on links this user owns. */
	referrerUserId?: string | undefined;
	/** Only the hits of logged-in visitors (`true`) or of anonymous ones (`false`). */
	authenticated?: boolean | undefined;
	/** Only the hits made at or after this time. */
	from?: Date | undefined;
	/** Only the hits made before this time. */
	to?: Date | undefined;
	/**
	 * Only the hits whose user id, visitor id, IP, User-Agent, Referer or link identifier contains this text,
	 * ignoring case (`%`, `_` and `\` are plain characters). At most 200 characters; `""` matches every hit.
	 */
	search?: string | undefined;
	/** At most this many, 1 to 1000; default 100. */
	limit?: number | undefined;
	offset?: number | undefined;
}

/** Filters of {@link Refkit.listConversions}. Newest conversions first. */
export interface ListConversionsInput {
	/** Only the conversions credited to this referrer. */
	referrerUserId?: string | undefined;
	/** Only the conversions of this referred user. */
	referredUserId?: string | undefined;
	goal?: string | undefined;
	/** Only the conversions that stand (`active`) or only the reversed ones (`reversed`). */
	status?: "active" | "reversed" | undefined;
	/** Only the conversions credited to the link with this identifier. */
	link?: string | undefined;
	/** Only the conversions made at or after this time. */
	from?: Date | undefined;
	/** Only the conversions made before this time. */
	to?: Date | undefined;
	/** At most this many, 1 to 1000; default 100. */
	limit?: number | undefined;
	offset?: number | undefined;
}

/** Filters of {@link Refkit.exportHits}: those of {@link ListHitsInput}, without paging. */
export type ExportHitsInput = Omit<ListHitsInput, "limit" | "offset">;

/** Filters of {@link Refkit.exportConversions}: those of {@link ListConversionsInput}, without paging. */
export type ExportConversionsInput = Omit<ListConversionsInput, "limit" | "offset">;

export type { PruneInput, PruneResult, StatsInput };

/** How many rows an export reads per query. */
const EXPORT_BATCH_SIZE = 500;

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
	/**
	 * The user's referral link, created on first use: their oldest enabled link, else their oldest link (a
	 * disabled one stays disabled), else a new one with a generated identifier. However many calls race, in
	 * however many processes, a user gets one link. Throws `INVALID_ARGUMENT` for an empty user id.
	 */
	linkFor(userId: string | number): Promise<ReferralLink>;
	/** The link with this identifier, or `null`. */
	getLink(identifier: string): Promise<ReferralLink | null>;
	/** Links, newest first, optionally only a user's, enabled or disabled ones, or those matching `search`. */
	listLinks(input?: ListLinksInput): Promise<ReferralLink[]>;
	/** Disables a link: following it records nothing. Throws `LINK_NOT_FOUND`. */
	disableLink(identifier: string): Promise<ReferralLink>;
	/** Enables a disabled link. Throws `LINK_NOT_FOUND`. */
	enableLink(identifier: string): Promise<ReferralLink>;
	/** Hits, newest first, by link, user, referrer, login, time (`from` included, `to` excluded) or text. */
	listHits(input?: ListHitsInput): Promise<HitWithLink[]>;
	/**
	 * Every hit that matches the filters of {@link Refkit.listHits}, newest first, read in batches (keyset
	 * pagination, no OFFSET) as the caller iterates, so that memory stays bounded however many there are. The
	 * filters are checked at once: a bad one throws here, before any iteration.
	 *
	 * @example
	 * for await (const hit of refkit.exportHits({ link: "spring_sale" })) out.write(`${hit.id},${hit.ip}\n`);
	 */
	exportHits(input?: ExportHitsInput): AsyncIterable<HitWithLink>;
	/**
	 * Gives the anonymous hits behind a visitor cookie value to `userId`, e.g. in a signup handler before the
	 * session exists. Returns how many hits were claimed; an invalid or forged cookie claims nothing.
	 */
	claim(cookieValue: string | null | undefined, userId: string): Promise<number>;
	/**
	 * Confirms that a user reached a goal (`signup`, `purchase`...) and credits the referral, exactly once per
	 * user and goal however many calls race. The credited hit is the user's last (or, with
	 * `attribution: "first"`, first) hit within `attributionWindow` that is not a self-referral. `reward`
	 * runs in the same transaction: what it writes through `tx` commits with the conversion or not at all, and
	 * if it throws, nothing is recorded and its error is thrown here. Expected outcomes are values
	 * (`converted`, `already-converted`, `no-referral`, `self-referral`, `outside-window`); a malformed argument
	 * throws `INVALID_ARGUMENT`, an unreachable database `STORE_UNAVAILABLE`.
	 *
	 * @example
	 * const result = await refkit.confirm({ userId: user.id, goal: "purchase", value: order.totalCents },
	 *   (tx, conversion) => tx.insertInto("credit").values({ user_id: conversion.referrerUserId, cents: 500 }).execute());
	 * if (result.status === "converted") console.log(`credited ${result.referrerUserId}`);
	 */
	confirm(input: ConfirmInput, reward?: Reward): Promise<ConfirmResult>;
	/**
	 * Reverses a conversion (a refund, fraud): the row stays, marked with the time and reason, a `reversal`
	 * event is emitted and the outbox delivers the reversal. Reversing twice keeps the first. Throws
	 * `CONVERSION_NOT_FOUND`. A reversed conversion still counts for `already-converted`.
	 */
	reverseConversion(id: string, options: { reason: string; at?: Date | undefined }): Promise<ReverseResult>;
	/** The conversion with this id, or `null`. */
	getConversion(id: string): Promise<Conversion | null>;
	/** Conversions, newest first, filtered by referrer, referred user, goal, status, link or time. */
	listConversions(input?: ListConversionsInput): Promise<Conversion[]>;
	/**
	 * Every conversion that matches the filters of {@link Refkit.listConversions}, newest first, read in
	 * batches as the caller iterates (see {@link Refkit.exportHits}). Bad filters throw here, at once.
	 */
	exportConversions(input?: ExportConversionsInput): AsyncIterable<Conversion>;
	/**
	 * The numbers of the last `days` UTC days (default 30, at most 366), today included, up to `now` (default
	 * the current time), for all links or for `link`: totals (hits, unique visitors, claimed users,
	 * conversions per goal, reversals, conversion rate), one entry per day (days without activity as zeros)
	 * and, for all links, the ten referrers with the most conversions. Throws `INVALID_ARGUMENT` for a bad
	 * `days` or `now`, `INVALID_IDENTIFIER` or `LINK_NOT_FOUND` for a bad `link`.
	 *
	 * @example
	 * const { totals, daily } = await refkit.stats({ days: 7 });
	 * console.log(`${totals.hits} hits, ${(totals.conversionRate * 100).toFixed(1)} % converted`);
	 */
	stats(input?: StatsInput): Promise<Stats>;
	/**
	 * Deletes the hits made more than `olderThan` milliseconds ago that were never confirmed and that no
	 * conversion credits, `batchSize` (default 1000) at a time, each batch a short statement of its own, so
	 * that visitors' hits are not held up. Confirmed hits, credited hits and conversions are kept. With
	 * `dryRun`, counts them and deletes nothing. Throws `INVALID_ARGUMENT` for a bad `olderThan`, `batchSize`
	 * or `onProgress`. Keep `olderThan` above `attributionWindow`: a younger hit may still earn a conversion.
	 *
	 * @example
	 * const { deleted, cutoff } = await refkit.prune({ olderThan: 180 * 24 * 60 * 60 * 1000 });
	 * console.log(`deleted ${deleted} hits made before ${cutoff.toISOString()}`);
	 */
	prune(input: PruneInput): Promise<PruneResult>;
	/**
	 * Everything refkit holds about a person, for a data access request: the links they own, their hits (with
	 * the visitor ids they claimed), the still-anonymous hits of those visitor ids, and the conversions in
	 * which they are the referred user or the referrer; each list oldest first. `JSON.stringify` writes it
	 * whole. An unknown user gets empty lists. Throws `INVALID_ARGUMENT` for an empty user id.
	 *
	 * @example
	 * const data = await refkit.exportUser("42");
	 * await writeFile("refkit-42.json", JSON.stringify(data, null, 2));
	 */
	exportUser(userId: string): Promise<UserExport>;
	/**
	 * Erases a person, in one transaction: their hits (logged in, claimed, typed codes, and the anonymous hits
	 * of their visitor ids) are deleted, except hits a conversion credits, which lose their user, visitor id,
	 * IP, User-Agent, Referer and `next`; their links get no owner (and keep working); their conversions stay,
	 * as the referred user under a pseudonym (`erased:` and 32 hex digits, an HMAC of the user id under
	 * `secret`), as the referrer with `null`. The pseudonym keeps (referred user, goal) unique: a new account
	 * with the same id is `already-converted` for the goals the erased one reached. Erasing again finds
	 * nothing (zeros); `exportUser()` then returns empty lists. Throws `INVALID_ARGUMENT` for an empty user id.
	 *
	 * @example
	 * const erased = await refkit.eraseUser("42");
	 * console.log(`${erased.hitsDeleted} hits deleted, ${erased.linksDetached} links detached`);
	 */
	eraseUser(userId: string): Promise<EraseUserResult>;
	/**
	 * Delivers every conversion and reversal that is due to `handler`, oldest first, and resolves when done.
	 * Each is marked delivered after the handler resolves; a handler that throws is retried with exponential
	 * backoff on a later pass. So each event arrives at least once: deduplicate on `idempotencyKey`. Run it
	 * on a timer, or after `confirm()`. Pass {@link webhookSender} to post them to a URL.
	 */
	deliverConversions(handler: DeliveryHandler, options?: DeliverOptions): Promise<DeliverResult>;
	/**
	 * Records the referral code a user typed (at signup) as a hit of source `code`, which `confirm()` credits
	 * like a followed link. Refused (as a value) for an unknown or disabled code, the user's own code, a
	 * second code, or later than `codeWindow` after `signedUpAt`.
	 */
	applyCode(userId: string, code: string, options: ApplyCodeOptions): Promise<ApplyCodeResult>;
	/**
	 * Calls `listener` after each `hit`, `claim`, `conversion` or `reversal` is committed. Returns a function
	 * that removes it. A listener that throws is reported to `onError` and never breaks the operation.
	 */
	on<E extends RefkitEventName>(event: E, listener: RefkitListener<E>): () => void;
	/**
	 * Hits recorded and skipped (bots, previews, HEAD, duplicates, no consent), and errors reported to
	 * `onError`, by this instance since it was created.
	 */
	counters(): RefkitCounters;
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

function optionalBoolean(value: unknown, name: string): boolean | undefined {
	if (value === undefined || value === null) return undefined;
	if (typeof value !== "boolean")
		invalidArgument(`${name} must be true or false (got ${JSON.stringify(value)}).`);
	return value;
}

function optionalDate(value: unknown, name: string): Date | undefined {
	if (value === undefined || value === null) return undefined;
	if (!(value instanceof Date) || Number.isNaN(value.getTime()))
		invalidArgument(`${name} must be a valid Date.`);
	return value;
}

/** `from` and `to` as Dates, `from` not after `to`. */
function timeRange(input: { from?: unknown; to?: unknown }): { from?: Date; to?: Date } {
	const from = optionalDate(input.from, "from");
	const to = optionalDate(input.to, "to");
	if (from !== undefined && to !== undefined && from.getTime() > to.getTime()) {
		invalidArgument(`from (${from.toISOString()}) must not be after to (${to.toISOString()}).`);
	}
	return { from, to };
}

/** A search text; `""` is no filter (every text contains it). */
function optionalSearch(value: unknown): string | undefined {
	if (value === undefined || value === null) return undefined;
	if (typeof value !== "string" || value.length > 200)
		invalidArgument("search must be a string of at most 200 characters.");
	return value === "" ? undefined : value;
}

function optionalLink(value: unknown): string | undefined {
	return value === undefined || value === null ? undefined : assertIdentifier(value);
}

function filtersObject<T extends object>(input: T | undefined, method: string): T | Record<string, never> {
	if (input === undefined) return {};
	if (typeof input !== "object" || input === null)
		invalidArgument(`${method} takes an object of filters, or nothing.`);
	return input;
}

function hitFilters(input: ExportHitsInput | undefined, method: string) {
	const filters: ExportHitsInput = filtersObject(input, method);
	return {
		identifier: optionalLink(filters.link),
		userId: optionalUserId(filters.userId, "userId"),
		referrerUserId: optionalUserId(filters.referrerUserId, "referrerUserId"),
		authenticated: optionalBoolean(filters.authenticated, "authenticated"),
		...timeRange(filters),
		search: optionalSearch(filters.search),
	};
}

function conversionFilters(input: ExportConversionsInput | undefined, method: string) {
	const filters: ExportConversionsInput = filtersObject(input, method);
	if (filters.goal !== undefined && (typeof filters.goal !== "string" || filters.goal === ""))
		invalidArgument("goal must be a non-empty string.");
	const { status } = filters;
	if (status !== undefined && status !== "active" && status !== "reversed")
		invalidArgument(`status must be "active" or "reversed" (got ${JSON.stringify(status)}).`);
	return {
		referrerUserId: optionalUserId(filters.referrerUserId, "referrerUserId"),
		referredUserId: optionalUserId(filters.referredUserId, "referredUserId"),
		goal: filters.goal,
		status,
		identifier: optionalLink(filters.link),
		...timeRange(filters),
	};
}

/**
 * Every row of a newest-first listing, read `batchSize` at a time: each batch continues after the last row
 * of the one before (keyset pagination), so rows added or removed meanwhile neither repeat nor shift.
 */
function keysetExport<T extends RowPosition>(
	batch: (after: RowPosition | undefined, limit: number) => Promise<T[]>,
): AsyncIterable<T> {
	return {
		async *[Symbol.asyncIterator]() {
			let after: RowPosition | undefined;
			for (;;) {
				const rows = await batch(after, EXPORT_BATCH_SIZE);
				yield* rows;
				const last = rows.at(-1);
				if (last === undefined || rows.length < EXPORT_BATCH_SIZE) return;
				after = { createdAt: last.createdAt, id: last.id };
			}
		},
	};
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
			false,
			// Hits are not lost yet (they wait for the database), but the outage is told at once.
			(error) => report(ctx, error, { operation: "database" }),
		),
		events: new Emitter((error) => report(ctx, error, { operation: "event" })),
		counters: {
			hitsRecorded: 0,
			hitsSkipped: { bot: 0, preview: 0, head: 0, duplicate: 0, consent: 0 },
			hitsDropped: 0,
			errors: 0,
		},
		links: new LinkCache(),
		now: () => new Date(),
	};
	const { store } = ctx;

	async function setDisabled(identifier: string, disabled: boolean): Promise<ReferralLink> {
		const link = await store.setLinkDisabled(assertIdentifier(identifier), disabled, ctx.now());
		ctx.links.forget(identifier);
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
			const insert = async (identifier: string) => {
				const link = await store.insertLink({ identifier, userId, target }, ctx.now());
				ctx.links.forget(identifier); // "unknown" may be cached
				return link;
			};
			if (input.identifier !== undefined) return insert(assertIdentifier(input.identifier));
			// A generated identifier collides about once in 10^14; retry a few times to be sure.
			for (let attempt = 1; ; attempt++) {
				try {
					return await insert(generateIdentifier());
				} catch (error) {
					if (!isRefkitError(error, "IDENTIFIER_TAKEN") || attempt >= 5) throw error;
				}
			}
		},

		async linkFor(userId: string | number): Promise<ReferralLink> {
			const owner = typeof userId === "number" && Number.isSafeInteger(userId) ? String(userId) : userId;
			if (typeof owner !== "string" || owner === "") {
				invalidArgument(
					`linkFor() needs a user id: a non-empty string or a whole number (got ${JSON.stringify(userId) ?? String(userId)}).`,
				);
			}
			for (let attempt = 1; ; attempt++) {
				try {
					const identifier = generateIdentifier();
					const link = await store.userLink(owner, { identifier, userId: owner, target: null }, ctx.now());
					if (link.identifier === identifier) ctx.links.forget(identifier); // "unknown" may be cached
					return link;
				} catch (error) {
					if (!isRefkitError(error, "IDENTIFIER_TAKEN") || attempt >= 5) throw error;
				}
			}
		},

		getLink: async (identifier: string) => store.findLink(assertIdentifier(identifier)),

		async listLinks(input?: ListLinksInput): Promise<ReferralLink[]> {
			const filters: ListLinksInput = filtersObject(input, "listLinks()");
			return store.listLinks({
				userId: optionalUserId(filters.userId, "userId"),
				disabled: optionalBoolean(filters.disabled, "disabled"),
				search: optionalSearch(filters.search),
				...page(filters),
			});
		},

		disableLink: (identifier: string) => setDisabled(identifier, true),
		enableLink: (identifier: string) => setDisabled(identifier, false),

		listHits: async (input: ListHitsInput = {}) =>
			store.listHits({ ...hitFilters(input, "listHits()"), ...page(input) }),

		exportHits(input?: ExportHitsInput): AsyncIterable<HitWithLink> {
			const filters = hitFilters(input, "exportHits()");
			return keysetExport((after, limit) => store.listHits({ ...filters, after, limit, offset: 0 }));
		},

		async claim(cookieValue: string | null | undefined, userId: string): Promise<number> {
			if (typeof userId !== "string" || userId === "")
				invalidArgument("claim() needs the user id as a non-empty string.");
			return claimHits(ctx, cookieValue, userId);
		},

		confirm: (input: ConfirmInput, reward?: Reward) => confirm(ctx, input, reward),
		reverseConversion: (id: string, options: { reason: string; at?: Date | undefined }) =>
			reverseConversion(ctx, id, options),

		async getConversion(id: string): Promise<Conversion | null> {
			if (typeof id !== "string") invalidArgument("getConversion() needs the conversion's id, a string.");
			return isUuid(id) ? store.getConversion(id) : null;
		},

		listConversions: async (input: ListConversionsInput = {}) =>
			store.listConversions({ ...conversionFilters(input, "listConversions()"), ...page(input) }),

		exportConversions(input?: ExportConversionsInput): AsyncIterable<Conversion> {
			const filters = conversionFilters(input, "exportConversions()");
			return keysetExport((after, limit) => store.listConversions({ ...filters, after, limit, offset: 0 }));
		},

		stats: (input?: StatsInput) => stats(ctx, input),
		prune: (input: PruneInput) => prune(ctx, input),
		exportUser: (userId: string) => exportUser(ctx, userId),
		eraseUser: (userId: string) => eraseUser(ctx, userId),

		deliverConversions: (handler: DeliveryHandler, options?: DeliverOptions) =>
			deliverConversions(ctx, handler, options),
		applyCode: (userId: string, code: string, options: ApplyCodeOptions) =>
			applyCode(ctx, userId, code, options),

		on<E extends RefkitEventName>(event: E, listener: RefkitListener<E>): () => void {
			if (!EVENT_NAMES.includes(event))
				invalidArgument(`on() knows the events ${EVENT_NAMES.join(", ")} (got ${JSON.stringify(event)}).`);
			if (typeof listener !== "function") invalidArgument("on() needs a listener function.");
			return ctx.events.on(event, listener);
		},

		counters: () => structuredClone(ctx.counters),

		close: () => store.close(),
	});
}
