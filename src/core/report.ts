import { isRefkitError } from "../errors.js";
import type { ErrorContext } from "../options.js";
import type { CoreContext } from "./context.js";
import type { RefkitRequest } from "./request.js";
import type { SkippedHit } from "./skips.js";

/**
 * The errors refkit absorbs instead of throwing at a visitor: reporting them to `onError` and counting them,
 * and calling the application's per-request hooks (`getUserId`, `hasConsent`, `onSkip`) so that a hook that
 * throws becomes a report.
 */

/** When each instance last reported a dropped hit: a full queue is told once a second, not once a hit. */
const dropReported = new WeakMap<CoreContext, number>();

/**
 * Reports an error the visitor must not see, and counts it. A throwing `onError` is itself swallowed. A hit
 * dropped for a full queue is counted in `hitsDropped`, and reported once a second at most.
 */
export function report(ctx: CoreContext, error: unknown, context: ErrorContext): void {
	if (isRefkitError(error, "QUEUE_FULL")) {
		ctx.counters.hitsDropped++;
		const now = Date.now();
		if (now - (dropReported.get(ctx) ?? 0) < 1000) return;
		dropReported.set(ctx, now);
	}
	ctx.counters.errors++;
	try {
		ctx.options.onError(error, context);
	} catch {
		// The application's error hook failed; there is nobody left to tell.
	}
}

/**
 * Asks the application whether the visitor consents to tracking. No `hasConsent` means yes; anything but
 * `true`, or a throwing check, means no (and the error is reported): when in doubt, store nothing.
 */
export async function consented(
	ctx: CoreContext,
	request: RefkitRequest,
	context: ErrorContext,
): Promise<boolean> {
	if (request.hasConsent === undefined) return true;
	try {
		return (await request.hasConsent()) === true;
	} catch (error) {
		report(ctx, error, context);
		return false;
	}
}

/**
 * Asks the application who is logged in. A user id is made a string (numbers are common); anything else,
 * or a throwing `getUserId`, counts as anonymous, and the error is reported.
 */
export async function currentUser(
	ctx: CoreContext,
	request: RefkitRequest,
	context: ErrorContext,
): Promise<string | null> {
	try {
		const id = await request.getUserId();
		if (typeof id === "number" && Number.isFinite(id)) return String(id);
		return typeof id === "string" && id !== "" ? id : null;
	} catch (error) {
		report(ctx, error, context);
		return null;
	}
}

/** Counts a skipped hit and tells `onSkip`; a throwing `onSkip` is reported, never thrown at the visitor. */
export function skipHit(ctx: CoreContext, skip: SkippedHit): void {
	ctx.counters.hitsSkipped[skip.reason]++;
	const { onSkip } = ctx.options;
	if (onSkip === null) return;
	try {
		onSkip(skip);
	} catch (error) {
		report(ctx, error, { operation: "follow", identifier: skip.identifier });
	}
}
