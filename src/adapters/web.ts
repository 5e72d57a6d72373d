import type { MaybeUserId } from "../core/request.js";
import type { DashboardOptions } from "../dashboard/dashboard.js";
import { redirectResponse, toWebResponse, webRequest, withCookies } from "../http/fetch.js";
import { pathAndQuery } from "../http/path.js";
import type { ConsentCheck, WebhookReceiver } from "../http/request.js";
import { receiveWebWebhook } from "../http/webhook.js";
import type { ReferrerPageOptions } from "../referrer/options.js";
import type { Refkit } from "../refkit.js";
import { mountDashboard, mountReferrerPage, referralEdge } from "./edge.js";

export { fromWebRequest, redirectResponse, withCookies } from "../http/fetch.js";

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
	const edge = referralEdge(refkit, options);
	return async (request, context = {}) => {
		if (!edge.concerns(request.method, pathAndQuery(request.url), request.headers.get("cookie"))) {
			return context.next === undefined ? null : context.next();
		}
		const outcome = await refkit.handle(webRequest(request, context.remoteAddress, edge.visitor(request)));
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
	const dashboard = mountDashboard(refkit, options);
	return async (request) => {
		const response = await dashboard(request, webRequest(request, undefined));
		return response === null ? null : toWebResponse(response);
	};
}

/** Options of {@link referrerPageHandler}: as every adapter's, with `getUserId(request)` required. */
export interface WebReferrerPageOptions extends ReferrerPageOptions<Request> {
	/** Who is logged in, read from the request (a session cookie, a header...). */
	getUserId: (request: Request) => MaybeUserId | Promise<MaybeUserId>;
}

/**
 * The logged-in user's referral page as a Web-standard handler: a `Response` for a request to
 * `options.path`, `null` for any other. It shows their link to copy, share and scan, their clicks,
 * conversions, earnings and payouts, and the program's terms, or the same as JSON for a request that asks for
 * it; about the user `getUserId(request)` names, and nobody else.
 *
 * @example
 * const referrals = referrerPageHandler(refkit, { path: "/account/referrals", getUserId: (request) => sessionUser(request) });
 * Bun.serve({ fetch: async (request) => (await referrals(request)) ?? app(request) });
 */
export function referrerPageHandler(
	refkit: Refkit,
	options: WebReferrerPageOptions,
): (request: Request) => Promise<Response | null> {
	const page = mountReferrerPage(refkit, options);
	return async (request) => {
		const response = await page(request, webRequest(request, undefined), request.url.startsWith("https:"));
		return response === null ? null : toWebResponse(response);
	};
}

/**
 * A billing system's webhook endpoint as a Web-standard handler (`stripeWebhooks()` of `refkit/stripe`): for
 * a Next.js route handler, Bun, Deno or Workers. It reads the raw body (a signature is over its bytes).
 *
 * @example
 * // app/webhooks/stripe/route.ts
 * import { webhookHandler } from "refkit/web";
 * import { stripeWebhooks } from "refkit/stripe";
 *
 * export const POST = webhookHandler(stripeWebhooks(refkit, { secret, userId }));
 */
export function webhookHandler(receiver: WebhookReceiver): (request: Request) => Promise<Response> {
	return (request) => receiveWebWebhook(receiver, request);
}
