import { readFileSync } from "node:fs";
import Stripe from "stripe";

/*
 * Stripe events for the tests, built on the objects of Stripe's API reference: api-objects.json holds the
 * example invoice, checkout session, charge, dispute and invoice payment of stripe/openapi's fixtures3.json
 * (OpenAPI v2602, the version the pinned `stripe` 23.2.0 was generated from, API version 2026-11-18.endive).
 * Each builder changes only the fields a test is about, and is typed by the package's own types.
 */

export const API_VERSION = "2026-11-18.endive";
export const WEBHOOK_SECRET = "whsec_test_secret_for_refkit_tests_0123456789";

const objects = JSON.parse(readFileSync(new URL("./api-objects.json", import.meta.url), "utf8")) as Record<
	string,
	unknown
>;
const base = <T>(name: string): T => structuredClone(objects[name]) as T;

let sequence = 0;
const next = (prefix: string) => `${prefix}_test${String(++sequence).padStart(8, "0")}`;

/** An event as Stripe delivers it, around `object`. */
export function event<T extends Stripe.Event["type"]>(
	type: T,
	object: Extract<Stripe.Event, { type: T }>["data"]["object"],
	fields: { id?: string; created?: number } = {},
): Extract<Stripe.Event, { type: T }> {
	return {
		id: fields.id ?? next("evt"),
		object: "event",
		api_version: API_VERSION,
		created: fields.created ?? Math.floor(Date.now() / 1000),
		data: { object },
		livemode: false,
		pending_webhooks: 1,
		request: { id: null, idempotency_key: null },
		type,
	} as unknown as Extract<Stripe.Event, { type: T }>;
}

/** A paid invoice of `amount` cents for `customer`, whose metadata names the user. */
export function paidInvoice(fields: {
	id?: string;
	customer?: string;
	amount: number;
	currency?: string;
	userId?: string;
	paymentIntent?: string;
}): Stripe.Invoice {
	const invoice = base<Stripe.Invoice>("invoice");
	const id = fields.id ?? next("in");
	const paidAt = Math.floor(Date.now() / 1000);
	return {
		...invoice,
		id,
		customer: fields.customer ?? "cus_test",
		currency: fields.currency ?? "usd",
		amount_due: fields.amount,
		amount_paid: fields.amount,
		amount_remaining: 0,
		status: "paid",
		metadata: fields.userId === undefined ? {} : { userId: fields.userId },
		status_transitions: { ...invoice.status_transitions, paid_at: paidAt },
		...(fields.paymentIntent === undefined
			? {}
			: {
					payments: {
						object: "list",
						data: [
							invoicePayment({ invoice: id, paymentIntent: fields.paymentIntent, amount: fields.amount }),
						],
						has_more: false,
						url: `/v1/invoices/${id}/payments`,
					},
				}),
	};
}

/** The payment of an invoice by a payment intent (`invoice_payment.paid`). */
export function invoicePayment(fields: {
	invoice: string;
	paymentIntent: string;
	amount: number;
}): Stripe.InvoicePayment {
	const payment = base<Stripe.InvoicePayment>("invoice_payment");
	return {
		...payment,
		id: next("inpay"),
		invoice: fields.invoice,
		amount_paid: fields.amount,
		amount_requested: fields.amount,
		currency: "usd",
		status: "paid",
		payment: { type: "payment_intent", payment_intent: fields.paymentIntent },
	};
}

/** A completed, paid checkout session in `payment` mode (a one-off payment). */
export function paidSession(fields: {
	paymentIntent?: string;
	customer?: string | null;
	amount: number;
	userId?: string;
	mode?: Stripe.Checkout.Session.Mode;
	paymentStatus?: Stripe.Checkout.Session.PaymentStatus;
	invoice?: string | null;
}): Stripe.Checkout.Session {
	const session = base<Stripe.Checkout.Session>("checkout.session");
	return {
		...session,
		id: next("cs"),
		mode: fields.mode ?? "payment",
		status: "complete",
		payment_status: fields.paymentStatus ?? "paid",
		payment_intent: fields.paymentIntent ?? next("pi"),
		invoice: fields.invoice ?? null,
		customer: fields.customer === undefined ? "cus_test" : fields.customer,
		amount_subtotal: fields.amount,
		amount_total: fields.amount,
		currency: "usd",
		metadata: fields.userId === undefined ? {} : { userId: fields.userId },
	};
}

/** A charge of `amount` by `paymentIntent`, `refunded` of it refunded so far. */
export function charge(fields: {
	id?: string;
	paymentIntent: string;
	amount: number;
	refunded: number;
}): Stripe.Charge {
	const base_ = base<Stripe.Charge>("charge");
	return {
		...base_,
		id: fields.id ?? next("ch"),
		payment_intent: fields.paymentIntent,
		amount: fields.amount,
		amount_captured: fields.amount,
		captured: true,
		amount_refunded: fields.refunded,
		refunded: fields.refunded === fields.amount,
		currency: "usd",
		customer: "cus_test",
	};
}

/** A dispute of `amount` on a charge, in `status`. */
export function dispute(fields: {
	id?: string;
	charge: string;
	paymentIntent: string;
	amount: number;
	status: Stripe.Dispute.Status;
}): Stripe.Dispute {
	return {
		...base<Stripe.Dispute>("dispute"),
		id: fields.id ?? next("dp"),
		charge: fields.charge,
		payment_intent: fields.paymentIntent,
		amount: fields.amount,
		currency: "usd",
		reason: "fraudulent",
		status: fields.status,
	};
}

/** The body and the `Stripe-Signature` header of a delivery of `value`, signed as Stripe signs. */
export function signed(value: unknown, secret = WEBHOOK_SECRET): { body: string; signature: string } {
	const body = JSON.stringify(value, null, 2);
	return { body, signature: Stripe.webhooks.generateTestHeaderString({ payload: body, secret }) };
}

/** A new id with Stripe's prefix. */
export const stripeId = next;
