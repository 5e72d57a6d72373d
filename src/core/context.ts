import { isRefkitError } from "../errors.js";
import type { ErrorContext, ResolvedOptions } from "../options.js";
import type { RefkitStore } from "../store/store.js";
import type { SkipReason } from "./bots.js";
import type { Emitter } from "./events.js";
import type { LinkCache } from "./link-cache.js";
import type { Outcome, RefkitRequest } from "./request.js";
import type { SkippedHit } from "./skips.js";

/** What `refkit.counters()` reports, counted since the instance was created (per process, not stored). */
export interface RefkitCounters {
	/** Hits recorded by following links in this process. */
	hitsRecorded: number;
	/** Requests to enabled links that were redirected but not recorded, by reason. */
	hitsSkipped: Record<SkipReason, number>;
	/**
	 * Hits that were not recorded because too many were already waiting for a database that did not keep up
	 * (`QUEUE_FULL`): the visitor was redirected, the hit lost. Reported to `onError` once a second at most.
	 */
	hitsDropped: number;
	/**
	 * Errors refkit absorbed and reported to `onError` (the dashboard's are not counted): a database that
	 * failed or was too slow for a visitor's request, a broken pooled connection, a throwing listener,
	 * `getUserId` or consent check, a failed delivery. A count that climbs while `hitsRecorded` stalls says
	 * that visitors are being redirected without their hits being recorded.
	 */
	errors: number;
}

/** What core's functions share: the options, the store, the clock, the event emitter and the counters. */
export interface CoreContext {
	readonly options: ResolvedOptions;
	readonly store: RefkitStore;
	readonly events: Emitter;
	readonly counters: RefkitCounters;
	/** The links of visitors' requests; whatever changes a link forgets it here. */
	readonly links: LinkCache;
	now(): Date;
}

/** The outcome that lets the request through untouched. */
export const PASS: Outcome = Object.freeze({
	redirect: null,
	setCookies: Object.freeze([]) as unknown as string[],
});

/** A 302 to `location`, which the caller has already made safe. */
export function redirectTo(location: string, setCookies: string[] = []): Outcome {
	return { redirect: { status: 302, location }, setCookies };
}

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
