import type { Request, RequestHandler } from "express";
import type { MaybeUserId } from "../core/request.js";
import type { DashboardOptions } from "../dashboard/dashboard.js";
import { isTls, nodeRequest, passportUserId, sendNodeResponse, sendRedirect } from "../http/node.js";
import type { ConsentCheck, WebhookReceiver } from "../http/request.js";
import { receiveNodeWebhook } from "../http/webhook.js";
import type { ReferrerPageOptions } from "../referrer/options.js";
import type { Refkit } from "../refkit.js";
import { mountDashboard, mountReferrerPage, referralEdge } from "./edge.js";

/** Options of {@link refkitMiddleware}. */
export interface ExpressOptions {
	/**
	 * Who is logged in. Default: `req.user?.id` (Passport and most auth middleware). It must run after the
	 * middleware that sets the user, so install refkit after your session/auth middleware.
	 */
	getUserId?: (req: Request) => MaybeUserId | Promise<MaybeUserId>;
	/** Whether the visitor consents to tracking (your consent banner's answer); default: not asked. */
	consent?: ConsentCheck<Request>;
}

/**
 * refkit for Express 4 and 5, in one middleware: it serves `/ref/<identifier>`, redirects `?ref=` URLs, and
 * claims a visitor's anonymous hits when they are logged in.
 *
 * @example
 * import express from "express";
 * import { createRefkit } from "refkit";
 * import { refkitMiddleware } from "refkit/express";
 *
 * const refkit = createRefkit({ database: "./refkit.sqlite", secret: process.env.REFKIT_SECRET });
 * await refkit.migrate();
 * const app = express();
 * app.use(session(...)); // whatever sets req.user
 * app.use(refkitMiddleware(refkit, { getUserId: (req) => req.user?.id }));
 */
export function refkitMiddleware(refkit: Refkit, options: ExpressOptions = {}): RequestHandler {
	const edge = referralEdge(refkit, options, passportUserId);
	const handle: RequestHandler = async (req, res, next) => {
		const outcome = await refkit.handle(nodeRequest(req, req.originalUrl, edge.visitor(req)));
		for (const cookie of outcome.setCookies) res.append("Set-Cookie", cookie);
		if (outcome.redirect === null) return next();
		sendRedirect(res, outcome.redirect);
	};
	// Not async: a request refkit has nothing to do with goes on without a promise.
	return (req, res, next) => {
		if (!edge.concerns(req.method, req.originalUrl, req.headers.cookie)) return next();
		return handle(req, res, next);
	};
}

/** Options of {@link refkitDashboard}: where it lives and who may use it. */
export type ExpressDashboardOptions = DashboardOptions<Request>;

/**
 * The referral dashboard for Express: overview, links, hits and conversions, server-rendered, at
 * `options.path`. It denies every request (403) unless `authorize(req)` says yes. Install it after the
 * middleware that sets the user; it reads forms itself, or uses `req.body` if a body parser ran first.
 *
 * @example
 * app.use(refkitDashboard(refkit, { path: "/admin/refkit", authorize: (req) => req.user?.role === "admin" }));
 */
export function refkitDashboard(refkit: Refkit, options: ExpressDashboardOptions): RequestHandler {
	const dashboard = mountDashboard(refkit, options);
	return async (req, res, next) => {
		try {
			const response = await dashboard(req, nodeRequest(req, req.originalUrl, undefined, req.body));
			if (response === null) return next();
			await sendNodeResponse(res, response);
		} catch (error) {
			next(error);
		}
	};
}

/** Options of {@link refkitReferrerPage}: where it lives, who is logged in, and how it looks and reads. */
export type ExpressReferrerPageOptions = ReferrerPageOptions<Request>;

/**
 * The logged-in user's referral page for Express, at `options.path`: their link to copy, share and scan,
 * their clicks, conversions, earnings and payouts, and the program's terms; the same as JSON for a request
 * that asks for it (`Accept: application/json`). It shows the user `getUserId(req)` names (default
 * `req.user?.id`), and nobody else. Install it after the middleware that sets the user.
 *
 * @example
 * import { refkitReferrerPage } from "refkit/express";
 *
 * app.use(refkitReferrerPage(refkit, { path: "/account/referrals", loginUrl: "/login" }));
 */
export function refkitReferrerPage(refkit: Refkit, options: ExpressReferrerPageOptions): RequestHandler {
	const page = mountReferrerPage(refkit, options, passportUserId);
	return async (req, res, next) => {
		try {
			const response = await page(req, nodeRequest(req, req.originalUrl), isTls(req));
			if (response === null) return next();
			await sendNodeResponse(res, response);
		} catch (error) {
			next(error);
		}
	};
}

/**
 * A billing system's webhook endpoint for Express (`stripeWebhooks()` of `refkit/stripe`), at the path you
 * mount it on. It reads the raw body itself (a signature is over its bytes): mount it before `express.json()`,
 * or after `express.raw({ type: "application/json" })`.
 *
 * @example
 * import { webhookEndpoint } from "refkit/express";
 * import { stripeWebhooks } from "refkit/stripe";
 *
 * app.post("/webhooks/stripe", webhookEndpoint(stripeWebhooks(refkit, { secret, userId })));
 */
export function webhookEndpoint(receiver: WebhookReceiver): RequestHandler {
	return (req, res, next) => {
		receiveNodeWebhook(receiver, req, req.body)
			.then((response) => sendNodeResponse(res, response))
			.catch(next);
	};
}
