import { describe, expect, test } from "vitest";
import { type StripeUserResolver, stripeWebhooks } from "../../src/billing/stripe.js";
import type { Refkit } from "../../src/index.js";
import { ledger, program, referredSignup, refkitWithPrograms } from "../programs/setup.js";
import { DATABASES } from "../setup/databases.js";
import { expectCode } from "../setup/direct.js";
import {
	charge,
	dispute,
	event,
	invoicePayment,
	paidInvoice,
	paidSession,
	signed,
	stripeId,
	WEBHOOK_SECRET,
} from "./events.js";

/*
 * Stripe's events through stripeWebhooks().receive(), as an adapter hands them over: a raw body and its
 * Stripe-Signature, signed by the `stripe` package. The ledger is read back through refkit's public API.
 */

/** Customers the application knows: cus_bob is bob; others by the invoice's or session's metadata. */
const customers = new Map([["cus_bob", "bob"]]);
const userId: StripeUserResolver = (customer, e) => {
	if (customer !== null && customers.has(customer)) return customers.get(customer);
	const object = e.data.object as { metadata?: Record<string, string> | null };
	return object.metadata?.userId ?? null;
};

async function setup(kind: (typeof DATABASES)[number], resolver: StripeUserResolver = userId) {
	const refkit = await refkitWithPrograms(kind, [program({ minimumPayout: 0 })]);
	await referredSignup(refkit, "alice", "bob");
	const stripe = stripeWebhooks(refkit, { secret: WEBHOOK_SECRET, userId: resolver });
	/** Delivers `value` signed (or as given) and answers the status and the JSON body. */
	const deliver = async (value: unknown, signature?: string, body?: string) => {
		const delivery = signed(value);
		const headers: Record<string, string> = { "stripe-signature": signature ?? delivery.signature };
		const response = await stripe.receive({
			body: body ?? delivery.body,
			header: (name) => headers[name.toLowerCase()],
		});
		return { status: response.status, body: JSON.parse(response.body as string) as Record<string, unknown> };
	};
	/** Delivers the paid invoice `id` of bob's, paid by a new payment intent: returns the payment intent. */
	const pay = async (id: string, amount: number) => {
		const paymentIntent = stripeId("pi");
		await deliver(event("invoice.paid", paidInvoice({ id, customer: "cus_bob", amount, paymentIntent })));
		return paymentIntent;
	};
	return { refkit, stripe, deliver, pay };
}

/** alice's balance. */
async function balance(refkit: Refkit) {
	const [row] = await refkit.balances("alice");
	return row;
}

