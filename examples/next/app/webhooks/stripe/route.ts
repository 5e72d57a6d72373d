import { stripeWebhooks } from "refkit/stripe";
import { webhookHandler } from "refkit/web";
import { refkit } from "@/lib/refkit";

// Stripe's events as sales, refunds and disputes (docs/stripe.md). The receiver is made on the first
// delivery, not when `next build` loads this module: the build has no STRIPE_WEBHOOK_SECRET to check.
let receive: ((request: Request) => Promise<Response>) | undefined;

export async function POST(request: Request) {
	const secret = process.env.STRIPE_WEBHOOK_SECRET;
	if (!secret) {
		const error = "STRIPE_WEBHOOK_SECRET is not set: give it the endpoint's signing secret (whsec_...).";
		console.error(error);
		return Response.json({ received: false, error }, { status: 500 });
	}
	receive ??= webhookHandler(
		stripeWebhooks(refkit, {
			secret,
			// The user id your checkout put in the invoice's or the session's metadata.
			userId: (_customer, event) => {
				const object = event.data.object as { metadata?: Record<string, string> | null };
				return object.metadata?.userId ?? null;
			},
		}),
	);
	return receive(request);
}
