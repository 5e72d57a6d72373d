import { createHmac, randomUUID, timingSafeEqual } from "node:crypto";

/**
 * The visitor cookie's value is `<visitor id>.<signature>`: a random UUID and the base64url HMAC-SHA256 of
 * it under the application's secret. Only a value whose signature verifies is trusted, so a guessed or
 * copied visitor id claims nothing.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
// A UUID, a dot and a 43-character signature; anything much longer is refused before any hashing.
const MAX_COOKIE_LENGTH = 128;
const CONTEXT = "refkit.visitor.v1:";

function sign(visitorId: string, secret: string): string {
	return createHmac("sha256", secret)
		.update(CONTEXT + visitorId)
		.digest("base64url");
}

/** A new random visitor id. */
export function newVisitorId(): string {
	return randomUUID();
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
export function verifyVisitorCookie(cookieValue: unknown, secrets: readonly string[]): string | null {
	if (typeof cookieValue !== "string" || cookieValue.length > MAX_COOKIE_LENGTH) return null;
	const dot = cookieValue.indexOf(".");
	if (dot < 0) return null;
	const visitorId = cookieValue.slice(0, dot);
	if (!UUID.test(visitorId)) return null;
	const given = Buffer.from(cookieValue.slice(dot + 1), "utf8");
	let valid = false;
	for (const secret of secrets) {
		const expected = Buffer.from(sign(visitorId, secret), "utf8");
		if (given.length === expected.length && timingSafeEqual(given, expected)) valid = true;
	}
	return valid ? visitorId : null;
}
