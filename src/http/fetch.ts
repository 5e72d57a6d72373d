import type { MaybeUserId, Outcome, RefkitRequest } from "../core/request.js";
import { absoluteLocation, pathAndQuery } from "./path.js";
import type { DashboardResponse, EdgeRequest, Visitor } from "./request.js";
import { MAX_FORM_BYTES, REDIRECT_CACHE_CONTROL, UNASKED } from "./request.js";

/**
 * The edge's request from a Web-standard `Request`, for the referral handler and the dashboard alike: `url`
 * is the path and query of `request.url`, as a Node.js request target reads.
 */
export function webRequest(
	request: Request,
	remoteAddress: string | undefined,
	visitor: Visitor = UNASKED,
): EdgeRequest {
	return {
		method: request.method,
		url: pathAndQuery(request.url),
		header: (name) => request.headers.get(name) ?? undefined,
		remoteAddress,
		getUserId: visitor.getUserId,
		...(visitor.hasConsent ? { hasConsent: visitor.hasConsent } : {}),
		form: () => webForm(request),
	};
}

/** The urlencoded form of a `Request`; rejects a body over 64 kB. */
async function webForm(request: Request): Promise<URLSearchParams> {
	const length = Number(request.headers.get("content-length") ?? 0);
	if (length > MAX_FORM_BYTES) throw new Error("form too large");
	const body = await request.text();
	if (body.length > MAX_FORM_BYTES) throw new Error("form too large");
	return new URLSearchParams(body);
}

/**
 * A {@link RefkitRequest} from a Web-standard `Request`: the building block of an adapter for another
 * fetch-based framework.
 *
 * @example
 * const outcome = await refkit.handle(fromWebRequest(request, clientAddress, () => sessionUser(request)));
 * return redirectResponse(outcome) ?? withCookies(await app(request), outcome.setCookies);
 */
export function fromWebRequest(
	request: Request,
	remoteAddress: string | undefined,
	getUserId: () => MaybeUserId | Promise<MaybeUserId>,
	hasConsent?: () => boolean | Promise<boolean>,
): RefkitRequest {
	return webRequest(request, remoteAddress, { getUserId, hasConsent });
}

/**
 * The redirect of an outcome as a `Response`, or `null` when the outcome lets the request through. Given the
 * request's URL, the `Location` is absolute on the request's own origin, as Next.js's middleware and proxy
 * insist (they refuse a relative one, then make a same-origin location relative again for the browser);
 * `refkitHandler` does so for a Next.js request with `next`. Without it, the path as it is.
 *
 * @example
 * const redirect = redirectResponse(await refkit.handle(fromWebRequest(request, undefined, () => null)), request.url);
 * if (redirect) return redirect;
 */
export function redirectResponse(outcome: Outcome, requestUrl?: string): Response | null {
	if (outcome.redirect === null) return null;
	const { status } = outcome.redirect;
	const location = absoluteLocation(outcome.redirect.location, requestUrl);
	// A plain record when it can hold every cookie: servers such as @hono/node-server then write it as it is,
	// without building and iterating a `Headers`. Two cookies need `append`, which a record cannot express.
	if (outcome.setCookies.length <= 1) {
		const cookie = outcome.setCookies[0];
		return new Response(null, {
			status,
			headers:
				cookie === undefined
					? { location, "cache-control": REDIRECT_CACHE_CONTROL }
					: { location, "cache-control": REDIRECT_CACHE_CONTROL, "set-cookie": cookie },
		});
	}
	const headers = new Headers({ location, "cache-control": REDIRECT_CACHE_CONTROL });
	for (const each of outcome.setCookies) headers.append("set-cookie", each);
	return new Response(null, { status, headers });
}

/**
 * `response` with `cookies` added; a response whose headers are immutable (from `fetch`) is copied first.
 *
 * @example
 * return withCookies(await fetch(upstream), outcome.setCookies);
 */
export function withCookies(response: Response, cookies: readonly string[]): Response {
	if (cookies.length === 0) return response;
	let target = response;
	try {
		for (const cookie of cookies) target.headers.append("set-cookie", cookie);
	} catch {
		target = new Response(response.body, response);
		for (const cookie of cookies) target.headers.append("set-cookie", cookie);
	}
	return target;
}

/** A body as a Web stream that pulls one CSV line at a time, so a large export never sits in memory. */
function webBody(body: string | AsyncIterable<string>): BodyInit {
	if (typeof body === "string") return body;
	const iterator = body[Symbol.asyncIterator]();
	const encoder = new TextEncoder();
	return new ReadableStream<Uint8Array>({
		async pull(controller) {
			const { value, done } = await iterator.next();
			if (done) controller.close();
			else controller.enqueue(encoder.encode(value));
		},
		async cancel() {
			await iterator.return?.();
		},
	});
}

/** A dashboard response as a Web-standard `Response`. */
export function toWebResponse(response: DashboardResponse): Response {
	const headers = new Headers();
	for (const [name, value] of Object.entries(response.headers)) {
		for (const one of Array.isArray(value) ? value : [value]) headers.append(name, one);
	}
	const empty = response.status === 303 || response.status === 405;
	return new Response(empty ? null : webBody(response.body), { status: response.status, headers });
}
