import type Stripe from "stripe";
import type { CoreContext } from "../core/context.js";
import { report } from "../core/report.js";
import { RefkitError } from "../errors.js";
import { isCurrency } from "../programs/money.js";
import { recordSalesIn, type SaleRequest } from "../programs/record-sales.js";
import { refundSaleIn } from "../programs/sales.js";
import type { Sale } from "../programs/types.js";
import type { TransactionStore } from "../store/store.js";
import { applyBillingEvent, type BillingEventResult, type BillingOutcome, wholeAmount } from "./apply.js";
import { disputeClosed, disputeCreated, idOf, STRIPE, saleOfPayments } from "./stripe-disputes.js";

/**
 * Stripe's events as sales, refunds and disputes: what each event type means for the ledger. Verifying the
 * signature is the entry point's (stripe.ts); this module runs for saved events too (the CLI's replay).
 */

/**
 * Which of the application's users a Stripe customer is: its id (`null` for a guest checkout) and the whole
 * event (metadata, `client_reference_id`). `null` or `undefined` when not known (yet): the event waits, to be
 * applied again.
 */
export type StripeUserResolver = (
	customer: string | null,
	event: Stripe.Event,
) => string | null | undefined | Promise<string | null | undefined>;

/** What one Stripe event came to (see {@link BillingEventResult}), and the waiting events it let through. */
export interface StripeEventResult extends BillingEventResult {
	/** Events that waited for this one (a refund for its payment) and were applied after it. */
	replayed?: StripeEventResult[] | undefined;
}

/** The event types refkit applies; any other is answered and ignored. */
export const STRIPE_EVENT_TYPES = [
	"invoice.paid",
	"invoice_payment.paid",
	"checkout.session.completed",
	"checkout.session.async_payment_succeeded",
	"charge.refunded",
	"charge.dispute.created",
	"charge.dispute.closed",
] as const;

/** A Stripe event as refkit reads it: an id, a type, and `data.object`; anything else is refused. */
export function asStripeEvent(value: unknown): Stripe.Event {
	const event = value as { id?: unknown; type?: unknown; data?: { object?: unknown } } | null;
	if (
		typeof event !== "object" ||
		event === null ||
		typeof event.id !== "string" ||
		event.id === "" ||
		event.id.length > 255 ||
		typeof event.type !== "string" ||
		typeof event.data?.object !== "object" ||
		event.data.object === null
	) {
		throw new RefkitError(
			"INVALID_ARGUMENT",
			"refkit: a Stripe event needs an id, a type and data.object (pass the event as Stripe sent it).",
		);
	}
	return value as Stripe.Event;
}

/** A sale as a Stripe event tells it. */
interface StripeSale {
	externalId: string;
	amount: number;
	currency: string;
	at: Date;
	customer: string | null;
	/** The payment intents and charges that paid it: refunds and disputes name them. */
	payments: string[];
}

function saleOf(event: Stripe.Event): StripeSale | string {
	const at = (seconds: number | null | undefined) => new Date((seconds ?? event.created) * 1000);
	if (event.type === "invoice.paid") {
		const invoice = event.data.object;
		const payments = (invoice.payments?.data ?? []).flatMap((p) =>
			[idOf(p.payment.payment_intent), idOf(p.payment.charge)].filter((id): id is string => id !== null),
		);
		return {
			externalId: invoice.id,
			amount: wholeAmount(invoice.amount_paid, "invoice.amount_paid"),
			currency: invoice.currency,
			at: at(invoice.status_transitions?.paid_at),
			customer: idOf(invoice.customer),
			payments,
		};
	}
	if (
		event.type === "checkout.session.completed" ||
		event.type === "checkout.session.async_payment_succeeded"
	) {
		const session = event.data.object;
		if (session.mode !== "payment")
			return `a checkout session in ${session.mode} mode: its invoices record the sales`;
		if (session.payment_status !== "paid") {
			return "a checkout session not paid yet: checkout.session.async_payment_succeeded records it";
		}
		const invoice = idOf(session.invoice);
		const intent = idOf(session.payment_intent);
		return {
			// The invoice's id when the session made one, so that its invoice.paid is the same sale.
			externalId: invoice ?? intent ?? session.id,
			amount: session.amount_total ?? 0,
			currency: session.currency ?? "",
			at: at(event.created),
			customer: idOf(session.customer),
			payments: intent === null ? [] : [intent],
		};
	}
	throw new Error(`refkit: ${event.type} is no sale.`);
}

