import type Stripe from "stripe";
import { refundSaleIn } from "../programs/sales.js";
import type { Commission, Sale } from "../programs/types.js";
import type { NewEvent } from "../store/ledger-roles.js";
import type { TransactionStore } from "../store/store.js";
import { type BillingOutcome, wholeAmount } from "./apply.js";

/* Stripe's disputes: a dispute holds the sale's unpaid commissions; won, releases them; lost, reverses them. */

/** The id of a Stripe object given as its id or expanded. */
export function idOf(value: string | { id: string } | null | undefined): string | null {
	if (typeof value === "string") return value;
	return value?.id ?? null;
}

/** The provider name of Stripe's events and payments in the store. */
export const STRIPE = "stripe";

/** The sale a payment (a payment intent, else a charge) paid; else what the event waits for. */
export async function saleOfPayments(
	store: TransactionStore,
	ids: ReadonlyArray<string | null>,
): Promise<{ sale: Sale } | (BillingOutcome & { waitingFor: string })> {
	const payments = ids.filter((id): id is string => id !== null);
	const externalId = await store.saleOfPayment(STRIPE, payments);
	const sale = externalId === null ? null : await store.findSale(externalId);
	if (sale !== null) return { sale };
	const waitingFor = externalId ?? payments[0] ?? "payment";
	return {
		status: "waiting",
		waitingFor,
		outcome: `no sale is recorded for ${payments.join(" / ")} yet: applied when it is`,
	};
}

function disputeReason(dispute: Stripe.Dispute): string {
	return `Stripe dispute ${dispute.id} (${dispute.reason})`;
}

/** The sale's commissions this dispute holds: by its id, whatever its reason says by the time it closes. */
function heldBy(commissions: readonly Commission[], dispute: Stripe.Dispute): Commission[] {
	const prefix = `Stripe dispute ${dispute.id} (`;
	return commissions.filter((c) => c.status === "held" && c.heldReason?.startsWith(prefix) === true);
}

async function release(
	store: TransactionStore,
	commissions: readonly Commission[],
	now: Date,
	events: NewEvent[],
): Promise<Commission[]> {
	const released = await store.moveCommissions(
		commissions.map((c) => c.id),
		{ from: ["held"], to: "pending", now },
	);
	for (const commission of released) events.push({ type: "commission.released", data: commission });
	return released;
}

/** Holds the disputed sale's commissions that no payout claimed, with the dispute as their reason. */
export async function disputeCreated(
	store: TransactionStore,
	dispute: Stripe.Dispute,
	now: Date,
): Promise<BillingOutcome> {
	const found = await saleOfPayments(store, [idOf(dispute.payment_intent), idOf(dispute.charge)]);
	if ("waitingFor" in found) return found;
	// The lock first: a close racing this event has committed by the time the check reads.
	await store.lockBeneficiaries([found.sale.referrerUserId]);
	if (await store.billingEventApplied(STRIPE, dispute.id, "charge.dispute.closed")) {
		return { status: "applied", outcome: `dispute ${dispute.id} was closed before it arrived: nothing held` };
	}
	const unclaimed = (await store.liveCommissionsOf(found.sale.id)).filter(
		(c) => (c.status === "pending" || c.status === "approved") && c.payoutId === null,
	);
	const held = await store.moveCommissions(
		unclaimed.map((c) => c.id),
		{ from: ["pending", "approved"], to: "held", unclaimed: true, heldReason: disputeReason(dispute), now },
	);
	const events: NewEvent[] = held.map((c) => ({ type: "commission.held", data: c }));
	await store.insertEvents(events, now);
	return {
		status: "applied",
		outcome: `dispute ${dispute.id} holds ${held.length} commission${held.length === 1 ? "" : "s"} of sale ${found.sale.externalId}`,
		sale: found.sale,
	};
}

/**
 * A closed dispute: won (or closed as a warning, or prevented), its held commissions are released; lost, the
 * disputed amount is recorded as a refund (voiding or clawing back the commissions, as any refund does) and
 * what is left of them is released.
 */
export async function disputeClosed(
	store: TransactionStore,
	dispute: Stripe.Dispute,
	event: Stripe.Event,
	now: Date,
): Promise<BillingOutcome> {
	const found = await saleOfPayments(store, [idOf(dispute.payment_intent), idOf(dispute.charge)]);
	if ("waitingFor" in found) return found;
	await store.lockBeneficiaries([found.sale.referrerUserId]);
	const events: NewEvent[] = [];
	if (dispute.status !== "lost") {
		const released = await release(
			store,
			heldBy(await store.liveCommissionsOf(found.sale.id), dispute),
			now,
			events,
		);
		await store.insertEvents(events, now);
		return {
			status: "applied",
			outcome: `dispute ${dispute.id} ${dispute.status}: released ${released.length} commission${released.length === 1 ? "" : "s"}`,
			sale: found.sale,
		};
	}
	const sale = (await store.findSale(found.sale.externalId)) ?? found.sale;
	const amount = Math.min(wholeAmount(dispute.amount, "dispute.amount"), sale.amount - sale.refunded);
	let refunded: Awaited<ReturnType<typeof refundSaleIn>> | null = null;
	if (amount > 0) {
		refunded = await refundSaleIn(
			store,
			{
				externalId: sale.externalId,
				refundId: `stripe:${dispute.id}`,
				amount,
				reason: `Stripe dispute lost (${dispute.reason})`,
				at: new Date(event.created * 1000),
			},
			now,
		);
	}
	// A partial loss leaves replacements of the held commissions, still held by the dispute: payable again.
	await release(store, heldBy(await store.liveCommissionsOf(sale.id), dispute), now, events);
	await store.insertEvents(events, now);
	return {
		status: "applied",
		outcome: `dispute ${dispute.id} lost: ${amount} ${sale.currency} of sale ${sale.externalId} taken back`,
		sale: refunded?.sale ?? sale,
		refund: refunded?.refund,
	};
}
