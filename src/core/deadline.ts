import { RefkitError } from "../errors.js";
import type { ErrorContext } from "../options.js";
import type { ReferralLink } from "../types.js";
import { type CoreContext, report } from "./context.js";

/**
 * How long a visitor's request (following a link, `?ref=`, a claim at login) waits for the database, in
 * milliseconds, its queries together. Past it the visitor goes on as when the database fails, and the
 * queries go on without them: a hit is still recorded when the database answers late.
 */
export const VISITOR_WAIT_MS = 1500;

/** When a visitor's request that starts now stops waiting for the database. */
export function visitorDeadline(): number {
	return Date.now() + VISITOR_WAIT_MS;
}

/**
 * Starts `work` (store calls) and waits for it until `deadline` (a `Date.now()` time) at most. Work that settles in time gives its value or
 * throws its error, for the caller to report. At the deadline this throws `STORE_TIMEOUT` instead, and the work
 * goes on unawaited: if it succeeds, `late` gets its value; if it fails, the failure is reported under
 * `context`, so that nothing the database lost goes untold.
 */
export function awaitUntil<T>(
	ctx: CoreContext,
	deadline: number,
	work: () => Promise<T>,
	context: ErrorContext,
	late?: (value: T) => void,
): Promise<T> {
	return new Promise<T>((resolve, reject) => {
		let waiting = true;
		const timer = setTimeout(
			() => {
				waiting = false;
				reject(
					new RefkitError(
						"STORE_TIMEOUT",
						`refkit: the database did not answer within ${VISITOR_WAIT_MS} ms; the visitor went on without waiting (the query goes on, and a failure will be reported).`,
					),
				);
			},
			Math.max(0, deadline - Date.now()),
		);
		work().then(
			(value) => {
				if (waiting) {
					clearTimeout(timer);
					resolve(value);
				} else {
					late?.(value);
				}
			},
			(error: unknown) => {
				if (waiting) {
					clearTimeout(timer);
					reject(error);
				} else {
					report(ctx, error, context);
				}
			},
		);
	});
}

/**
 * The link a visitor asks for: at once from the link cache, else from the database, waited for until
 * `deadline` at most.
 */
export function visitorLink(
	ctx: CoreContext,
	identifier: string,
	deadline: number,
	context: ErrorContext,
): ReferralLink | null | Promise<ReferralLink | null> {
	const cached = ctx.links.peek(identifier);
	if (cached !== undefined) return cached;
	return awaitUntil(
		ctx,
		deadline,
		() => ctx.links.find(identifier, () => ctx.store.findLink(identifier)),
		context,
	);
}
