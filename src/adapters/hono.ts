import type { IncomingMessage } from "node:http";
import type { Context, Handler, MiddlewareHandler } from "hono";
import type { MaybeUserId } from "../core/request.js";
import type { DashboardOptions } from "../dashboard/dashboard.js";
import { redirectResponse, toWebResponse, webRequest, withCookies } from "../http/fetch.js";
import { pathAndQuery } from "../http/path.js";
import type { ConsentCheck, WebhookReceiver } from "../http/request.js";
import { receiveWebWebhook } from "../http/webhook.js";
import type { ReferrerPageOptions } from "../referrer/options.js";
import type { Refkit } from "../refkit.js";
import { mountDashboard, mountReferrerPage, type ReferralEdge, referralEdge } from "./edge.js";

/** Options of {@link refkitMiddleware}. */
export interface HonoOptions {
	/** Who is logged in, from the context (e.g. `c.get("user")?.id` set by your auth middleware). */
	getUserId: (c: Context) => MaybeUserId | Promise<MaybeUserId>;
	/**
	 * The peer's IP address. Default: the socket's address on `@hono/node-server`; on other runtimes pass
	 * Hono's `getConnInfo(c).remote.address`.
	 */
	getRemoteAddress?: (c: Context) => string | undefined;
	/** Whether the visitor consents to tracking (your consent banner's answer); default: not asked. */
	consent?: ConsentCheck<Context>;
}

/** The Node.js request under @hono/node-server, if that is where Hono runs. */
function nodeIncoming(c: Context): IncomingMessage | undefined {
	return (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
}

function nodeServerAddress(c: Context): string | undefined {
	return nodeIncoming(c)?.socket?.remoteAddress;
}

/**
 * Whether refkit may have anything to do with the request. Under @hono/node-server it reads the Node.js
 * request, so that a request refkit lets through never makes the server build a `Headers` object.
 */
function concerns(edge: ReferralEdge<Context>, c: Context): boolean {
	const incoming = nodeIncoming(c);
	if (incoming?.url !== undefined)
		return edge.concerns(incoming.method, incoming.url, incoming.headers.cookie);
	return edge.concerns(c.req.method, pathAndQuery(c.req.url), c.req.header("cookie"));
}

/**
 * refkit for Hono, as one middleware: it serves `/ref/<identifier>`, redirects `?ref=` URLs, and claims a
 * visitor's anonymous hits when they are logged in. Install it after the middleware that sets the user.
 *
 * @example
 * import { Hono } from "hono";
 * import { createRefkit } from "refkit";
 * import { refkitMiddleware } from "refkit/hono";
 *
 * const refkit = createRefkit({ database: "./refkit.sqlite", secret: process.env.REFKIT_SECRET });
 * await refkit.migrate();
 * const app = new Hono();
 * app.use(refkitMiddleware(refkit, { getUserId: (c) => c.get("userId") }));
 */
export function refkitMiddleware(refkit: Refkit, options: HonoOptions): MiddlewareHandler {
	const edge = referralEdge(refkit, options);
	const getRemoteAddress = options.getRemoteAddress ?? nodeServerAddress;
	return async (c, next) => {
		if (!concerns(edge, c)) return next();
		const outcome = await refkit.handle(webRequest(c.req.raw, getRemoteAddress(c), edge.visitor(c)));
		const redirect = redirectResponse(outcome);
		if (redirect !== null) return redirect;
		await next();
		const response = withCookies(c.res, outcome.setCookies);
		if (response !== c.res) {
			// A copy (the original's headers were immutable): clear first, or Hono merges the old headers back.
			c.res = undefined;
			c.res = response;
		}
	};
}

/** Options of {@link refkitDashboard}: where it lives and who may use it (`authorize(c)`). */
export type HonoDashboardOptions = DashboardOptions<Context>;

/**
 * The referral dashboard for Hono, as a middleware that answers under `options.path`. It denies every
 * request (403) unless `authorize(c)` says yes.
 *
 * @example
 * app.use(refkitDashboard(refkit, { path: "/admin/refkit", authorize: (c) => c.get("user")?.isAdmin === true }));
 */
export function refkitDashboard(refkit: Refkit, options: HonoDashboardOptions): MiddlewareHandler {
	const dashboard = mountDashboard(refkit, options);
	return async (c, next) => {
		const response = await dashboard(c, webRequest(c.req.raw, undefined));
		if (response === null) return next();
		return toWebResponse(response);
	};
}

/** Options of {@link refkitReferrerPage}: as every adapter's, with `getUserId(c)` required. */
export interface HonoReferrerPageOptions extends ReferrerPageOptions<Context> {
	/** Who is logged in, from the context (e.g. `c.get("user")?.id` set by your auth middleware). */
	getUserId: (c: Context) => MaybeUserId | Promise<MaybeUserId>;
}

/**
 * The logged-in user's referral page for Hono, as a middleware that answers at `options.path`: their link to
 * copy, share and scan, their clicks, conversions, earnings and payouts, and the program's terms; the same
 * as JSON for a request that asks for it. It shows the user `getUserId(c)` names, and nobody else.
 *
 * @example
 * app.use(refkitReferrerPage(refkit, { path: "/account/referrals", getUserId: (c) => c.get("userId") }));
 */
export function refkitReferrerPage(refkit: Refkit, options: HonoReferrerPageOptions): MiddlewareHandler {
	const page = mountReferrerPage(refkit, options);
	return async (c, next) => {
		const response = await page(c, webRequest(c.req.raw, undefined), c.req.url.startsWith("https:"));
		if (response === null) return next();
		return toWebResponse(response);
	};
}

/**
 * A billing system's webhook endpoint for Hono (`stripeWebhooks()` of `refkit/stripe`), at the route you give
 * it. It reads the raw body (a signature is over its bytes).
 *
 * @example
 * import { webhookEndpoint } from "refkit/hono";
 * import { stripeWebhooks } from "refkit/stripe";
 *
 * app.post("/webhooks/stripe", webhookEndpoint(stripeWebhooks(refkit, { secret, userId })));
 */
export function webhookEndpoint(receiver: WebhookReceiver): Handler {
	// A middleware that read the body leaves Hono's copy of it: the signature is checked over that.
	return (c) =>
		receiveWebWebhook(
			receiver,
			c.req.raw,
			c.req.raw.bodyUsed ? async () => new Uint8Array(await c.req.arrayBuffer()) : undefined,
		);
}
