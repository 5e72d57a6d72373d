/**
 * Open-redirect protection: decides whether a `next` value may be used as a redirect target.
 *
 * Only same-site paths pass: a single leading slash followed by anything a browser resolves against the
 * current origin. Everything a browser could resolve to another origin is refused:
 * scheme-relative `//host`, `/\host` and any backslash (browsers read `\` as `/`), schemes such as
 * `javascript:` or `https:`, whitespace and control characters (browsers strip some of them before
 * parsing), and percent-encoded forms of all of these.
 */

/** The longest `next` accepted, before and after normalisation: a `Location` header stays under ~2 KB. */
export const MAX_LENGTH = 2048;
const PROBE_ORIGIN = "http://refkit.invalid";
// C0 controls, space, DEL, and the backslash.
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point.
const FORBIDDEN = /[\u0000-\u0020\u007f\\]/;
// In a decoded path a space is ordinary, but controls (which browsers strip) and backslashes are not.
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point.
const DECODED_FORBIDDEN = /[\u0000-\u001f\u007f\\]/;

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
	// The location is normalised as a browser would, which resolves dot segments: "/.//host" and
	// "/a/..//host" become "//host". So it is the normalised location that is judged.
	const url = new URL(next, PROBE_ORIGIN);
	const location = url.pathname + url.search + url.hash;
	// Normalising percent-encodes what a browser would (é becomes %C3%A9): the Location stays bounded too.
	if (location.length > MAX_LENGTH || !isSafeForm(location)) return null;
	// A later hop (a router that normalises paths, a server that decodes and redirects again) may decode the
	// path, so judge "%2F%2F", "%252F%252F", "%5C", "%09", "/.%2F/" and friends by what they could become.
	// The query and fragment are left alone: encoded text there is ordinary ("?q=a%20b").
	let path = url.pathname;
	for (let round = 0; round < 3; round++) {
		let decoded: string;
		try {
			decoded = decodeURIComponent(path);
		} catch {
			return null;
		}
		if (decoded === path) break;
		if (DECODED_FORBIDDEN.test(decoded) || leavesSite(decoded)) return null;
		path = decoded;
	}
	return location;
}

/** Whether a decoded path, once a browser resolved its dot segments, would start with "//". */
function leavesSite(path: string): boolean {
	if (path[1] === "/") return true;
	try {
		return new URL(path.replace(/ /g, "%20"), PROBE_ORIGIN).pathname.startsWith("//");
	} catch {
		return true;
	}
}
