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