async function recordStripeSale(
	ctx: CoreContext,
	store: TransactionStore,
	sale: StripeSale,
	userId: string | null,
	now: Date,
): Promise<BillingOutcome> {
	for (const payment of sale.payments) await store.linkPayment(STRIPE, payment, sale.externalId, now);
	const unblocks = [sale.externalId, ...(await store.paymentsOfSale(STRIPE, sale.externalId))];
	if (!Number.isSafeInteger(sale.amount) || sale.amount <= 0) {
		return { status: "ignored", outcome: `nothing was paid on ${sale.externalId}`, unblocks };
	}
	if (userId === null) {
		return {
			status: "waiting",
			waitingFor: "user",
			outcome: `no user is known for Stripe customer ${sale.customer ?? "(none: a guest checkout)"}: replay the event once there is one`,
		};
	}
	const currency = sale.currency.toUpperCase();
	if (!isCurrency(currency)) {
		throw new RefkitError(
			"INVALID_ARGUMENT",
			`refkit: Stripe's currency ${JSON.stringify(sale.currency)} is no ISO 4217 code.`,
		);
	}
	const request: SaleRequest = {
		externalId: sale.externalId,
		userId,
		amount: sale.amount,
		currency,
		at: sale.at,
	};
	await recordSalesIn(ctx, store, [request], now);
	if (request.error !== undefined) throw request.error;
	const result = request.outcome;
	if (result === undefined) throw new Error("refkit: a sale ended without its outcome.");
	const described: Record<typeof result.status, string> = {
		recorded: `recorded sale ${sale.externalId} of ${sale.amount} ${currency} by ${userId}`,
		duplicate: `sale ${sale.externalId} was recorded before`,
		"outside-duration": `recorded sale ${sale.externalId}, after its referral's rules ended: no commission`,
		"not-referred": `${userId} was not referred: no sale to record`,
		"self-referral": `${userId} referred themselves: no sale to record`,
	};
	const recorded: Sale | undefined = "sale" in result ? result.sale : undefined;
	return { status: "applied", outcome: described[result.status], sale: recorded, unblocks };
}

async function linkInvoicePayment(
	store: TransactionStore,
	payment: Stripe.InvoicePayment,
	now: Date,
): Promise<BillingOutcome> {
	const invoice = idOf(payment.invoice);
	const ids = [idOf(payment.payment.payment_intent), idOf(payment.payment.charge)].filter(
		(id): id is string => id !== null,
	);
	if (invoice === null || ids.length === 0)
		return { status: "ignored", outcome: "an invoice payment with no payment" };
	for (const id of ids) await store.linkPayment(STRIPE, id, invoice, now);
	return { status: "applied", outcome: `${ids.join(" and ")} paid ${invoice}`, unblocks: ids };
}

/**
 * A charge's refunds: Stripe says how much of the charge is refunded so far (`amount_refunded`); what refkit
 * has not recorded of it yet is recorded, as one refund whose id is the charge's and that total. Redelivered or
 * reordered events therefore change nothing, and partial refunds add up to the whole.
 */
async function chargeRefunded(
	store: TransactionStore,
	charge: Stripe.Charge,
	event: Stripe.Event,
	now: Date,
) {
	wholeAmount(charge.amount_refunded, "charge.amount_refunded");
	const found = await saleOfPayments(store, [idOf(charge.payment_intent), charge.id]);
	if ("waitingFor" in found) return found;
	await store.lockBeneficiaries([found.sale.referrerUserId]);
	const sale = (await store.findSale(found.sale.externalId)) ?? found.sale;
	const prefix = `stripe:${charge.id}:`;
	const recorded = (await store.refundsOfSale(sale.id))
		.filter((refund) => refund.externalId.startsWith(prefix))
		.reduce((sum, refund) => sum + refund.amount, 0);
	const amount = Math.min(charge.amount_refunded - recorded, sale.amount - sale.refunded);
	if (amount <= 0) {
		return {
			status: "applied",
			outcome: `nothing new to refund on ${sale.externalId} (${recorded} recorded)`,
		} as const;
	}
	const result = await refundSaleIn(
		store,
		{
			externalId: sale.externalId,
			refundId: `${prefix}${charge.amount_refunded}`,
			amount,
			reason: "refunded in Stripe",
			at: new Date(event.created * 1000),
		},
		now,
	);
	return {
		status: "applied",
		outcome: `refunded ${amount} ${sale.currency} of sale ${sale.externalId}`,
		sale: result.sale,
		refund: result.refund,
	} as const;
}

