import { randomUUID } from "node:crypto";
import { assertTime, assertUserId, filtersObject, invalid, optionalUserId, page } from "../core/arguments.js";
import type { CoreContext } from "../core/context.js";
import { RefkitError } from "../errors.js";
import type { NewEvent } from "../store/ledger-roles.js";
import type { TransactionStore } from "../store/store.js";
import { requirePrograms, type TakenBack, takeBack } from "./ledger.js";
import { assertAmount, assertCurrency, takenBack } from "./money.js";
import { recordInBatch, type SaleRequest } from "./record-sales.js";
import type { RecordSaleResult, Refund, RefundSaleResult, Sale } from "./types.js";

/** What `refkit.recordSale()` is told: a payment by a user, identified by the billing system's id. */
export interface RecordSaleInput {
	/** The billing system's id of the payment (an invoice, an order): a sale is recorded once per id. */
	externalId: string;
	/** The user who paid. */
	userId: string;
	/** Whole minor units (cents): 1999 for 19.99 USD. */
	amount: number;
	/** ISO 4217, and the program's. */
	currency: string;
	/** When the payment was made; default now. */
	at?: Date | undefined;
}

/** What `refkit.refundSale()` is told. */
export interface RefundSaleInput {
	/** The sale's external id. */
	externalId: string;
	/** The refund's own id in the billing system: a refund is recorded once per id. */
	refundId: string;
	/** Minor units; default what is left of the sale (a full refund). */
	amount?: number | undefined;
	reason: string;
	at?: Date | undefined;
}

const EXTERNAL_ID = 255;

function externalId(value: unknown, name: string): string {
	if (typeof value !== "string" || value.trim() === "" || value.length > EXTERNAL_ID) {
		invalid(
			`${name} must be the billing system's id, a non-empty string of at most ${EXTERNAL_ID} characters.`,
		);
	}
	return value;
}

/**
 * Records a sale exactly once per external id, and the commissions its referral's program's sale rules earn.
 * The unique external id decides between racing calls; a repeat answers the first sale. Sales that arrive
 * together are recorded in one transaction (see record-sales.ts), each with its own outcome.
 */
export async function recordSale(ctx: CoreContext, input: RecordSaleInput): Promise<RecordSaleResult> {
	requirePrograms(ctx, "recordSale()");
	if (typeof input !== "object" || input === null)
		invalid("recordSale() needs { externalId, userId, amount, currency }.");
	const request: SaleRequest = {
		externalId: externalId(input.externalId, "recordSale()'s externalId"),
		userId: assertUserId(input.userId, "recordSale()"),
		amount: assertAmount(input.amount, "recordSale()'s amount"),
		currency: assertCurrency(input.currency, "recordSale()'s currency"),
		at: assertTime(input.at, "recordSale()'s at", ctx.now),
	};
	return recordInBatch(ctx, request);
}

/** A refund id seen before: the first refund, if it is this sale's; else a caller's mistake, refused. */
function repeated(sale: Sale, refund: Refund): RefundSaleResult {
	if (refund.saleId !== sale.id) {
		invalid(
			`refundSale()'s refundId ${JSON.stringify(refund.externalId)} was used for another sale's refund; give each refund its own id (the billing system's refund id).`,
		);
	}
	return { status: "duplicate", sale, refund };
}

/** A checked refund (see {@link refundSale}). */
export interface RefundRequest {
	externalId: string;
	refundId: string;
	amount: number | undefined;
	reason: string;
	at: Date;
}

/**
 * Records a refund exactly once per refund id, never more than what is left of the sale, and takes back the
 * proportional part of the sale's commissions (see `takenBack()` for the rounding).
 */
