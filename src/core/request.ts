/** A user id as the application knows it, or nothing when the visitor is anonymous. */
export type MaybeUserId = string | number | null | undefined;

/**
 * What refkit needs to know about an HTTP request, in a framework-free shape. Adapters build one of these
 * from their framework's request; core never sees the framework.
 */
export interface RefkitRequest {
	/** The HTTP method, upper case. */
	method: string;
	/** The request target: the path and query string as received, e.g. `/ref/abc?next=%2Fpricing`. */
	url: string;
	/** Reads one header by its lower-case name. */
	header(name: string): string | undefined;
	/** The address of the peer that opened the connection (the socket's remote address). */
	remoteAddress: string | undefined;
	/**
	 * Asks the application who is logged in. Core calls it only when it needs to know (on `/ref/...` and
	 * when a visitor cookie is present), so requests that do not concern refkit pay nothing for it.
	 */
	getUserId(): MaybeUserId | Promise<MaybeUserId>;
	/**
	 * Whether the visitor agreed to be tracked. When it says no, a followed link still redirects, but no hit
	 * and no cookie are stored (an existing visitor cookie is deleted). Absent: consent is not asked.
	 */
	hasConsent?(): boolean | Promise<boolean>;
}

/** A redirect refkit wants the adapter to send, with `Cache-Control: private, no-store`. */
export interface Redirect {
	status: 302;
	/** A same-site path, already safe and header-valid. */
	location: string;
}

/**
 * What core decided about a request. Adapters append each of `setCookies` as a `Set-Cookie` header, then
 * either send `redirect` (with `Cache-Control: private, no-store`) or, when it is `null`, hand the request
 * on to the application.
 */
export interface Outcome {
	redirect: Redirect | null;
	setCookies: string[];
}
