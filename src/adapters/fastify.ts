import { Readable } from "node:stream";
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import { readCookie } from "../core/cookies.js";
import type { MaybeUserId } from "../core/request.js";
import type { DashboardOptions } from "../dashboard/dashboard.js";
import { RefkitError } from "../errors.js";
import { isTls, nodeRequest, passportUserId } from "../http/node.js";
import { type ConsentCheck, REDIRECT_CACHE_CONTROL, type WebhookReceiver } from "../http/request.js";
import { receiveNodeWebhook } from "../http/webhook.js";
import type { ReferrerPageOptions } from "../referrer/options.js";
import type { Refkit } from "../refkit.js";
import { mountDashboard, mountReferrerPage, referralEdge } from "./edge.js";

/** Options of {@link refkitPlugin}. */
export interface FastifyOptions {
	refkit: Refkit;
	/** Who is logged in. Default: `request.user?.id` (@fastify/passport's convention). */
	getUserId?: (request: FastifyRequest) => MaybeUserId | Promise<MaybeUserId>;
	/** Whether the visitor consents to tracking (your consent banner's answer); default: not asked. */
	consent?: ConsentCheck<FastifyRequest>;
}

declare module "fastify" {
	interface FastifyInstance {
		/** The refkit instance the plugin was registered with. */
		refkit: Refkit;
	}
	interface FastifyRequest {
		/**
		 * Gives this request's anonymous hits (from the visitor cookie) to `userId`, e.g. right after signup.
		 * Resolves to how many hits were claimed.
		 */
		refkitClaim(userId: string): Promise<number>;
	}
}

const plugin: FastifyPluginAsync<FastifyOptions> = async (fastify: FastifyInstance, options) => {
	const { refkit } = options;
	const edge = referralEdge(refkit, options, passportUserId);
	fastify.decorate("refkit", refkit);
	fastify.decorateRequest("refkitClaim", function (this: FastifyRequest, userId: string) {
		return refkit.claim(readCookie(this.headers.cookie, refkit.options.cookieName), userId);
	});
	// One hook serves /ref/<identifier>, ?ref= and claims: core decides which, before routing.
	// A callback hook, so that a request refkit has nothing to do with goes on without a promise.
	fastify.addHook("onRequest", (request, reply, done) => {
		const url = request.raw.url ?? request.url;
		if (!edge.concerns(request.raw.method, url, request.headers.cookie)) return done();
		refkit.handle(nodeRequest(request.raw, url, edge.visitor(request))).then((outcome) => {
			for (const cookie of outcome.setCookies) reply.header("set-cookie", cookie);
			if (outcome.redirect === null) return done();
			reply
				.code(outcome.redirect.status)
				.header("location", outcome.redirect.location)
				.header("cache-control", REDIRECT_CACHE_CONTROL)
				.send();
		}, done);
	});
};

/**
 * refkit for Fastify 5, as a plugin: it serves `/ref/<identifier>`, redirects `?ref=` URLs, and claims a
 * visitor's anonymous hits when they are logged in. Register it after the plugin that sets the user.
 *
 * @example
 * import Fastify from "fastify";
 * import { createRefkit } from "refkit";
 * import { refkitPlugin } from "refkit/fastify";
 *
 * const refkit = createRefkit({ database: "./refkit.sqlite", secret: process.env.REFKIT_SECRET });
 * await refkit.migrate();
 * const app = Fastify();
 * await app.register(refkitPlugin, { refkit, getUserId: (request) => request.session.userId });
 */
export const refkitPlugin = fp(plugin, { name: "refkit", fastify: "5.x" });

/** Options of {@link refkitDashboardPlugin}. */
export interface FastifyDashboardOptions extends DashboardOptions<FastifyRequest> {
	refkit: Refkit;
}

