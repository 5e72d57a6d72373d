import { invalid } from "../core/arguments.js";
import type { CoreContext } from "../core/context.js";
import { report } from "../core/report.js";
import { approveDue } from "../programs/commissions.js";
import type { Conversion, Delivery, LedgerDelivery } from "../types.js";

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

/** The delivery options checked, with their defaults, for `method`. */
function deliverySettings(method: string, handler: unknown, options: DeliverOptions) {
	if (typeof handler !== "function") {
		invalid(
			`${method} needs a handler, (delivery) => Promise<void>, such as webhookSender({ url, secret }).`,
		);
	}
	if (typeof options !== "object" || options === null) invalid(`${method}'s options must be an object.`);
	const base = duration("retryDelay", options.retryDelay, 30_000, 1);
	return {
		batchSize: duration("batchSize", options.batchSize, 50, 1),
		base,
		max: duration("maxRetryDelay", options.maxRetryDelay, 60 * 60_000, base),
		lease: duration("lease", options.lease, 5 * 60_000, 1),
	};
}

/**
 * One pass of an outbox: takes what was due when the pass began, a batch at a time, hands each to `send`,
 * and marks it delivered after `send` resolves, or schedules its retry with backoff when it throws.
 */
async function deliverPass<T extends { attempt: number }>(
	ctx: CoreContext,
	settings: ReturnType<typeof deliverySettings>,
	outbox: {
		take(passStart: Date, leaseUntil: Date, limit: number): Promise<T[]>;
		send(item: T): Promise<unknown>;
		delivered(item: T, at: Date): Promise<void>;
		failed(item: T, error: string, retryAt: Date): Promise<void>;
	},
): Promise<DeliverResult> {
	const { batchSize, base, max, lease } = settings;
	const result: DeliverResult = { delivered: 0, failed: 0 };
	// Only what was due when the pass began: a failure is retried later, never again in the same pass.
	const passStart = ctx.now();
	for (;;) {
		const due = await outbox.take(passStart, new Date(ctx.now().getTime() + lease), batchSize);
		for (const item of due) {
			try {
				await outbox.send(item);
			} catch (error) {
				result.failed++;
				report(ctx, error, { operation: "deliver" });
				const message = (error instanceof Error ? error.message : String(error)).slice(0, 1000);
				await outbox.failed(
					item,
					message,
					new Date(ctx.now().getTime() + retryDelay(item.attempt, base, max)),
				);
				continue;
			}
			await outbox.delivered(item, ctx.now());
			result.delivered++;
		}
		if (due.length < batchSize) return result;
	}
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
	const settings = deliverySettings("deliverConversions()", handler, options);
	const typeOf = (conversion: Conversion) => (conversion.deliveredAt === null ? "conversion" : "reversal");
	return deliverPass(ctx, settings, {
		take: (from, until, limit) => ctx.store.takeDueDeliveries(from, until, limit),
		send: async ({ conversion, attempt }) => {
			const type = typeOf(conversion);
			const idempotencyKey = type === "conversion" ? conversion.id : `${conversion.id}:reversal`;
			await handler({ type, idempotencyKey, attempt, conversion });
		},
		delivered: ({ conversion }, at) => ctx.store.markDelivered(conversion.id, typeOf(conversion), at),
		failed: ({ conversion }, error, retryAt) => ctx.store.markDeliveryFailed(conversion.id, error, retryAt),
	});
}

/** The handler of `deliverEvents()`: resolving marks the event delivered; throwing schedules a retry. */
export type LedgerDeliveryHandler = (delivery: LedgerDelivery) => unknown;

/**
 * One pass of the ledger's outbox (commissions, payouts, sales): like {@link deliverConversions}, each event at
 * least once, oldest first; receivers deduplicate on `idempotencyKey`, the event's id. Commissions whose
 * holding period is over are approved first, so that their `commission.approved` events go out in the pass.
 */
export async function deliverEvents(
	ctx: CoreContext,
	handler: LedgerDeliveryHandler,
	options: DeliverOptions = {},
): Promise<DeliverResult> {
	const settings = deliverySettings("deliverEvents()", handler, options);
	if (ctx.options.programs.default !== null) await approveDue(ctx);
	return deliverPass(ctx, settings, {
		take: (from, until, limit) => ctx.store.takeDueEvents(from, until, limit),
		send: ({ event, attempt }) =>
			Promise.resolve(handler({ type: event.type, idempotencyKey: event.id, attempt, event })),
		delivered: ({ event }, at) => ctx.store.markEventDelivered(event.id, at),
		failed: ({ event }, error, retryAt) => ctx.store.markEventFailed(event.id, error, retryAt),
	});
}
