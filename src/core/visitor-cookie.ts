import { createHmac, timingSafeEqual } from "node:crypto";
import { uuid7 } from "./uuid7.js";

/**
 * The visitor cookie's value is `<visitor id>.<signature>`: a UUID and the base64url HMAC-SHA256 of it under
 * the application's secret. Only a value whose signature verifies is trusted, so a guessed or
 * copied visitor id claims nothing.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
// A UUID, a dot and a 43-character signature; anything much longer is refused before any hashing.
const MAX_COOKIE_LENGTH = 128;
const CONTEXT = "refkit.visitor.v1:";
/** The browser cookie's: a visitor cookie's value is no browser cookie's, nor the reverse. */
const BROWSER_CONTEXT = "refkit.browser.v1:";

function sign(visitorId: string, secret: string, context = CONTEXT): string {
	return createHmac("sha256", secret)
		.update(context + visitorId)
		.digest("base64url");
}

/**
 * A new visitor id: a UUID version 7, so that the hits of new visitors, most of a link's hits, land at the
 * right edge of the index on visitor ids (a random one cost a write of a page of that index per hit). Its
 * first 48 bits say when the visitor was first seen, as the hit does; the other 74 are random.
 */
export function newVisitorId(): string {
	return uuid7();
}

/** The cookie value for `visitorId`. */
export function signVisitorId(visitorId: string, secret: string): string {
	return `${visitorId}.${sign(visitorId, secret)}`;
}

/**
 * The visitor id inside `cookieValue` if its signature is valid under one of `secrets` (the newest and
 * those being rotated out), otherwise `null`. Never throws; compares signatures in constant time, and
 * checks every secret whichever matches, so the time taken says nothing about which one did.
 */
export function verifyVisitorCookie(
	cookieValue: unknown,
	secrets: readonly string[],
	context = CONTEXT,
): string | null {
	if (typeof cookieValue !== "string" || cookieValue.length > MAX_COOKIE_LENGTH) return null;
	const dot = cookieValue.indexOf(".");
	if (dot < 0) return null;
	const visitorId = cookieValue.slice(0, dot);
	if (!UUID.test(visitorId)) return null;
	const given = Buffer.from(cookieValue.slice(dot + 1), "utf8");
	let valid = false;
	for (const secret of secrets) {
		const expected = Buffer.from(sign(visitorId, secret, context), "utf8");
		if (given.length === expected.length && timingSafeEqual(given, expected)) valid = true;
	}
	return valid ? visitorId : null;
}

/**
 * The browser cookie's value for `browserId`: like the visitor cookie, `<id>.<signature>`, signed apart. It
 * names the browser for as long as it keeps the cookie, across logins and logouts, for telling
 * self-referrals (see SECURITY.md).
 */
export function signBrowserId(browserId: string, secret: string): string {
	return `${browserId}.${sign(browserId, secret, BROWSER_CONTEXT)}`;
}

/** The browser id inside a browser cookie's value whose signature is valid, otherwise `null`. */
export function verifyBrowserCookie(cookieValue: unknown, secrets: readonly string[]): string | null {
	return verifyVisitorCookie(cookieValue, secrets, BROWSER_CONTEXT);
}
