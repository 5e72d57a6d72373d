/** The attributes refkit sets on its visitor cookie. */
export interface CookieAttributes {
	httpOnly: boolean;
	/** Lifetime in seconds. */
	maxAge: number;
	sameSite: "lax" | "strict" | "none";
	secure: boolean;
	path: string;
	domain: string | undefined;
}

/** RFC 6265 token characters: what a cookie name may be made of. */
export const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,64}$/;

/**
 * The value of cookie `name` in a `Cookie` header, or `undefined`. With several cookies of that name
 * (possible with different paths), the first one wins, as browsers send the most specific first.
 */
export function readCookie(header: string | undefined, name: string): string | undefined {
	if (!header) return undefined;
	for (const pair of header.split(";")) {
		const eq = pair.indexOf("=");
		if (eq < 0 || pair.slice(0, eq).trim() !== name) continue;
		let value = pair.slice(eq + 1).trim();
		if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
		return value;
	}
	return undefined;
}

function attributes(attrs: CookieAttributes): string {
	let out = `; Path=${attrs.path}`;
	if (attrs.domain) out += `; Domain=${attrs.domain}`;
	if (attrs.httpOnly) out += "; HttpOnly";
	if (attrs.secure) out += "; Secure";
	return `${out}; SameSite=${attrs.sameSite[0]?.toUpperCase()}${attrs.sameSite.slice(1)}`;
}

/** A `Set-Cookie` value that stores `value` (which must be made of cookie-safe characters). */
export function serializeCookie(name: string, value: string, attrs: CookieAttributes): string {
	return `${name}=${value}; Max-Age=${attrs.maxAge}${attributes(attrs)}`;
}

/** A `Set-Cookie` value that deletes the cookie. */
export function serializeCookieDeletion(name: string, attrs: CookieAttributes): string {
	return `${name}=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT${attributes(attrs)}`;
}
