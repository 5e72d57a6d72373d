import type { ReferralLink } from "../types.js";
import type { CoreContext } from "./context.js";
import { awaitUntil } from "./visitor-wait.js";

/** How a visitor's request finds its link: the link cache first, else the database within the visitor's wait. */

/**
 * How long a follow of a link this process has seen before waits for a fresh answer about it, in
 * milliseconds, before going on with the last answer (see {@link visitorLink}).
 */
export const LINK_REFRESH_WAIT_MS = 100;

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
