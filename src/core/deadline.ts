import { RefkitError } from "../errors.js";
import type { ReferralLink } from "../types.js";
import type { CoreContext } from "./context.js";

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
 * How long a follow of a link this process has seen before waits for a fresh answer about it, in
 * milliseconds, before going on with the last answer (see {@link visitorLink}).
 */
export const LINK_REFRESH_WAIT_MS = 100;

/**
 * Starts `work` (store calls) and waits for it until `deadline` (a `Date.now()` time) at most. Work that settles
 * in time gives its value or throws its error, for the caller to report. At the deadline this throws
 * `STORE_TIMEOUT` instead, for the caller to report, and the work goes on unawaited: if it succeeds, `late`
 * gets its value; if it fails, nothing more is said (the caller has reported the timeout: one report each).
 */
export function awaitUntil<T>(
	deadline: number,
	work: () => Promise<T>,
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
						`refkit: the database did not answer within ${VISITOR_WAIT_MS} ms; the visitor went on without waiting.`,
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
				}
			},
		);
	});
}

/**
 * The link a visitor asks for: at once from the link cache while its answer is fresh (1 s). Else from the
 * database, waited for until `deadline` at most, unless this process has seen the link before: then the
 * database's answer is waited for {@link LINK_REFRESH_WAIT_MS} at most, and past that, or if the database
 * fails, the last answer serves. So a known link does not depend on the database answering in time (its hits
 * wait for the database in the hits' queue), while an identifier never seen is not taken on trust (a flood of
 * unknown ones queues nothing). Throws the database's error, or `STORE_TIMEOUT`, for the caller to report.
 */
export function visitorLink(
	ctx: CoreContext,
	identifier: string,
	deadline: number,
): ReferralLink | null | Promise<ReferralLink | null> {
	const cached = ctx.links.peek(identifier);
	if (cached !== undefined) return cached;
	const known = ctx.links.known(identifier);
	const loading = ctx.links.find(identifier, () => ctx.store.findLink(identifier));
	if (known === undefined) return awaitUntil(deadline, () => loading);
	return new Promise((resolve) => {
		const timer = setTimeout(() => resolve(known.value), LINK_REFRESH_WAIT_MS);
		loading.then(
			(link) => {
				clearTimeout(timer);
				resolve(link);
			},
			() => {
				clearTimeout(timer);
				resolve(known.value);
			},
		);
	});
}
