import { mayConcern } from "../core/handle.js";
import { fromWebDashboardRequest, toWebResponse } from "../dashboard/adapt.js";
import { createDashboard, type DashboardOptions, dashboardSettings } from "../dashboard/dashboard.js";
import type { Refkit } from "../refkit.js";
import { absoluteLocation, pathAndQuery } from "./path.js";
import {
	type ConsentCheck,
	type MaybeUserId,
	type Outcome,
	REDIRECT_CACHE_CONTROL,
	type RefkitRequest,
} from "./request.js";

/** Options of {@link refkitHandler}. */
export interface WebOptions {
	/** Who is logged in, read from the request (a session cookie, a header...). */
	getUserId: (request: Request) => MaybeUserId | Promise<MaybeUserId>;
	/** Whether the visitor consents to tracking (your consent banner's answer); default: not asked. */
	consent?: ConsentCheck<Request>;
}

/** What the runtime knows beyond the `Request` itself. Both fields are optional. */
export interface WebContext {
	/** The peer's IP address (Deno: `info.remoteAddr.hostname`; Bun: `server.requestIP(req)?.address`). */
	remoteAddress?: string | undefined;
	/**
	 * The rest of the application, for middleware use (Next.js: `() => NextResponse.next()`). When given, a
	 * request refkit lets through gets `next()`'s response, with refkit's cookies added; the handler never
	 * returns null.
	 */
	next?: () => Response | Promise<Response>;
}

/** A Web-standard handler: a `Response` when refkit answers, `null` when the request is not refkit's. */
export type WebHandler = (request: Request, context?: WebContext) => Promise<Response | null>;

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
	return {
		method: request.method,
		url: pathAndQuery(request.url),
		header: (name) => request.headers.get(name) ?? undefined,
		remoteAddress,
		getUserId,
		...(hasConsent ? { hasConsent } : {}),
	};
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

/**
 * refkit for any fetch-based runtime: Next.js route handlers and middleware, Bun, Deno, Cloudflare Workers,
 * or `node:http` through `@hono/node-server`. It serves `/ref/<identifier>`, redirects `?ref=` URLs and
 * claims a logged-in visitor's anonymous hits.
 *
 * Without `context.next`, a request refkit lets through gives `null`: carry on with your own handler. A
 * claim's cookie deletion then cannot reach the browser, so the (harmless, idempotent) claim is retried on
 * later requests; pass `next` to avoid that.
 *
 * Redirects carry a path as `Location`, except in Next.js's middleware or proxy (a request with `nextUrl`,
 * handled with `next`), which refuses a relative one: there it is absolute on the request's origin.
 *
 * @example
 * import { refkitHandler } from "refkit/web";
 * const handle = refkitHandler(refkit, { getUserId: (request) => sessionUser(request) });
 * Deno.serve(async (request, info) =>
 *   (await handle(request, { remoteAddress: info.remoteAddr.hostname })) ?? app(request));
 */
export function refkitHandler(refkit: Refkit, options: WebOptions): WebHandler {
	const { getUserId, consent } = options;
	return async (request, context = {}) => {
		if (
			!mayConcern(refkit.options, request.method, pathAndQuery(request.url), request.headers.get("cookie"))
		) {
			return context.next === undefined ? null : context.next();
		}
		const outcome = await refkit.handle(
			fromWebRequest(
				request,
				context.remoteAddress,
				() => getUserId(request),
				consent && (() => consent(request)),
			),
		);
		// Next.js's middleware and proxy refuse a relative Location (and make an absolute one on the request's
		// origin relative again). Elsewhere a path it stays: behind a proxy that ends TLS, `request.url` may say
		// http:, and an absolute Location built on it would send visitors from https to http.
		const redirect = redirectResponse(
			outcome,
			context.next !== undefined && "nextUrl" in request ? request.url : undefined,
		);
		if (redirect !== null) return redirect;
		if (context.next === undefined) return null;
		return withCookies(await context.next(), outcome.setCookies);
	};
}

/** Options of {@link dashboardHandler}: where it lives and who may use it (`authorize(request)`). */
export type WebDashboardOptions = DashboardOptions<Request>;

/**
 * The referral dashboard as a Web-standard handler: a `Response` for a request under `options.path`,
 * `null` for any other. It denies every request (403) unless `authorize(request)` says yes.
 *
 * @example
 * const dashboard = dashboardHandler(refkit, { path: "/admin/refkit", authorize: (request) => isAdmin(request) });
 * Bun.serve({ fetch: async (request) => (await dashboard(request)) ?? app(request) });
 */
export function dashboardHandler(
	refkit: Refkit,
	options: WebDashboardOptions,
): (request: Request) => Promise<Response | null> {
	const handle = createDashboard(refkit, dashboardSettings(options));
	const { authorize } = options;
	return async (request) => {
		const response = await handle(fromWebDashboardRequest(request), async () =>
			authorize ? authorize(request) : false,
		);
		return response === null ? null : toWebResponse(response);
	};
}
