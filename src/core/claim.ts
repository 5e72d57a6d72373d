import { invalid } from "./arguments.js";
import type { CoreContext } from "./context.js";
import { readCookie, serializeCookie, serializeCookieDeletion } from "./cookies.js";
import { PASS } from "./outcomes.js";
import { consented, currentUser, report } from "./report.js";
import type { Outcome, RefkitRequest } from "./request.js";
import { signBrowserId, verifyBrowserCookie, verifyVisitorCookie } from "./visitor-cookie.js";
import { awaitUntil, visitorDeadline } from "./visitor-wait.js";

/**
 * Gives every unclaimed hit of the visitor behind `cookieValue` to `userId`, in one UPDATE. A cookie whose
 * signature does not verify claims nothing. Returns how many hits were claimed; database errors throw, and so
 * does a `userId` that is not a non-empty string (`INVALID_ARGUMENT`).
 */
export async function claimHits(ctx: CoreContext, cookieValue: unknown, userId: string): Promise<number> {
	if (typeof userId !== "string" || userId === "")
		invalid("claim() needs the user id as a non-empty string.");
	const visitorId = verifyVisitorCookie(cookieValue, ctx.options.secrets);
	if (visitorId === null) return 0;
	const count = await ctx.store.claimVisitorHits(visitorId, userId, ctx.now());
	if (count > 0) ctx.events.emit("claim", { userId, visitorId, count });
	return count;
}

/**
 * The claim step of a logged-in visitor's request that carries the visitor cookie: claim, then delete the
 * cookie. The browser keeps a browser cookie: when it has no valid one, it gets one naming the visitor id,
 * the browser id its anonymous hits recorded (see `follow`), so that the browser stays known after the
 * visitor cookie is gone. If the database fails, or has not answered by `deadline`, the error is reported
 * (once: a late failure is not reported again) and the cookie kept, so the hits can still be claimed on a
 * later request (a late claim still claims).
 * Returns the `Set-Cookie` values to send and the visitor id, or `null` when the claim did not happen in time.
 */
export async function claimAndForget(
	ctx: CoreContext,
	cookieValue: string,
	userId: string,
	deadline: number,
	hasBrowserCookie: boolean,
): Promise<{ setCookies: string[]; visitorId: string | null } | null> {
	try {
		await awaitUntil(deadline, () => claimHits(ctx, cookieValue, userId));
	} catch (error) {
		report(ctx, error, { operation: "claim" });
		return null;
	}
	const { options } = ctx;
	const setCookies = [serializeCookieDeletion(options.cookieName, options.cookie)];
	const visitorId = verifyVisitorCookie(cookieValue, options.secrets);
	if (visitorId !== null && !hasBrowserCookie) {
		setCookies.push(
			serializeCookie(options.browserCookieName, signBrowserId(visitorId, options.secret), options.cookie),
		);
	}
	return { setCookies, visitorId };
}

/** The claim middleware (django-reflinks' AnonymousReferralMiddleware) for any request. */
export async function claimOnRequest(
	ctx: CoreContext,
	request: RefkitRequest,
	cookieValue: string | undefined,
): Promise<Outcome> {
	if (cookieValue === undefined) return PASS;
	const userId = await currentUser(ctx, request, { operation: "claim" });
	if (userId === null) return PASS;
	const browserCookie = readCookie(request.header("cookie"), ctx.options.browserCookieName);
	// Without consent the visitor's hits stay unlinked to the user, and the cookies go.
	if (!(await consented(ctx, request, { operation: "claim" }))) {
		const setCookies = [serializeCookieDeletion(ctx.options.cookieName, ctx.options.cookie)];
		if (browserCookie !== undefined) {
			setCookies.push(serializeCookieDeletion(ctx.options.browserCookieName, ctx.options.cookie));
		}
		return { redirect: null, setCookies };
	}
	const hasBrowserCookie = verifyBrowserCookie(browserCookie, ctx.options.secrets) !== null;
	const claimed = await claimAndForget(ctx, cookieValue, userId, visitorDeadline(), hasBrowserCookie);
	return { redirect: null, setCookies: claimed?.setCookies ?? [] };
}
