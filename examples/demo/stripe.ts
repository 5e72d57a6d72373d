import { createHash, randomInt } from "node:crypto";
import Stripe from "stripe";

/**
 * Stripe in the demo, without a Stripe account: the `invoice.paid` event Stripe would send when a user pays,
 * built as Stripe's API reference shows it (typed by the `stripe` package's own `Stripe.Invoice`, so a field
 * Stripe does not have, or lacks, fails to compile), signed with the endpoint's secret as Stripe signs it, and
 * POSTed to the demo's /webhooks/stripe like a real delivery. Used by the "Pay with Stripe (test event)" form
 * (app.ts) and by send-stripe-event.ts.
 */

/**
 * The endpoint's signing secret when `STRIPE_WEBHOOK_SECRET` is not set. It is public (it is in this file), so
 * anyone who can reach the demo could sign events with it: a development secret only.
 */
export const DEVELOPMENT_STRIPE_SECRET = "whsec_refkit_demo_development_secret_change_me_0000";

/** Where the demo receives Stripe's events. */
export const STRIPE_WEBHOOK_PATH = "/webhooks/stripe";

const ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** A new id as Stripe makes them: a prefix and 24 letters and digits, `in_1Pgc6tB7WZ01zgkWu9fdqL6I`. */
function newId(prefix: string): string {
	let id = "1";
	while (id.length < 24) id += ALPHANUMERIC[randomInt(ALPHANUMERIC.length)];
	return `${prefix}_${id}`;
}

/**
 * The Stripe customer the demo pretends `userId` is: always the same id for the same user. The demo's webhook
 * does not need it (it reads the user from the invoice's metadata), but a real invoice always names one.
 */
export function demoCustomer(userId: string): string {
	return `cus_${createHash("sha256").update(userId).digest("hex").slice(0, 14)}`;
}

/** What {@link paidInvoiceEvent} is told. */
export interface PaidInvoice {
	/** The demo's user who paid: it goes in the invoice's `metadata.userId`, as a checkout would put it. */
	userId: string;
	/** In minor units, as Stripe counts: 4900 is 49.00 USD. */
	amount: number;
	/** Stripe's lower-case currency code; default `usd`. */
	currency?: string | undefined;
}

/**
 * An `invoice.paid` event for a new, paid invoice of `amount` for `userId` (in `metadata.userId`), with new
 * ids: the event Stripe sends when a customer pays an invoice (a subscription's, or a one-off one).
 *
 * @example
 * ```ts
 * const event = paidInvoiceEvent({ userId: "bob", amount: 4900 });
 * console.log(event.id, event.data.object.id, event.data.object.amount_paid); // evt_1..., in_1..., 4900
 * ```
 */
