import type { Hit, ReferralLink } from "../types.js";
import { nonHumanReason } from "./bots.js";
import { claimAndForget } from "./claim.js";
import type { CoreContext } from "./context.js";
import { readCookie, serializeCookie, serializeCookieDeletion } from "./cookies.js";
import { isValidIdentifier } from "./identifiers.js";
import { clientIp, storedIp } from "./ip.js";
import { visitorLink } from "./link-lookup.js";
import { redirectTo } from "./outcomes.js";
import { consented, currentUser, report, skipHit } from "./report.js";
import type { Outcome, RefkitRequest } from "./request.js";
import { safeRedirectPath } from "./safe-redirect.js";
import { uuid7 } from "./uuid7.js";
import {
	newVisitorId,
	signBrowserId,
	signVisitorId,
	verifyBrowserCookie,
	verifyVisitorCookie,
} from "./visitor-cookie.js";
import { visitorDeadline } from "./visitor-wait.js";

/** How much of each visitor-supplied text a hit keeps. */
export const STORED_LENGTH = { userAgent: 512, referer: 2048, next: 2048 } as const;

/** A bounded prefix of a header value, without the NUL characters PostgreSQL refuses in text. */
function bounded(value: string | null | undefined, max: number): string | null {
	if (value === null || value === undefined || value === "") return null;
	let prefix = value.slice(0, max);
	// Never keep half of a character cut at the bound: a lone surrogate is stored as U+FFFD by PostgreSQL and
	// as invalid UTF-8 by SQLite (read back as three U+FFFD), so the stored value would not be a prefix.
	if (/[\uD800-\uDBFF]$/.test(prefix)) prefix = prefix.slice(0, -1);
	return prefix.replace(/\0/g, "");
}

function decodeIdentifier(raw: string): string | null {
	try {
		return decodeURIComponent(raw);
	} catch {
		return null;
	}
}

/**
 * `/ref/<identifier>`: records a hit for an enabled link and redirects to a safe `next`, else the link's
 * target, else the success URL. An anonymous visitor gets (or keeps) the signed visitor cookie; a logged-in
 * visitor's earlier anonymous hits are claimed and the cookie deleted. Unknown and disabled links record
 * nothing and leave the cookie alone. Bots, previews and HEAD requests (with `skipBots`) and repeats within
 * `dedupeWindow` are redirected the same way but not recorded. Never throws: the visitor is redirected
 * whatever the database does, after waiting for it `VISITOR_WAIT_MS` (1.5 s) at most, and not at all for a
 * database that is failing; a hit the database records later is still counted and emitted, and a lost one
 * reported once.
 */