const dashboardPlugin: FastifyPluginAsync<FastifyDashboardOptions> = async (fastify, options) => {
	const dashboard = mountDashboard(options.refkit, options);
	// Answered before routing and body parsing: the dashboard reads its own forms.
	fastify.addHook("onRequest", async (request, reply) => {
		const response = await dashboard(request, nodeRequest(request.raw, request.raw.url ?? request.url));
		if (response === null) return;
		reply.code(response.status).headers(response.headers);
		return reply.send(typeof response.body === "string" ? response.body : Readable.from(response.body));
	});
};

/**
 * The referral dashboard for Fastify 5, at `options.path`. It denies every request (403) unless
 * `authorize(request)` says yes. Register it after the plugin that sets the user.
 *
 * @example
 * await app.register(refkitDashboardPlugin, {
 *   refkit,
 *   path: "/admin/refkit",
 *   authorize: (request) => request.user?.role === "admin",
 * });
 */
export const refkitDashboardPlugin = fp(dashboardPlugin, { name: "refkit-dashboard", fastify: "5.x" });

/** Options of {@link refkitReferrerPagePlugin}. */
export interface FastifyReferrerPageOptions extends ReferrerPageOptions<FastifyRequest> {
	refkit: Refkit;
}

const referrerPagePlugin: FastifyPluginAsync<FastifyReferrerPageOptions> = async (fastify, options) => {
	const page = mountReferrerPage(options.refkit, options, passportUserId);
	// Answered before routing: the page is one path, whatever the application's routes.
	fastify.addHook("onRequest", async (request, reply) => {
		const response = await page(
			request,
			nodeRequest(request.raw, request.raw.url ?? request.url),
			isTls(request.raw),
		);
		if (response === null) return;
		reply.code(response.status).headers(response.headers);
		return reply.send(response.body);
	});
};

/**
 * The logged-in user's referral page for Fastify 5, at `options.path`: their link to copy, share and scan,
 * their clicks, conversions, earnings and payouts, and the program's terms; the same as JSON for a request
 * that asks for it. It shows the user `getUserId(request)` names (default `request.user?.id`), and nobody
 * else. Register it after the plugin that sets the user.
 *
 * @example
 * await app.register(refkitReferrerPagePlugin, { refkit, path: "/account/referrals", loginUrl: "/login" });
 */
export const refkitReferrerPagePlugin = fp(referrerPagePlugin, {
	name: "refkit-referrer-page",
	fastify: "5.x",
});

/** Options of {@link refkitWebhookPlugin}. */
export interface FastifyWebhookOptions {
	/** What receives the deliveries: `stripeWebhooks()` of `refkit/stripe`. */
	receiver: WebhookReceiver;
	/** Where: `"/webhooks/stripe"`. */
	path: string;
}

const webhookPlugin: FastifyPluginAsync<FastifyWebhookOptions> = async (fastify, options) => {
	const { receiver, path } = options;
	if (typeof path !== "string" || !path.startsWith("/")) {
		throw new RefkitError(
			"INVALID_OPTION",
			'refkit: refkitWebhookPlugin needs a path such as "/webhooks/stripe".',
		);
	}
	// Answered before routing and body parsing: the signature is over the raw body.
	fastify.addHook("onRequest", async (request, reply) => {
		// The request target as sent: a path and its query.
		if ((request.raw.url ?? request.url).split("?")[0] !== path) return;
		const response = await receiveNodeWebhook(receiver, request.raw, undefined);
		reply.code(response.status).headers(response.headers);
		return reply.send(response.body);
	});
};

/**
 * A billing system's webhook endpoint for Fastify 5 (`stripeWebhooks()` of `refkit/stripe`), at
 * `options.path`. It reads the raw body itself, before Fastify parses it.
 *
 * @example
 * import { refkitWebhookPlugin } from "refkit/fastify";
 * import { stripeWebhooks } from "refkit/stripe";
 *
 * await app.register(refkitWebhookPlugin, {
 *   path: "/webhooks/stripe",
 *   receiver: stripeWebhooks(refkit, { secret, userId }),
 * });
 */
export const refkitWebhookPlugin = fp(webhookPlugin, { name: "refkit-webhook", fastify: "5.x" });
