import { invalid } from "../core/arguments.js";
import type { CoreContext } from "../core/context.js";
import { report } from "../core/report.js";
import type { Delivery } from "../types.js";

/**
 * The outbox's delivery pass: hands due conversions and reversals to a handler (such as `webhookSender()`,
 * beside it in `webhook.ts`) and marks each delivered, or schedules its retry with backoff.
 */

/** Options of `refkit.deliverConversions()`. */
export interface DeliverOptions {
	/** How many conversions to take from the database at a time. Default 50. */
	batchSize?: number | undefined;
	/** The wait before the first retry, in milliseconds; it doubles with each failure. Default 30 seconds. */
	retryDelay?: number | undefined;
	/** The longest wait between retries, in milliseconds. Default one hour. */
	maxRetryDelay?: number | undefined;
	/**
	 * How long a delivery taken by this worker stays reserved, in milliseconds, before another worker may take
	 * it (if this one died mid-way). Longer than your handler's timeout. Default 5 minutes.
	 */
	lease?: number | undefined;
}

/** The handler that delivers one event. Resolving marks it delivered; throwing schedules a retry. */
export type DeliveryHandler = (delivery: Delivery) => unknown;

/** What one `deliverConversions()` pass did. */
export interface DeliverResult {
	/** Events the handler accepted, now marked delivered. */
	delivered: number;
	/** Events the handler failed; each is retried after its backoff. */
	failed: number;
}

function duration(name: string, value: unknown, fallback: number, min: number): number {
	if (value === undefined) return fallback;
	if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > 2 ** 31) {
		invalid(
			`deliverConversions()'s ${name} must be a whole number from ${min} (got ${JSON.stringify(value)}).`,
		);
	}
	return value;
}

/** The wait after `attempt` failures: doubling from `base`, capped at `max`. */
export function retryDelay(attempt: number, base: number, max: number): number {
	return Math.min(max, base * 2 ** Math.min(attempt - 1, 30));
}

/**
 * One outbox pass: hands every conversion or reversal that was due when the pass began to `handler`, one at
 * a time, oldest first. An event is marked delivered only after the handler resolves, so each is delivered at
 * least once; receivers deduplicate on `idempotencyKey`.
 */
export async function deliverConversions(
	ctx: CoreContext,
	handler: DeliveryHandler,
	options: DeliverOptions = {},
): Promise<DeliverResult> {
	if (typeof handler !== "function") {
		invalid(
			"deliverConversions() needs a handler, (delivery) => Promise<void>, such as webhookSender({ url, secret }).",
		);
	}
	if (typeof options !== "object" || options === null) {
		invalid("deliverConversions()'s options must be an object.");
	}
	const batchSize = duration("batchSize", options.batchSize, 50, 1);
	const base = duration("retryDelay", options.retryDelay, 30_000, 1);
	const max = duration("maxRetryDelay", options.maxRetryDelay, 60 * 60_000, base);
	const lease = duration("lease", options.lease, 5 * 60_000, 1);

	const result: DeliverResult = { delivered: 0, failed: 0 };
	// Only what was due when the pass began: a failure is retried later, never again in the same pass.
	const passStart = ctx.now();
	for (;;) {
		const leaseUntil = new Date(ctx.now().getTime() + lease);
		const due = await ctx.store.takeDueDeliveries(passStart, leaseUntil, batchSize);
		for (const { conversion, attempt } of due) {
			const type = conversion.deliveredAt === null ? "conversion" : "reversal";
			const idempotencyKey = type === "conversion" ? conversion.id : `${conversion.id}:reversal`;
			try {
				await handler({ type, idempotencyKey, attempt, conversion });
			} catch (error) {
				result.failed++;
				report(ctx, error, { operation: "deliver" });
				const message = (error instanceof Error ? error.message : String(error)).slice(0, 1000);
				const retryAt = new Date(ctx.now().getTime() + retryDelay(attempt, base, max));
				await ctx.store.markDeliveryFailed(conversion.id, message, retryAt);
				continue;
			}
			await ctx.store.markDelivered(conversion.id, type, ctx.now());
			result.delivered++;
		}
		if (due.length < batchSize) return result;
	}
}
