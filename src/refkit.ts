import { claimHits } from "./core/claim.js";
import type { CoreContext, RefkitCounters } from "./core/context.js";
import {
	type ConfirmInput,
	type ConfirmResult,
	confirm,
	type ReverseResult,
	type Reward,
	reverseConversion,
} from "./core/conversions.js";
import { Emitter, type RefkitEventName, type RefkitListener } from "./core/events.js";
import { handleRequest } from "./core/handle.js";
import { CORE } from "./core/internal.js";
import { LinkCache } from "./core/link-cache.js";
import {
	type CreateLinkInput,
	createLink,
	getLink,
	type ListLinksInput,
	linkFor,
	listLinks,
	setLinkDisabled,
} from "./core/links.js";
import {
	type ExportConversionsInput,
	type ExportHitsInput,
	exportConversions,
	exportHits,
	getConversion,
	type ListConversionsInput,
	type ListHitsInput,
	listConversions,
	listHits,
} from "./core/listings.js";
import { fallbackOutcome } from "./core/outcomes.js";
import { eraseUser, exportUser, type PruneInput, type PruneResult, prune } from "./core/privacy.js";
import { type ApplyCodeOptions, type ApplyCodeResult, applyCode } from "./core/referral-codes.js";
import { report } from "./core/report.js";
import type { Outcome, RefkitRequest } from "./core/request.js";
import { type StatsInput, stats } from "./core/stats.js";
import { type RefkitOptions, type ResolvedOptions, resolveOptions } from "./options.js";
import {
	type DeliverOptions,
	type DeliverResult,
	type DeliveryHandler,
	deliverConversions,
	deliverEvents,
	type LedgerDeliveryHandler,
} from "./outbox/deliver.js";
import {
	approveDue,
	balances,
	type ExportCommissionsInput,
	exportCommissions,
	getCommission,
	type ListCommissionsInput,
	liabilities,
	listCommissions,
	rejectCommission,
	releaseCommission,
} from "./programs/commissions.js";
import { savePrograms } from "./programs/ledger.js";
import {
	type ClosePayoutResult,
	type CreatePayoutsInput,
	createPayouts,
	exportPayouts,
	failPayout,
	getPayout,
	type ListPayoutsInput,
	listPayouts,
	markPayoutPaid,
} from "./programs/payouts.js";
import { settleSales } from "./programs/record-sales.js";
import {
	getSale,
	type ListSalesInput,
	listSales,
	type RecordSaleInput,
	type RefundSaleInput,
	recordSale,
	refundSale,
} from "./programs/sales.js";
import type {
	Balance,
	Commission,
	Liability,
	Payout,
	PayoutRun,
	RecordSaleResult,
	RefundSaleResult,
	Sale,
} from "./programs/types.js";
import { referrerSummary } from "./referrer/summary.js";
import type { ReferrerSummary, ReferrerSummaryInput } from "./referrer/types.js";
import { kyselyStore } from "./store/kysely-store.js";
import { openDatabase } from "./store/open.js";
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