/** An event that is not shaped as Stripe's API reference says, as the error that keeps it as failed. */
function malformed(event: Stripe.Event, error: unknown): unknown {
	if (!(error instanceof TypeError)) return error;
	return new RefkitError(
		"INVALID_ARGUMENT",
		`refkit: Stripe event ${event.id} (${event.type}) is not shaped as Stripe's API reference says (${error.message}).`,
	);
}

/** The effect of a handled event type, in the event's transaction; `null` for a type refkit ignores. */
function effectOf(
	ctx: CoreContext,
	event: Stripe.Event,
	userId: string | null,
): ((store: TransactionStore, now: Date) => Promise<BillingOutcome>) | string {
	switch (event.type) {
		case "invoice.paid":
		case "checkout.session.completed":
		case "checkout.session.async_payment_succeeded": {
			const sale = saleOf(event);
			if (typeof sale === "string") return sale;
			return (store, now) => recordStripeSale(ctx, store, sale, userId, now);
		}
		case "invoice_payment.paid":
			return (store, now) => linkInvoicePayment(store, event.data.object, now);
		case "charge.refunded":
			return (store, now) => chargeRefunded(store, event.data.object, event, now);
		case "charge.dispute.created":
			return (store, now) => disputeCreated(store, event.data.object, now);
		case "charge.dispute.closed":
			return (store, now) => disputeClosed(store, event.data.object, event, now);
		default:
			return `refkit does not handle ${event.type}`;
	}
}

function objectIdOf(event: Stripe.Event): string | null {
	const object = event.data.object as { id?: unknown };
	return typeof object.id === "string" ? object.id : null;
}

/** The customer a sale event names, for the application's resolver. */
function customerOf(event: Stripe.Event): string | null {
	const object = event.data.object as { customer?: string | { id: string } | null };
	return idOf(object.customer);
}

/**
 * Applies a Stripe event (already verified, or saved) exactly once by its id, then the events that waited for
 * it. `userId` says which user a customer is (asked for sale events only, before the transaction).
 */
export async function applyStripeEvent(
	ctx: CoreContext,
	value: unknown,
	userId: StripeUserResolver,
	depth = 0,
): Promise<StripeEventResult> {
	const event = asStripeEvent(value);
	const needsUser = event.type === "invoice.paid" || event.type.startsWith("checkout.session.");
	const user = needsUser ? ((await userId(customerOf(event), event)) ?? null) : null;
	if (user !== null && (typeof user !== "string" || user === "")) {
		throw new RefkitError(
			"INVALID_OPTION",
			"refkit: the Stripe userId resolver must answer a user id (a string) or null.",
		);
	}
	let effect: ReturnType<typeof effectOf>;
	try {
		effect = effectOf(ctx, event, user);
	} catch (error) {
		// Kept as failed, in the transaction below, rather than answered 500 for Stripe to send again for days.
		effect = async () => {
			throw malformed(event, error);
		};
	}
	if (typeof effect === "string")
		return { eventId: event.id, type: event.type, status: "ignored", outcome: effect };
	const apply = effect;
	const guarded = async (store: TransactionStore, now: Date) => {
		try {
			return await apply(store, now);
		} catch (error) {
			throw malformed(event, error);
		}
	};
	const { result, unblocks } = await applyBillingEvent(
		ctx,
		{
			provider: STRIPE,
			id: event.id,
			type: event.type,
			objectId: objectIdOf(event),
			payload: JSON.stringify(event),
		},
		guarded,
	);
	// Waiting for a payment or a sale that a racing event recorded meanwhile (PostgreSQL): that event listed
	// the waiting ones before this one committed, so this one looks again, once, now that it has.
	if (result.status === "waiting" && depth === 0 && (await arrivedMeanwhile(ctx, event.id))) {
		return applyStripeEvent(ctx, event, userId, depth + 1);
	}
	// What waited for this event (a refund for its sale), applied now, each in its own transaction. A chain is
	// short (a sale, then its refund or dispute): the depth only guards against a cycle.
	if (unblocks.length === 0 || depth > 3) return result;
	const waiting = await ctx.store.listBillingEvents({
		provider: STRIPE,
		status: "waiting",
		waitingFor: unblocks,
		limit: 100,
	});
	const replayed: StripeEventResult[] = [];
	for (const stored of waiting) {
		if (stored.id === event.id) continue;
		try {
			replayed.push(await applyStripeEvent(ctx, JSON.parse(stored.payload), userId, depth + 1));
		} catch (error) {
			// This event is applied: its answer stands. The other stays waiting, for a replay.
			report(ctx, error, { operation: "billing" });
		}
	}
	return replayed.length === 0 ? result : { ...result, replayed };
}

