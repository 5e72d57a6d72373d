/**
 * Open-redirect protection: decides whether a `next` value may be used as a redirect target.
 *
 * Only same-site paths pass: a single leading slash followed by anything a browser resolves against the
 * current origin. Everything a browser could resolve to another origin is refused:
 * scheme-relative `//host`, `/\host` and any backslash (browsers read `\` as `/`), schemes such as
 * `javascript:` or `https:`, whitespace and control characters (browsers strip some of them before
 * parsing), and percent-encoded forms of all of these.
 */

const MAX_LENGTH = 2048;
const PROBE_ORIGIN = "http://refkit.invalid";
// C0 controls, space, DEL, and the backslash.
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point.
const FORBIDDEN = /[\u0000-\u0020\u007f\\]/;

function isSafeForm(path: string): boolean {
	if (path.length === 0 || path[0] !== "/" || path[1] === "/") return false;
	if (FORBIDDEN.test(path)) return false;
	// The same parser a browser uses must agree that the path stays on the current origin.
	try {
		return new URL(path, PROBE_ORIGIN).origin === PROBE_ORIGIN;
	} catch {
		return false;
	}
}

/**
 * Returns the redirect location for `next` if it is a safe same-site path, otherwise `null`.
 *
 * The value returned is normalised the way a browser would send it (non-ASCII characters percent-encoded),
 * so it is always a valid `Location` header.
 *
 * @example
 * safeRedirectPath("/pricing?plan=pro") // "/pricing?plan=pro"
 * safeRedirectPath("//evil.example")    // null
 * safeRedirectPath("/%2F%2Fevil.example") // null
 */
export function safeRedirectPath(next: unknown): string | null {
	if (typeof next !== "string" || next.length > MAX_LENGTH || !isSafeForm(next)) return null;
	// Decode repeatedly so that "%2F%2F", "%252F%252F" and friends are judged by what they could become.
	let decoded = next;
	for (let round = 0; round < 3; round++) {
		let once: string;
		try {
			once = decodeURIComponent(decoded);
		} catch {
			return null;
		}
		if (once === decoded) break;
		if (!isSafeForm(once)) return null;
		decoded = once;
	}
	const url = new URL(next, PROBE_ORIGIN);
	return url.pathname + url.search + url.hash;
}