export type {
	ClosePayoutResult,
	CreateLinkInput,
	CreatePayoutsInput,
	ExportCommissionsInput,
	ExportConversionsInput,
	ExportHitsInput,
	ListCommissionsInput,
	ListConversionsInput,
	ListHitsInput,
	ListLinksInput,
	ListPayoutsInput,
	ListSalesInput,
	PruneInput,
	PruneResult,
	RecordSaleInput,
	RefundSaleInput,
	StatsInput,
};

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
	 * the visitor ids they claimed), the still-anonymous hits of those visitor ids, the conversions in
	 * which they are the referred user or the referrer, and (referral programs) their commissions, sales
	 * and payouts; each list oldest first. `JSON.stringify` writes it
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
	 * `secret`), as the referrer with `null`. The ledger (commissions, sales, payouts) is kept as it is: it is the
	 * application's financial record, which the law usually requires it to keep. The pseudonym keeps (referred user, goal) unique: a new account
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
	/**
	 * Records a payment by a referred user, exactly once per `externalId` (the invoice or order id) however
	 * many calls race: it credits the referrer of the user's first conversion with what the sale rules of
	 * that referral's program earn. Outcomes are values (`recorded`, `duplicate`, `outside-duration`,
	 * `not-referred`, `self-referral`). Throws `INVALID_ARGUMENT` for a fractional or negative amount,
	 * `CURRENCY_MISMATCH` for a currency other than the program's, `NO_PROGRAMS` without `programs`.
	 *
	 * @example
	 * const result = await refkit.recordSale({ externalId: invoice.id, userId: user.id, amount: 4900, currency: "USD" });
	 * if (result.status === "recorded") console.log(`${result.commissions.length} commissions`);
	 */
	recordSale(input: RecordSaleInput): Promise<RecordSaleResult>;
	/**
	 * Records a refund of a sale (all that is left when `amount` is omitted), exactly once per `refundId`,
	 * and takes back the proportional part of the sale's commissions: voided where no payout claimed them,
	 * clawed back (a negative commission the next payout nets) where one did. Throws `SALE_NOT_FOUND`, or
	 * `REFUND_EXCEEDS_SALE` when refunds would pass the sale.
	 */
	refundSale(input: RefundSaleInput): Promise<RefundSaleResult>;
	/** The sale with this external id, or `null`. */
	getSale(externalId: string): Promise<Sale | null>;
	/** Sales, newest first, of a referred user or credited to a referrer. */
	listSales(input?: ListSalesInput): Promise<Sale[]>;
	/** Commissions, newest first, by beneficiary, status (as of now), program, source or payout. */
	listCommissions(input?: ListCommissionsInput): Promise<Commission[]>;
	/** Every commission that matches, newest first, read in batches as the caller iterates. */
	exportCommissions(input?: ExportCommissionsInput): AsyncIterable<Commission>;
	/** The commission with this id, or `null`. */
	getCommission(id: string): Promise<Commission | null>;
	/** Releases a held commission (it becomes payable when its holding period ends). Throws `INVALID_STATE` unless held. */
	releaseCommission(id: string): Promise<Commission>;
	/** Rejects a held commission: it is voided with the reason. Throws `INVALID_STATE` unless held. */
	rejectCommission(id: string, options: { reason: string }): Promise<Commission>;
	/**
	 * Balances by currency, as of now: `pending`, `held`, `approved` (payable; clawbacks can make it negative)
	 * and `paid`, for one user, or for every beneficiary when `userId` is omitted.
	 */
	balances(userId?: string): Promise<Balance[]>;
	/**
	 * What the ledger owes, per currency: every beneficiary's balance summed by state (one query over the
	 * balances, however many beneficiaries), and how many are owed anything or owe a negative balance.
	 *
	 * @example
	 * for (const owed of await refkit.liabilities()) console.log(owed.currency, owed.approved, "payable");
	 */
	liabilities(): Promise<Liability[]>;
	/**
	 * Writes down the approval of pending commissions whose holding period is over, with their
	 * `commission.approved` events. `createPayouts()` and `deliverEvents()` do it first; they already read as
	 * approved. Returns how many.
	 */
	approveCommissions(): Promise<number>;
	/**
	 * A payout run: for each beneficiary and currency, the approved commissions payable by `asOf` (default
	 * now) netted into one payout when the net reaches the program's minimum; smaller or negative nets are
	 * carried forward. Runs may race: no commission is ever in two payouts. Its payouts:
	 * `listPayouts({ runId })`, or `exportPayouts(runId)` as CSV.
	 */
	createPayouts(input?: CreatePayoutsInput): Promise<PayoutRun>;
	/** Payouts, newest first, by beneficiary, status or run. */
	listPayouts(input?: ListPayoutsInput): Promise<Payout[]>;
	/** The payout with this id, or `null`. */
	getPayout(id: string): Promise<Payout | null>;
	/** Marks a payout paid with the transfer's reference: its commissions are `paid`, for ever. Twice is a value. */
	markPayoutPaid(id: string, options: { reference: string }): Promise<ClosePayoutResult>;
	/** Marks a payout failed: its commissions are payable again at the next run. Throws `INVALID_STATE` if paid. */
	failPayout(id: string, options: { reason: string }): Promise<ClosePayoutResult>;
	/**
	 * A payout run (by run id) or one payout as CSV lines, header first, for a bank's or a provider's
	 * mass-payment upload. Throws `PAYOUT_NOT_FOUND`.
	 */
	exportPayouts(id: string): Promise<AsyncIterable<string>>;
	/**
	 * Delivers the ledger's events that are due (`commission.*`, `payout.*`, `sale.*`) to `handler`, at least
	 * once each, oldest first, like {@link Refkit.deliverConversions}. `webhookSender()` posts them.
	 */
	deliverEvents(handler: LedgerDeliveryHandler, options?: DeliverOptions): Promise<DeliverResult>;
	/**
	 * Everything a referrer may see about themselves, and nothing about anyone else: their links with full URLs,
	 * their funnel (clicks and each goal's conversions, per day), earnings by state and currency with when the
	 * pending ones become payable, payouts, recent referrals (named by `displayName`, masked by default), the
	 * terms they earn under and, when asked, the leaderboard. What the referrer's page shows, and answers as
	 * JSON. Throws `INVALID_ARGUMENT`, and `LINK_NOT_FOUND` for a `link` that is not one of theirs.
	 */
	referrerSummary(userId: string, input?: ReferrerSummaryInput): Promise<ReferrerSummary>;
	/** Closes the database connection refkit opened (not an application's own Kysely instance). */
	close(): Promise<void>;
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
		store: kyselyStore(
			openDatabase(options.database, (error) => report(ctx, error, { operation: "database" })),
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

	return Object.freeze({
		options: resolved,
		dialect: store.dialect,

		async handle(request: RefkitRequest): Promise<Outcome> {
			try {
				return await handleRequest(ctx, request);
			} catch (error) {
				report(ctx, error, { operation: "follow" });
				return fallbackOutcome(resolved, request.url);
			}
		},

		async migrate() {
			const results = await store.migrate();
			// The programs' terms, for the CLI and the dashboard.
			await savePrograms(ctx);
			return results;
		},

		createLink: (input?: CreateLinkInput) => createLink(ctx, input),
		linkFor: (userId: string | number) => linkFor(ctx, userId),
		getLink: (identifier: string) => getLink(ctx, identifier),
		listLinks: (input?: ListLinksInput) => listLinks(ctx, input),
		disableLink: (identifier: string) => setLinkDisabled(ctx, identifier, true),
		enableLink: (identifier: string) => setLinkDisabled(ctx, identifier, false),

		listHits: (input?: ListHitsInput) => listHits(ctx, input),
		exportHits: (input?: ExportHitsInput) => exportHits(ctx, input),
		claim: (cookieValue: string | null | undefined, userId: string) => claimHits(ctx, cookieValue, userId),

		confirm: (input: ConfirmInput, reward?: Reward) => confirm(ctx, input, reward),
		reverseConversion: (id: string, options: { reason: string; at?: Date | undefined }) =>
			reverseConversion(ctx, id, options),
		getConversion: (id: string) => getConversion(ctx, id),
		listConversions: (input?: ListConversionsInput) => listConversions(ctx, input),
		exportConversions: (input?: ExportConversionsInput) => exportConversions(ctx, input),

		stats: (input?: StatsInput) => stats(ctx, input),
		prune: (input: PruneInput) => prune(ctx, input),
		exportUser: (userId: string) => exportUser(ctx, userId),
		eraseUser: (userId: string) => eraseUser(ctx, userId),

		deliverConversions: (handler: DeliveryHandler, options?: DeliverOptions) =>
			deliverConversions(ctx, handler, options),
		applyCode: (userId: string, code: string, options: ApplyCodeOptions) =>
			applyCode(ctx, userId, code, options),

		recordSale: (input: RecordSaleInput) => recordSale(ctx, input),
		refundSale: (input: RefundSaleInput) => refundSale(ctx, input),
		getSale: (externalId: string) => getSale(ctx, externalId),
		listSales: (input?: ListSalesInput) => listSales(ctx, input),
		listCommissions: (input?: ListCommissionsInput) => listCommissions(ctx, input),
		exportCommissions: (input?: ExportCommissionsInput) => exportCommissions(ctx, input),
		getCommission: (id: string) => getCommission(ctx, id),
		releaseCommission: (id: string) => releaseCommission(ctx, id),
		rejectCommission: (id: string, options: { reason: string }) => rejectCommission(ctx, id, options),
		balances: (userId?: string) => balances(ctx, userId),
		liabilities: () => liabilities(ctx),
		approveCommissions: () => approveDue(ctx),
		createPayouts: (input?: CreatePayoutsInput) => createPayouts(ctx, input),
		listPayouts: (input?: ListPayoutsInput) => listPayouts(ctx, input),
		getPayout: (id: string) => getPayout(ctx, id),
		markPayoutPaid: (id: string, options: { reference: string }) => markPayoutPaid(ctx, id, options),
		failPayout: (id: string, options: { reason: string }) => failPayout(ctx, id, options),
		exportPayouts: (id: string) => exportPayouts(ctx, id),
		deliverEvents: (handler: LedgerDeliveryHandler, options?: DeliverOptions) =>
			deliverEvents(ctx, handler, options),
		referrerSummary: (userId: string, input?: ReferrerSummaryInput) => referrerSummary(ctx, userId, input),

		on: <E extends RefkitEventName>(event: E, listener: RefkitListener<E>) => ctx.events.on(event, listener),
		counters: () => structuredClone(ctx.counters),

		[CORE]: ctx,

		async close() {
			// The sales still waiting for their batch, then the hits, then the connection.
			await settleSales(ctx);
			await store.close();
		},
	});
}
