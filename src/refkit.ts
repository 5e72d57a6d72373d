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
import {
	type DeliverOptions,
	type DeliverResult,
	type DeliveryHandler,
	deliverConversions,
} from "./core/outbox.js";
import { safeRedirectPath } from "./core/safe-redirect.js";
import { isRefkitError, RefkitError } from "./errors.js";
import type { Outcome, RefkitRequest } from "./http/request.js";
import { type RefkitOptions, type ResolvedOptions, resolveOptions } from "./options.js";
import { KyselyStore } from "./store/kysely-store.js";
import { openDatabase } from "./store/open.js";
import type { Conversion, DialectName, HitWithLink, MigrationResult, ReferralLink } from "./types.js";

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
	/** Only the hits of this (referred) user. */
	userId?: string | undefined;
	/** Only the hits on links this user owns. */
	referrerUserId?: string | undefined;
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
	/** Conversions, newest first. */
	listConversions(input?: ListConversionsInput): Promise<Conversion[]>;
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
	/** Hits recorded and skipped (bots, previews, HEAD, duplicates) by this instance since it was created. */
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
		events: new Emitter((error) => report(ctx, error, { operation: "event" })),
		counters: { hitsRecorded: 0, hitsSkipped: { bot: 0, preview: 0, head: 0, duplicate: 0 } },
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
				referrerUserId: optionalUserId(input.referrerUserId, "referrerUserId"),
				...page(input),
			}),

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

		async listConversions(input: ListConversionsInput = {}): Promise<Conversion[]> {
			if (input.goal !== undefined && (typeof input.goal !== "string" || input.goal === ""))
				invalidArgument("goal must be a non-empty string.");
			return store.listConversions({
				referrerUserId: optionalUserId(input.referrerUserId, "referrerUserId"),
				referredUserId: optionalUserId(input.referredUserId, "referredUserId"),
				goal: input.goal,
				...page(input),
			});
		},

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
