import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

/** The cookie that holds the random half of the dashboard's CSRF token. */
export const CSRF_COOKIE = "refkit_csrf";

/** A new random cookie value. */
export function newCsrfSecret(): string {
	return randomBytes(18).toString("base64url");
}

/** Whether a cookie value is one refkit could have made. */
export function isCsrfSecret(value: string | undefined): value is string {
	return value !== undefined && /^[A-Za-z0-9_-]{24}$/.test(value);
}

/** The token forms carry: the cookie's value signed with the application's secret. */
export function csrfToken(cookieValue: string, secret: string): string {
	return createHmac("sha256", secret).update(`refkit-csrf:${cookieValue}`).digest("base64url");
}

/**
 * Signed double submit: a POST is accepted only when its form token is the signature of its own cookie. A
 * forged cross-site form cannot read the cookie, and cannot make a token without the secret.
 */
export function verifyCsrf(cookieValue: string | undefined, token: string | null, secret: string): boolean {
	if (!isCsrfSecret(cookieValue) || token === null) return false;
	const expected = Buffer.from(csrfToken(cookieValue, secret));
	const given = Buffer.from(token);
	return given.length === expected.length && timingSafeEqual(given, expected);
}