export async function follow(
	ctx: CoreContext,
	request: RefkitRequest,
	rawIdentifier: string,
	query: string,
	cookieValue: string | undefined,
): Promise<Outcome> {
	const { options, store } = ctx;
	const deadline = visitorDeadline();
	const requestedNext = query.includes("next") ? new URLSearchParams(query).get("next") : null;
	const safeNext = safeRedirectPath(requestedNext);
	const identifier = decodeIdentifier(rawIdentifier);
	if (!isValidIdentifier(identifier)) return redirectTo(safeNext ?? options.successUrl);

	const context = { operation: "follow", identifier } as const;
	let link: ReferralLink | null;
	try {
		link = await visitorLink(ctx, identifier, deadline);
	} catch (error) {
		report(ctx, error, context);
		return redirectTo(safeNext ?? options.successUrl);
	}
	if (link === null || link.disabled) return redirectTo(safeNext ?? options.successUrl);
	const destination = safeNext ?? link.target ?? options.successUrl;

	const userAgent = request.header("user-agent");
	if (options.skipBots) {
		const reason = nonHumanReason(
			request.method,
			userAgent,
			request.header("purpose") ?? request.header("x-purpose"),
		);
		if (reason !== null) {
			skipHit(ctx, { reason, identifier, userAgent: userAgent ?? null });
			return redirectTo(destination);
		}
	}

	if (!(await consented(ctx, request, { operation: "follow", identifier }))) {
		skipHit(ctx, { reason: "consent", identifier, userAgent: userAgent ?? null });
		// Without consent, neither cookie stays: the visitor's nor the browser's.
		const forget = [];
		if (cookieValue !== undefined) forget.push(serializeCookieDeletion(options.cookieName, options.cookie));
		if (readCookie(request.header("cookie"), options.browserCookieName) !== undefined) {
			forget.push(serializeCookieDeletion(options.browserCookieName, options.cookie));
		}
		return redirectTo(destination, forget);
	}

	const userId = await currentUser(ctx, request, { operation: "follow", identifier });
	// The browser's id outlives logging in and out (a claim deletes the visitor cookie, not the browser
	// cookie), and is recorded on logged-in hits too, so that a second account made in a link owner's browser
	// is told apart. An anonymous visitor's browser id is their visitor id until the browser has a cookie of
	// its own (given at their first claim, or when they follow a link logged in): one cookie per new visitor.
	const browserCookie = verifyBrowserCookie(
		readCookie(request.header("cookie"), options.browserCookieName),
		options.secrets,
	);
	let visitorId: string | null = null;
	let browserId: string;
	let returning = userId !== null;
	let setCookies: string[];
	if (userId === null) {
		visitorId = verifyVisitorCookie(cookieValue, options.secrets);
		returning = visitorId !== null;
		visitorId ??= newVisitorId();
		browserId = browserCookie ?? visitorId;
		setCookies = [
			serializeCookie(options.cookieName, signVisitorId(visitorId, options.secret), options.cookie),
		];
	} else {
		const claimed = await claimAndForget(ctx, cookieValue ?? "", userId, deadline, browserCookie !== null);
		// A claim that failed or was late (reported) keeps the visitor cookie for a later request; the hit is
		// recorded all the same.
		setCookies = claimed?.setCookies ?? [];
		const claimedVisitor =
			claimed === null ? verifyVisitorCookie(cookieValue, options.secrets) : claimed.visitorId;
		browserId = browserCookie ?? claimedVisitor ?? newVisitorId();
		if (browserCookie === null && claimedVisitor === null) {
			setCookies.push(
				serializeCookie(options.browserCookieName, signBrowserId(browserId, options.secret), options.cookie),
			);
		}
	}

	const now = ctx.now();
	const hit: Hit = {
		id: uuid7(now.getTime()),
		linkId: link.id,
		source: "link",
		authenticated: userId !== null,
		userId,
		visitorId,
		ip: storedIp(
			clientIp(request.remoteAddress, request.header("x-forwarded-for"), options.trustProxy),
			options.ip,
		),
		userAgent: bounded(userAgent, STORED_LENGTH.userAgent),
		referer: bounded(request.header("referer"), STORED_LENGTH.referer),
		next: bounded(requestedNext, STORED_LENGTH.next),
		confirmedAt: null,
		createdAt: now,
		updatedAt: now,
	};
	/**
	 * Records the hit unless it repeats one within `dedupeWindow`; whether it was recorded. `deferred` is told
	 * when the hit waits for a failing database. A repeat that cannot be checked (the database failed) is
	 * recorded: better a repeat counted than a visit lost.
	 */
	const record = async (deferred?: () => void): Promise<boolean> => {
		if (options.dedupeWindow > 0 && returning) {
			const since = new Date(now.getTime() - options.dedupeWindow);
			const repeat = await store.hasRecentHit(hit.linkId, { visitorId, userId }, since).catch(() => false);
			if (repeat) return false;
		}
		await store.recordHit({ ...hit, browserId }, deferred);
		return true;
	};
	const recorded = (stored: boolean) => {
		if (stored) {
			ctx.counters.hitsRecorded++;
			ctx.events.emit("hit", hit);
		} else {
			skipHit(ctx, { reason: "duplicate", identifier, userAgent: userAgent ?? null });
		}
	};
	if (options.hitWrites === "buffered") {
		// Redirect now; the hit goes with the next batch (see `hitWrites`).
		record().then(recorded, (error: unknown) => report(ctx, error, context));
		return redirectTo(destination, setCookies);
	}
	// Durable: the redirect waits for the commit, but not past the deadline, nor for a database that is failing
	// (the hit then waits for it in the store's queue). Whenever it ends, the hit is counted and emitted once
	// stored, or reported once lost; never both, never twice.
	await new Promise<void>((done) => {
		const timer = setTimeout(done, Math.max(0, deadline - Date.now()));
		const stopWaiting = () => {
			clearTimeout(timer);
			done();
		};
		record(stopWaiting)
			.then(recorded, (error: unknown) => report(ctx, error, context))
			.finally(stopWaiting);
	});
	return redirectTo(destination, setCookies);
}