export async function refundSale(ctx: CoreContext, input: RefundSaleInput): Promise<RefundSaleResult> {
	if (typeof input !== "object" || input === null)
		invalid("refundSale() needs { externalId, refundId, reason }.");
	const request: RefundRequest = {
		externalId: externalId(input.externalId, "refundSale()'s externalId"),
		refundId: externalId(input.refundId, "refundSale()'s refundId"),
		amount: input.amount === undefined ? undefined : assertAmount(input.amount, "refundSale()'s amount", 1),
		reason: input.reason,
		at: assertTime(input.at, "refundSale()'s at", ctx.now),
	};
	const { reason } = input;
	if (typeof reason !== "string" || reason.trim() === "" || reason.length > 1000) {
		invalid('refundSale() needs a reason of 1 to 1000 characters, such as "requested by customer".');
	}
	const now = ctx.now();
	return ctx.store.transaction((store) => refundSaleIn(store, request, now));
}

/** Records a checked refund in the caller's transaction (see {@link refundSale}). */
export async function refundSaleIn(
	store: TransactionStore,
	request: RefundRequest,
	now: Date,
): Promise<RefundSaleResult> {
	const { externalId: saleId, refundId, amount, reason, at } = request;
	const sale = await store.findSale(saleId);
	if (sale === null)
		throw new RefkitError("SALE_NOT_FOUND", `refkit: no sale has the external id ${JSON.stringify(saleId)}.`);
	const previous = await store.findRefund(refundId);
	if (previous !== null) return repeated(sale, previous);
	await store.lockBeneficiaries([sale.referrerUserId]);
	// Again under the lock: the same refund, racing, may have committed meanwhile (and emptied the sale).
	const raced = await store.findRefund(refundId);
	if (raced !== null) return repeated((await store.findSale(saleId)) ?? sale, raced);
	const before = (await store.findSale(saleId)) ?? sale;
	const left = before.amount - before.refunded;
	const refunding = amount ?? left;
	if (refunding <= 0 || refunding > left) {
		throw new RefkitError(
			"REFUND_EXCEEDS_SALE",
			`refkit: sale ${JSON.stringify(saleId)} of ${before.amount} ${before.currency} has ${left} left to refund; a refund of ${refunding} would exceed it.`,
		);
	}
	const refund = await store.insertRefund({
		id: randomUUID(),
		externalId: refundId,
		saleId: sale.id,
		amount: refunding,
		reason,
		createdAt: at,
	});
	if (refund === null) {
		const winner = await store.findRefund(refundId);
		if (winner === null) throw new Error("refkit: a refund conflicted but cannot be read back.");
		return { status: "duplicate", sale: before, refund: winner };
	}
	const after = await store.addRefunded(sale.id, refunding);
	if (after === null) throw new Error("refkit: a sale's refunds passed its amount under the lock.");
	const taken: TakenBack = { voided: [], replacements: [], clawbacks: [] };
	const events: NewEvent[] = [{ type: "sale.refunded", data: refund }];
	for (const commission of await store.liveCommissionsOf(sale.id)) {
		const first = await store.firstCommissionOf(sale.id, commission.rule);
		const base = first?.amount ?? commission.amount;
		const part =
			takenBack(base, after.refunded, after.amount) - takenBack(base, before.refunded, before.amount);
		await takeBack(
			store,
			commission,
			Math.min(part, commission.amount),
			`refund ${refundId}: ${reason}`,
			at,
			taken,
			events,
			now,
		);
	}
	await store.insertEvents(events, now);
	return { status: "refunded", sale: after, refund, ...taken };
}

/** Filters of `refkit.listSales()`. Newest first. */
export interface ListSalesInput {
	/** Only this (referred) user's sales. */
	userId?: string | undefined;
	/** Only the sales credited to this referrer. */
	referrerUserId?: string | undefined;
	limit?: number | undefined;
	offset?: number | undefined;
}

export async function listSales(ctx: CoreContext, input: ListSalesInput = {}): Promise<Sale[]> {
	const filters = filtersObject(input, "listSales()");
	return ctx.store.listSales({
		userId: optionalUserId(filters.userId, "listSales()'s userId"),
		referrerUserId: optionalUserId(filters.referrerUserId, "listSales()'s referrerUserId"),
		...page(input),
	});
}

/** The sale with this external id, or `null`. */
export async function getSale(ctx: CoreContext, id: string): Promise<Sale | null> {
	return ctx.store.findSale(externalId(id, "getSale()'s externalId"));
}