/** Whether the sale a waiting event waits for (by a payment or its external id) is recorded now. */
async function arrivedMeanwhile(ctx: CoreContext, eventId: string): Promise<boolean> {
	const stored = await ctx.store.getBillingEvent(STRIPE, eventId);
	const waitingFor = stored?.status === "waiting" ? stored.waitingFor : null;
	if (waitingFor === null || waitingFor === "user") return false;
	const externalId = (await ctx.store.saleOfPayment(STRIPE, [waitingFor])) ?? waitingFor;
	return (await ctx.store.findSale(externalId)) !== null;
}

/** Applies again the events that wait or failed, oldest first (up to `limit`). */
export async function replayStripeEvents(
	ctx: CoreContext,
	userId: StripeUserResolver,
	limit = 100,
): Promise<StripeEventResult[]> {
	const results: StripeEventResult[] = [];
	for (const status of ["waiting", "failed"] as const) {
		for (const stored of await ctx.store.listBillingEvents({ provider: STRIPE, status, limit })) {
			results.push(await applyStripeEvent(ctx, JSON.parse(stored.payload), userId));
		}
	}
	return results;
}

/** A Stripe event as refkit keeps it (`stripe.events()`): what it came to, without its payload. */
export interface StripeEventRecord {
	eventId: string;
	type: string;
	/** The object it is about: an invoice, a checkout session, a charge, a dispute. */
	objectId: string | null;
	status: (typeof EVENT_STATUSES)[number];
	outcome: string;
	/** What a waiting event waits for: `"user"`, or the payment or sale it names. */
	waitingFor: string | null;
	/** Deliveries and replays that applied it (a redelivery found done is not counted). */
	attempts: number;
	receivedAt: Date;
	updatedAt: Date;
}

/** The statuses of the Stripe events refkit keeps. */
export const EVENT_STATUSES = ["applied", "ignored", "waiting", "failed"] as const;

/** The Stripe events refkit keeps, oldest first: all, or those in one status (`waiting`, `failed`...). */
export async function listStripeEvents(
	ctx: CoreContext,
	options: { status?: string | undefined; limit?: number | undefined } = {},
): Promise<StripeEventRecord[]> {
	const { status, limit = 100 } = options;
	if (status !== undefined && !(EVENT_STATUSES as readonly string[]).includes(status)) {
		throw new RefkitError(
			"INVALID_ARGUMENT",
			`refkit: an event's status is one of ${EVENT_STATUSES.join(", ")}.`,
		);
	}
	if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
		throw new RefkitError("INVALID_ARGUMENT", "refkit: the limit of Stripe events listed is 1 to 1000.");
	}
	const rows = await ctx.store.listBillingEvents({
		provider: STRIPE,
		status: status as (typeof EVENT_STATUSES)[number] | undefined,
		limit,
	});
	return rows.map((row) => ({
		eventId: row.id,
		type: row.type,
		objectId: row.objectId,
		// Never `received` once its transaction committed.
		status: row.status === "received" ? "waiting" : row.status,
		outcome: row.outcome,
		waitingFor: row.waitingFor,
		attempts: row.attempts,
		receivedAt: row.receivedAt,
		updatedAt: row.updatedAt,
	}));
}