describe.each(DATABASES)("Stripe's events on %s", (kind) => {
	test("invoice.paid records a sale once, however often Stripe delivers it", async () => {
		const { refkit, deliver } = await setup(kind);
		const paid = event("invoice.paid", paidInvoice({ id: "in_1", customer: "cus_bob", amount: 10000 }));
		const first = await deliver(paid);
		expect(first).toMatchObject({ status: 200, body: { received: true, status: "applied" } });
		expect(first.body.outcome).toContain("recorded sale in_1 of 10000 USD by bob");
		for (let i = 0; i < 2; i++) {
			expect((await deliver(paid)).body).toMatchObject({ status: "duplicate" });
		}
		// The same invoice in another event (Stripe sends invoice.paid once, but a resend has a new id).
		expect((await deliver(event("invoice.paid", paid.data.object))).body.outcome).toContain(
			"recorded before",
		);
		expect((await refkit.listSales()).map((s) => [s.externalId, s.userId, s.amount, s.currency])).toEqual([
			["in_1", "bob", 10000, "USD"],
		]);
		expect((await ledger(refkit)).map((c) => [c.userId, c.amount, c.sourceType]).sort()).toEqual([
			["alice", 2000, "sale"],
			["alice", 500, "conversion"],
			["bob", 500, "conversion"],
		]);
	});

	test("every handled event type, delivered twice more, changes nothing more", async () => {
		const { refkit, deliver } = await setup(kind);
		const pi = stripeId("pi");
		const ch = stripeId("ch");
		const opened = dispute({ charge: ch, paymentIntent: pi, amount: 1000, status: "needs_response" });
		const events = [
			event("invoice_payment.paid", invoicePayment({ invoice: "in_each", paymentIntent: pi, amount: 10000 })),
			event("invoice.paid", paidInvoice({ id: "in_each", customer: "cus_bob", amount: 10000 })),
			event("checkout.session.completed", paidSession({ customer: "cus_bob", amount: 3000 })),
			event("checkout.session.async_payment_succeeded", paidSession({ customer: "cus_bob", amount: 2000 })),
			event("charge.refunded", charge({ id: ch, paymentIntent: pi, amount: 10000, refunded: 2000 })),
			event("charge.dispute.created", opened),
			event("charge.dispute.closed", { ...opened, status: "lost" }),
		];
		const state = async () => ({
			sales: await refkit.listSales(),
			ledger: (await ledger(refkit)).map(({ id, status, amount, heldReason }) => ({
				id,
				status,
				amount,
				heldReason,
			})),
			balances: await refkit.balances(),
		});
		for (const e of events) {
			expect((await deliver(e)).body.status, e.type).toBe("applied");
			const after = await state();
			for (let i = 0; i < 2; i++) expect((await deliver(e)).body.status, e.type).toBe("duplicate");
			expect(await state(), e.type).toEqual(after);
		}
		const sale = await refkit.getSale("in_each");
		expect([sale?.amount, sale?.refunded], "2000 refunded, then 1000 lost in the dispute").toEqual([
			10000, 3000,
		]);
	});

	test("a bad, missing, stale or foreign signature answers 400 and changes nothing", async () => {
		const { refkit, deliver } = await setup(kind);
		const paid = event("invoice.paid", paidInvoice({ customer: "cus_bob", amount: 10000 }));
		const good = signed(paid);
		const tampered = good.body.replace('"amount_paid": 10000', '"amount_paid": 99999');
		expect(tampered).not.toBe(good.body);
		const foreign = signed(paid, "whsec_someone_elses_secret_0123456789").signature;
		const stale = `t=${Math.floor(Date.now() / 1000) - 3600},${good.signature.split(",")[1]}`;
		for (const [signature, body] of [
			[good.signature, tampered],
			[foreign, good.body],
			[stale, good.body],
			["", good.body],
			["t=1,v1=abc", good.body],
		] as const) {
			const answer = await deliver(paid, signature, body);
			expect(answer.status).toBe(400);
			expect(answer.body.received).toBe(false);
			expect(String(answer.body.error)).not.toContain(WEBHOOK_SECRET);
		}
		expect(await refkit.listSales()).toEqual([]);
	});

	test("an event type refkit does not handle answers 200 and does nothing", async () => {
		const { refkit, deliver } = await setup(kind);
		// Signed, but without the data.object refkit reads.
		const thin = { id: "evt_thin", object: "event", type: "invoice.paid", data: {} };
		expect(await deliver(thin)).toMatchObject({ status: 200, body: { received: true, status: "ignored" } });
		const answer = await deliver(
			event("invoice.payment_failed", paidInvoice({ customer: "cus_bob", amount: 500 })),
		);
		expect(answer).toMatchObject({ status: 200, body: { received: true, status: "ignored" } });
		expect(await refkit.listSales()).toEqual([]);
	});

	test("a customer who is no user yet waits, and is applied by a replay once they are", async () => {
		let known = false;
		const { refkit, stripe, deliver } = await setup(kind, (customer) =>
			known && customer === "cus_new" ? "bob" : null,
		);
		const paid = event("invoice.paid", paidInvoice({ id: "in_wait", customer: "cus_new", amount: 5000 }));
		const first = await deliver(paid);
		expect(first).toMatchObject({ status: 200, body: { status: "waiting" } });
		expect(first.body.outcome).toContain("no user is known for Stripe customer cus_new");
		expect((await deliver(paid)).body.status, "still unknown on redelivery").toBe("waiting");
		expect(await refkit.listSales()).toEqual([]);
		expect(
			(await stripe.events({ status: "waiting" })).map((e) => [e.eventId, e.waitingFor, e.attempts]),
		).toEqual([[paid.id, "user", 2]]);
		await expectCode(stripe.events({ status: "lost" as never }), "INVALID_ARGUMENT");
		known = true;
		const replayed = await stripe.replay();
		expect(replayed.map((r) => [r.eventId, r.status])).toEqual([[paid.id, "applied"]]);
		expect((await refkit.getSale("in_wait"))?.amount).toBe(5000);
		expect(await stripe.replay(), "nothing waits any more").toEqual([]);
		expect((await deliver(paid)).body.status).toBe("duplicate");
	});

	test("checkout.session.completed records a one-off payment; other modes and unpaid sessions do not", async () => {
		const { refkit, deliver } = await setup(kind);
		const subscription = paidSession({ customer: "cus_bob", amount: 3000, mode: "subscription" });
		expect((await deliver(event("checkout.session.completed", subscription))).body.status).toBe("ignored");
		const unpaid = paidSession({ customer: "cus_bob", amount: 3000, paymentStatus: "unpaid" });
		expect((await deliver(event("checkout.session.completed", unpaid))).body.status).toBe("ignored");
		// A delayed payment method: the session completes unpaid, then its payment succeeds.
		const later = { ...unpaid, payment_status: "paid" as const };
		expect((await deliver(event("checkout.session.async_payment_succeeded", later))).body.status).toBe(
			"applied",
		);
		const guest = paidSession({ customer: null, amount: 2500, userId: "bob", paymentIntent: "pi_guest" });
		expect((await deliver(event("checkout.session.completed", guest))).body.status).toBe("applied");
		expect((await refkit.listSales()).map((s) => [s.externalId, s.amount]).sort()).toEqual(
			[
				[later.payment_intent, 3000],
				["pi_guest", 2500],
			].sort(),
		);
		// A session that made an invoice is that invoice's sale: its invoice.paid is the same one.
		const invoiced = paidSession({ customer: "cus_bob", amount: 4000, invoice: "in_from_session" });
		await deliver(event("checkout.session.completed", invoiced));
		await deliver(
			event("invoice.paid", paidInvoice({ id: "in_from_session", customer: "cus_bob", amount: 4000 })),
		);
		expect((await refkit.listSales()).filter((s) => s.externalId === "in_from_session")).toHaveLength(1);
	});

	test("partial refunds add up to the whole, in any order and however often delivered", async () => {
		const { refkit, deliver, pay } = await setup(kind);
		const pi = await pay("in_r", 10000);
		const ch = stripeId("ch");
		const thirty = event(
			"charge.refunded",
			charge({ id: ch, paymentIntent: pi, amount: 10000, refunded: 3000 }),
		);
		const all = event(
			"charge.refunded",
			charge({ id: ch, paymentIntent: pi, amount: 10000, refunded: 10000 }),
		);
		expect((await deliver(thirty)).body.outcome).toContain("refunded 3000 USD of sale in_r");
		expect((await refkit.getSale("in_r"))?.refunded).toBe(3000);
		expect((await balance(refkit))?.approved, "2000 less 30 %").toBe(500 + 1400);
		expect((await deliver(thirty)).body.status).toBe("duplicate");
		const sixty = event(
			"charge.refunded",
			charge({ id: ch, paymentIntent: pi, amount: 10000, refunded: 6000 }),
		);
		expect((await deliver(sixty)).body.outcome, "3000 more, not 6000").toContain("refunded 3000 USD");
		expect((await refkit.getSale("in_r"))?.refunded).toBe(6000);
		expect((await deliver(all)).body.outcome).toContain("refunded 4000 USD");
		expect((await deliver(all)).body.status).toBe("duplicate");
		expect((await refkit.getSale("in_r"))?.refunded).toBe(10000);
		expect((await balance(refkit))?.approved, "the sale's commission taken back whole").toBe(500);

		// Reordered: the full refund's event first, then the partial one's, which has nothing left to add.
		const pi2 = await pay("in_r2", 5000);
		const ch2 = stripeId("ch");
		await deliver(
			event("charge.refunded", charge({ id: ch2, paymentIntent: pi2, amount: 5000, refunded: 5000 })),
		);
		const late = await deliver(
			event("charge.refunded", charge({ id: ch2, paymentIntent: pi2, amount: 5000, refunded: 2000 })),
		);
		expect(late.body.outcome).toContain("nothing new to refund");
		expect((await refkit.getSale("in_r2"))?.refunded).toBe(5000);
	});

	test("a refund that arrives before its payment waits, and is applied when the payment arrives", async () => {
		const { refkit, deliver } = await setup(kind);
		const pi = stripeId("pi");
		const ch = stripeId("ch");
		const refund = await deliver(
			event("charge.refunded", charge({ id: ch, paymentIntent: pi, amount: 8000, refunded: 8000 })),
		);
		expect(refund.body).toMatchObject({ status: "waiting" });
		// The invoice's payment names the payment intent; the invoice is paid after.
		const link = await deliver(
			event("invoice_payment.paid", invoicePayment({ invoice: "in_late", paymentIntent: pi, amount: 8000 })),
		);
		expect(link.body.status).toBe("applied");
		expect(await refkit.getSale("in_late"), "no sale yet").toBeNull();
		await deliver(event("invoice.paid", paidInvoice({ id: "in_late", customer: "cus_bob", amount: 8000 })));
		const sale = await refkit.getSale("in_late");
		expect([sale?.amount, sale?.refunded]).toEqual([8000, 8000]);
		expect((await ledger(refkit)).filter((c) => c.sourceType === "sale").map((c) => c.status)).toEqual([
			"voided",
		]);
		// A one-off payment's refund before its checkout session.
		const pi2 = stripeId("pi");
		await deliver(event("charge.refunded", charge({ paymentIntent: pi2, amount: 3000, refunded: 1000 })));
		await deliver(
			event(
				"checkout.session.completed",
				paidSession({ customer: "cus_bob", amount: 3000, paymentIntent: pi2 }),
			),
		);
		expect((await refkit.getSale(pi2))?.refunded).toBe(1000);
	});

	test("a dispute holds the sale's unpaid commissions; won, releases them", async () => {
		const { refkit, deliver, pay } = await setup(kind);
		const pi = await pay("in_d", 10000);
		const ch = stripeId("ch");
		const opened = dispute({ charge: ch, paymentIntent: pi, amount: 10000, status: "needs_response" });
		expect((await deliver(event("charge.dispute.created", opened))).body.outcome).toContain(
			"holds 1 commission",
		);
		expect(await balance(refkit)).toMatchObject({ held: 2000, approved: 500 });
		const [held] = await refkit.listCommissions({ status: "held" });
		expect(held?.heldReason).toBe(`Stripe dispute ${opened.id} (fraudulent)`);
		// Its reason, as Stripe has it when it closes, need not be the one it opened with.
		await deliver(event("charge.dispute.closed", { ...opened, status: "won", reason: "general" }));
		expect(await balance(refkit)).toMatchObject({ held: 0, approved: 2500 });
		expect((await refkit.getSale("in_d"))?.refunded).toBe(0);
	});

	test("a dispute lost takes the disputed amount back; one closed before it opened holds nothing", async () => {
		const { refkit, deliver, pay } = await setup(kind);
		const pi = await pay("in_l", 10000);
		const ch = stripeId("ch");
		const opened = dispute({ charge: ch, paymentIntent: pi, amount: 4000, status: "needs_response" });
		await deliver(event("charge.dispute.created", opened));
		const lost = await deliver(event("charge.dispute.closed", { ...opened, status: "lost" }));
		expect(lost.body.outcome).toContain("4000 USD of sale in_l taken back");
		expect((await refkit.getSale("in_l"))?.refunded).toBe(4000);
		// 2000 less 40 %: the rest is payable again, nothing stays held.
		expect(await balance(refkit)).toMatchObject({ held: 0, approved: 500 + 1200 });

		const pi2 = await pay("in_w", 5000);
		const early = dispute({ charge: stripeId("ch"), paymentIntent: pi2, amount: 5000, status: "won" });
		await deliver(event("charge.dispute.closed", early));
		const created = await deliver(event("charge.dispute.created", { ...early, status: "needs_response" }));
		expect(created.body.outcome).toContain("closed before it arrived");
		expect((await balance(refkit))?.held).toBe(0);
	});

	test("a sale in a currency the program does not pay in is kept as failed, not lost", async () => {
		const { refkit, deliver } = await setup(kind);
		const paid = event("invoice.paid", paidInvoice({ customer: "cus_bob", amount: 10000, currency: "eur" }));
		const answer = await deliver(paid);
		expect(answer).toMatchObject({ status: 200, body: { status: "failed" } });
		expect(answer.body.outcome).toContain("the sale is in EUR");
		expect(await refkit.listSales()).toEqual([]);
		expect((await deliver(paid)).body.status, "tried again on redelivery").toBe("failed");
	});

	test("an event not shaped as Stripe's reference says is kept as failed, answered 200, and records nothing", async () => {
		const { refkit, deliver } = await setup(kind);
		const invoice = paidInvoice({ customer: "cus_bob", amount: 10000 }) as unknown as Record<string, unknown>;
		delete invoice.status_transitions;
		invoice.payments = { data: [{}] };
		const broken = await deliver(event("invoice.paid", invoice as never));
		expect(broken).toMatchObject({ status: 200, body: { status: "failed" } });
		expect(broken.body.outcome).toContain("is not shaped as Stripe's API reference says");
		const refund = charge({ paymentIntent: stripeId("pi"), amount: 100, refunded: 1 });
		const fractional = await deliver(event("charge.refunded", { ...refund, amount_refunded: 0.5 }));
		expect(fractional.body).toMatchObject({ status: "failed" });
		expect(fractional.body.outcome).toContain("charge.amount_refunded is not a whole amount");
		expect(await refkit.listSales()).toEqual([]);
	});

	test("50 concurrent deliveries of one event record one sale", async () => {
		const { refkit, deliver } = await setup(kind);
		const paid = event("invoice.paid", paidInvoice({ id: "in_race", customer: "cus_bob", amount: 10000 }));
		const answers = await Promise.all(Array.from({ length: 50 }, () => deliver(paid)));
		expect(answers.every((a) => a.status === 200)).toBe(true);
		const statuses = answers.map((a) => a.body.status);
		expect(statuses.filter((s) => s === "applied")).toHaveLength(1);
		expect(statuses.filter((s) => s === "duplicate")).toHaveLength(49);
		expect(await refkit.listSales()).toHaveLength(1);
		expect((await ledger(refkit)).filter((c) => c.sourceType === "sale")).toHaveLength(1);
	});

	test("stripeWebhooks() refuses a missing secret or resolver, and a refkit without programs", async () => {
		const { refkit } = await setup(kind);
		expect(() => stripeWebhooks(refkit, { secret: "sk_live_wrong", userId })).toThrow(/whsec_/);
		expect(() => stripeWebhooks(refkit, { secret: WEBHOOK_SECRET } as never)).toThrow(/userId/);
		expect(() => stripeWebhooks({} as Refkit, { secret: WEBHOOK_SECRET, userId })).toThrow(/createRefkit/);
		const { stripe } = await setup(kind);
		await expectCode(stripe.apply({ id: "evt_1" }), "INVALID_ARGUMENT");
	});
});
