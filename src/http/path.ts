/** The path and query of an absolute URL (a `Request`'s `url`), without parsing the rest of it. */
export function pathAndQuery(url: string): string {
	const scheme = url.indexOf("://");
	const slash = scheme < 0 ? -1 : url.indexOf("/", scheme + 3);
	if (slash >= 0) {
		const hash = url.indexOf("#", slash);
		const path = hash < 0 ? url.slice(slash) : url.slice(slash, hash);
		// An empty query is no query, as URL's `search` has it.
		return path.indexOf("?") === path.length - 1 ? path.slice(0, -1) : path;
	}
	const parsed = new URL(url);
	return parsed.pathname + parsed.search;
}

/**
 * `location` (a same-site path refkit made safe) on the origin of `requestUrl`; as it is without one. A path
 * always stays on the request's origin: refkit's locations never start with `//` or hold a scheme.
 */
export function absoluteLocation(location: string, requestUrl: string | undefined): string {
	if (requestUrl === undefined || !location.startsWith("/") || location.startsWith("//")) return location;
	const scheme = requestUrl.indexOf("://");
	const slash = scheme < 0 ? -1 : requestUrl.indexOf("/", scheme + 3);
	if (scheme < 0) return location;
	return (slash < 0 ? requestUrl : requestUrl.slice(0, slash)) + location;
}