export function paidInvoiceEvent({ userId, amount, currency = "usd" }: PaidInvoice): Stripe.InvoicePaidEvent {
	const now = Math.floor(Date.now() / 1000);
	const id = newId("in");
	const customer = demoCustomer(userId);
	const line: Stripe.InvoiceLineItem = {
		id: newId("il"),
		object: "line_item",
		amount,
		currency,
		description: "refkit demo purchase",
		discount_amounts: [],
		discountable: true,
		discounts: [],
		invoice: id,
		livemode: false,
		metadata: {},
		parent: null,
		period: { end: now, start: now },
		pretax_credit_amounts: [],
		pricing: null,
		quantity: 1,
		quantity_decimal: null,
		subscription: null,
		subtotal: amount,
		taxes: [],
	};
	const invoice: Stripe.Invoice = {
		id,
		object: "invoice",
		account_country: "US",
		account_name: "refkit demo",
		account_tax_ids: null,
		amount_due: amount,
		amount_overpaid: 0,
		amount_paid: amount,
		amount_remaining: 0,
		amount_shipping: 0,
		application: null,
		attempt_count: 1,
		attempted: true,
		auto_advance: false,
		automatic_tax: {
			disabled_reason: null,
			enabled: false,
			liability: null,
			provider: null,
			status: null,
		},
		automatically_finalizes_at: null,
		billing_reason: "manual",
		collection_method: "charge_automatically",
		created: now,
		currency,
		custom_fields: null,
		customer,
		customer_account: null,
		customer_address: null,
		customer_email: `${userId}@example.com`,
		customer_name: userId,
		customer_phone: null,
		customer_shipping: null,
		customer_tax_exempt: "none",
		customer_tax_ids: [],
		default_payment_method: null,
		default_source: null,
		default_tax_rates: [],
		description: null,
		discounts: [],
		due_date: null,
		effective_at: now,
		ending_balance: 0,
		footer: null,
		from_invoice: null,
		hosted_invoice_url: null,
		invoice_pdf: null,
		issuer: { type: "self" },
		last_finalization_error: null,
		latest_revision: null,
		lines: { object: "list", data: [line], has_more: false, url: `/v1/invoices/${id}/lines` },
		livemode: false,
		// Where the demo's webhook finds the user: a real checkout puts the application's user id here.
		metadata: { userId },
		next_payment_attempt: null,
		number: `DEMO-${id.slice(-8).toUpperCase()}`,
		on_behalf_of: null,
		parent: null,
		payment_settings: { default_mandate: null, payment_method_options: null, payment_method_types: null },
		period_end: now,
		period_start: now,
		post_payment_credit_notes_amount: 0,
		pre_payment_credit_notes_amount: 0,
		receipt_number: null,
		rendering: null,
		shipping_cost: null,
		shipping_details: null,
		starting_balance: 0,
		statement_descriptor: null,
		status: "paid",
		status_transitions: { finalized_at: now, marked_uncollectible_at: null, paid_at: now, voided_at: null },
		subtotal: amount,
		subtotal_excluding_tax: amount,
		test_clock: null,
		total: amount,
		total_discount_amounts: [],
		total_excluding_tax: amount,
		total_pretax_credit_amounts: [],
		total_taxes: [],
		webhooks_delivered_at: null,
	};
	return {
		id: newId("evt"),
		object: "event",
		api_version: Stripe.API_VERSION,
		created: now,
		data: { object: invoice },
		livemode: false,
		pending_webhooks: 1,
		request: { id: null, idempotency_key: null },
		type: "invoice.paid",
	};
}

/** What the endpoint answered a delivery: its HTTP status and its JSON (`{ received, status, outcome }`). */
export interface DeliveryAnswer {
	status: number;
	body: { received?: boolean; status?: string; outcome?: string; error?: string };
}

/**
 * POSTs `event` to `url` as Stripe delivers it: the JSON body, and a `Stripe-Signature` header made with
 * `secret` by the `stripe` package's own test helper. Throws when nothing answers.
 *
 * @example
 * ```ts
 * const answer = await deliverSigned(
 * 	"http://localhost:3000/webhooks/stripe",
 * 	paidInvoiceEvent({ userId: "bob", amount: 4900 }),
 * 	DEVELOPMENT_STRIPE_SECRET,
 * );
 * console.log(answer.status, answer.body.outcome); // 200 "recorded sale in_1... of 4900 USD by bob"
 * ```
 */
export async function deliverSigned(
	url: string,
	event: Stripe.Event,
	secret: string,
): Promise<DeliveryAnswer> {
	const payload = JSON.stringify(event, null, 2);
	const response = await fetch(url, {
		method: "POST",
		headers: {
			"content-type": "application/json; charset=utf-8",
			"stripe-signature": Stripe.webhooks.generateTestHeaderString({ payload, secret }),
			"user-agent": "refkit-demo (a test event, signed as Stripe signs)",
		},
		body: payload,
		redirect: "manual",
		signal: AbortSignal.timeout(10_000),
	});
	const text = await response.text();
	let body: DeliveryAnswer["body"];
	try {
		body = JSON.parse(text) as DeliveryAnswer["body"];
	} catch {
		body = { error: text.slice(0, 200) || response.statusText };
	}
	return { status: response.status, body };
}
