import Stripe from "stripe";
import { coreOf } from "../core/internal.js";
import { report } from "../core/report.js";
import { isRefkitError, RefkitError } from "../errors.js";
import type { DashboardResponse, WebhookDelivery, WebhookReceiver } from "../http/request.js";
import { jsonReply } from "../http/webhook.js";
import { requirePrograms } from "../programs/ledger.js";
import type { Refkit } from "../refkit.js";
import {
	applyStripeEvent,
	listStripeEvents,
	replayStripeEvents,
	type StripeEventRecord,
	type StripeEventResult,
	type StripeUserResolver,
} from "./stripe-events.js";

export type { BillingEventResult } from "./apply.js";
export {
	STRIPE_EVENT_TYPES,
	type StripeEventRecord,
	type StripeEventResult,
	type StripeUserResolver,
} from "./stripe-events.js";

/** What `stripeWebhooks()` is told. */
export interface StripeWebhooksOptions {
	/** The endpoint's signing secret, `whsec_...` (Stripe's dashboard, or `stripe listen`). */
	secret: string;
	/**
	 * Which of your users a Stripe customer is: given the customer's id (`null` for a guest checkout) and the
	 * event. Answer `null` when none is (yet): the event waits, and `replay()` applies it later.
	 */
	userId: StripeUserResolver;
	/** How old, in seconds, a signature's timestamp may be. Default 300, Stripe's. */
	tolerance?: number | undefined;
}

/** Stripe's webhooks, received: mount `receive` with your framework's adapter (see docs/stripe.md). */
export interface StripeWebhooks extends WebhookReceiver {
	/**
	 * Verifies a delivery's `Stripe-Signature` over its raw body and applies its event: 200 when it was applied,
	 * ignored, kept waiting or received before; 400 for a bad signature (nothing changes); 500 when the database
	 * failed (Stripe delivers it again).
	 */
	receive(delivery: WebhookDelivery): Promise<DashboardResponse>;
	/** Applies an event you trust (a saved one: no signature is checked), exactly once by its id. */
	apply(event: Stripe.Event | unknown): Promise<StripeEventResult>;
	/** Applies again the events that wait (for a user, or for their sale) or failed, oldest first. */
	replay(options?: { limit?: number | undefined }): Promise<StripeEventResult[]>;
	/** The events refkit keeps, oldest first (up to `limit`, default 100): all, or those in one `status`. */
	events(options?: {
		status?: StripeEventRecord["status"] | undefined;
		limit?: number | undefined;
	}): Promise<StripeEventRecord[]>;
}

/**
 * Receives Stripe's webhooks for a refkit with programs: `invoice.paid` and paid `checkout.session.completed`
 * (one-off payments) record a sale once per invoice or payment; `charge.refunded` records what was refunded
 * since; `charge.dispute.created` holds the sale's unpaid commissions and `charge.dispute.closed` releases
 * (won) or reverses (lost) them. Each event is applied once by its id, in the transaction of its effect.
 *
 * @example
 * ```ts
 * import { createRefkit } from "refkit";
 * import { stripeWebhooks } from "refkit/stripe";
 *
 * const refkit = createRefkit({
 * 	database: "refkit.sqlite",
 * 	programs: [{ id: "standard", currency: "USD", rules: [{ on: "sale", percent: 20 }] }],
 * });
 * const stripe = stripeWebhooks(refkit, {
 * 	secret: process.env.STRIPE_WEBHOOK_SECRET ?? "",
 * 	// The user id your checkout put in the invoice's or session's metadata.
 * 	userId: (_customer, event) => {
 * 		const object = event.data.object as { metadata?: Record<string, string> | null };
 * 		return object.metadata?.userId ?? null;
 * 	},
 * });
 * ```
 */
export function stripeWebhooks(refkit: Refkit, options: StripeWebhooksOptions): StripeWebhooks {
	const ctx = coreOf(refkit, "stripeWebhooks()");
	requirePrograms(ctx, "stripeWebhooks()");
	if (typeof options !== "object" || options === null) {
		throw new RefkitError("INVALID_OPTION", "refkit: stripeWebhooks() needs { secret, userId }.");
	}
	const { secret, userId, tolerance = 300 } = options;
	if (typeof secret !== "string" || !secret.startsWith("whsec_")) {
		throw new RefkitError(
			"INVALID_OPTION",
			"refkit: stripeWebhooks() needs the endpoint's signing secret, starting whsec_ (Stripe's dashboard > Webhooks, or `stripe listen`).",
		);
	}
	if (typeof userId !== "function") {
		throw new RefkitError(
			"INVALID_OPTION",
			"refkit: stripeWebhooks() needs userId(customer, event): which of your users a Stripe customer is.",
		);
	}
	if (!Number.isInteger(tolerance) || tolerance < 1) {
		throw new RefkitError(
			"INVALID_OPTION",
			"refkit: stripeWebhooks()'s tolerance is whole seconds, at least 1.",
		);
	}
	return {
		async receive(delivery) {
			const signature = delivery.header("stripe-signature");
			if (signature === undefined || signature === "") {
				return jsonReply(400, {
					received: false,
					error: "No Stripe-Signature header: this is not a delivery from Stripe.",
				});
			}
			let event: Stripe.Event;
			try {
				event = await Stripe.webhooks.constructEventAsync(delivery.body, signature, secret, tolerance);
			} catch {
				return jsonReply(400, {
					received: false,
					error: "The Stripe-Signature does not match this body and the endpoint's secret (or is too old).",
				});
			}
			try {
				const result = await applyStripeEvent(ctx, event, userId);
				return jsonReply(200, { received: true, status: result.status, outcome: result.outcome });
			} catch (error) {
				// Signed by Stripe but no event refkit reads (a "thin" event, without data.object): nothing to do.
				if (isRefkitError(error, "INVALID_ARGUMENT")) {
					return jsonReply(200, { received: true, status: "ignored", outcome: error.message });
				}
				report(ctx, error, { operation: "billing" });
				return jsonReply(500, {
					received: false,
					error: "refkit could not record this event now; Stripe will send it again.",
				});
			}
		},
		apply: (event) => applyStripeEvent(ctx, event, userId),
		replay: (replayOptions = {}) => replayStripeEvents(ctx, userId, replayOptions.limit ?? 100),
		events: (listOptions) => listStripeEvents(ctx, listOptions),
	};
}
