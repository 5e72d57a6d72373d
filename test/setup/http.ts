import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createAdaptorServer, type Http2Bindings, type HttpBindings } from "@hono/node-server";
import express from "express";
import Fastify from "fastify";
import { Hono } from "hono";
import { afterAll } from "vitest";
import {
	refkitDashboard as expressDashboard,
	refkitMiddleware as expressMiddleware,
	webhookEndpoint as expressWebhook,
} from "../../src/adapters/express.js";
import { refkitDashboardPlugin, refkitPlugin, refkitWebhookPlugin } from "../../src/adapters/fastify.js";
import {
	refkitDashboard as honoDashboard,
	refkitMiddleware as honoMiddleware,
	webhookEndpoint as honoWebhook,
} from "../../src/adapters/hono.js";
import { dashboardHandler, refkitHandler, webhookHandler } from "../../src/adapters/web.js";
import type { WebhookReceiver } from "../../src/http/request.js";
import type { Refkit } from "../../src/index.js";

/** Every adapter; the HTTP behaviour suite runs through each. */
export const ADAPTERS = ["express", "fastify", "hono", "web"] as const;
export type AdapterName = (typeof ADAPTERS)[number];

/** The header tests use to say who is logged in; the test apps read it in getUserId. */
export const USER_HEADER = "x-test-user";

/** Where the test apps mount the dashboard; the user named `admin` is authorized. */
export const DASHBOARD_PATH = "/admin/refkit";
export const ADMIN = "admin";

/** Where the test apps mount a webhook receiver, when they are given one. */
export const WEBHOOK_PATH = "/webhooks/stripe";

/** The header tests use to refuse consent: `x-test-consent: no`; the test apps read it in `consent`. */
export const CONSENT_HEADER = "x-test-consent";

const closers: (() => Promise<unknown>)[] = [];
afterAll(async () => {
	await Promise.all(closers.splice(0).map((close) => close()));
});

/**
 * Listens on a free port until the test file ends; the base URL on 127.0.0.1. On every address by default,
 * or on `host` alone.
 */
export async function listen(server: Server, host?: string): Promise<string> {
	// closeAllConnections: a response body a test did not read keeps its connection busy, and close() alone
	// would wait for it.
	closers.push(
		() =>
			new Promise((resolve) => {
				server.close(resolve);
				server.closeAllConnections();
			}),
	);
	// Listening on every address makes IPv4 clients appear as ::ffff:127.0.0.1, which refkit must normalise.
	await new Promise<void>((resolve) => (host ? server.listen(0, host, resolve) : server.listen(0, resolve)));
	return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** The application's own pages, as plain Web responses: `/` and `/foo` answer 200, everything else 404. */
function pages(request: Request): Response {
	const { pathname } = new URL(request.url);
	if (request.method === "GET" && pathname === "/") return new Response("home");
	if (request.method === "GET" && pathname === "/foo") return new Response("foo");
	if (request.method === "POST" && pathname === "/foo") return new Response("posted");
	return new Response("not found", { status: 404 });
}

/**
 * An application on `adapter` with refkit installed as the README says, on a real HTTP server. `/` and
 * `/foo` answer 200 (and POST `/foo`); every other path is the framework's own 404. The dashboard is at
 * {@link DASHBOARD_PATH}, for the user {@link ADMIN}. Returns the base URL.
 */
export async function startApp(
	adapter: AdapterName,
	refkit: Refkit,
	receiver?: WebhookReceiver,
): Promise<string> {
	switch (adapter) {
		case "express": {
			const app = express();
			// Before the body parsers, as the docs say: it reads the raw body.
			if (receiver) app.post(WEBHOOK_PATH, expressWebhook(receiver));
			app.use(express.json());
			app.use(
				expressMiddleware(refkit, {
					getUserId: (req) => req.get(USER_HEADER) ?? null,
					consent: (req) => req.get(CONSENT_HEADER) !== "no",
				}),
			);
			app.use(
				expressDashboard(refkit, {
					path: DASHBOARD_PATH,
					authorize: (req) => req.get(USER_HEADER) === ADMIN,
				}),
			);
			app.get("/", (_req, res) => void res.send("home"));
			app.get("/foo", (_req, res) => void res.send("foo"));
			app.post("/foo", (_req, res) => void res.send("posted"));
			return listen(createServer(app));
		}
		case "fastify": {
			const app = Fastify();
			await app.register(refkitPlugin, {
				refkit,
				getUserId: (request) => request.headers[USER_HEADER] as string,
				consent: (request) => request.headers[CONSENT_HEADER] !== "no",
			});
			await app.register(refkitDashboardPlugin, {
				refkit,
				path: DASHBOARD_PATH,
				authorize: (request) => request.headers[USER_HEADER] === ADMIN,
			});
			if (receiver) await app.register(refkitWebhookPlugin, { receiver, path: WEBHOOK_PATH });
			app.get("/", async () => "home");
			app.get("/foo", async () => "foo");
			app.post("/foo", async () => "posted");
			await app.ready();
			return listen(app.server);
		}
		case "hono": {
			const app = new Hono<{ Bindings: HttpBindings }>();
			app.use(
				honoMiddleware(refkit, {
					getUserId: (c) => c.req.header(USER_HEADER),
					consent: (c) => c.req.header(CONSENT_HEADER) !== "no",
				}),
			);
			app.use(
				honoDashboard(refkit, {
					path: DASHBOARD_PATH,
					authorize: (c) => c.req.header(USER_HEADER) === ADMIN,
				}),
			);
			if (receiver) app.post(WEBHOOK_PATH, honoWebhook(receiver));
			app.get("/", (c) => c.text("home"));
			// A handler that returns a Response of its own, as many do.
			app.get("/foo", () => new Response("foo"));
			app.post("/foo", (c) => c.text("posted"));
			return listen(createAdaptorServer({ fetch: app.fetch }) as Server);
		}
		case "web": {
			const handle = refkitHandler(refkit, {
				getUserId: (request) => request.headers.get(USER_HEADER),
				consent: (request) => request.headers.get(CONSENT_HEADER) !== "no",
			});
			const dashboard = dashboardHandler(refkit, {
				path: DASHBOARD_PATH,
				authorize: (request) => request.headers.get(USER_HEADER) === ADMIN,
			});
			const webhook = receiver ? webhookHandler(receiver) : null;
			const fetch = async (request: Request, env: HttpBindings | Http2Bindings) =>
				(webhook && new URL(request.url).pathname === WEBHOOK_PATH ? await webhook(request) : null) ??
				(await dashboard(request)) ??
				(await handle(request, {
					remoteAddress: env.incoming.socket.remoteAddress,
					next: () => pages(request),
				})) ??
				pages(request);
			return listen(createAdaptorServer({ fetch }) as Server);
		}
	}
}

/** A cookie from the response's Set-Cookie headers: its value and attributes, or undefined. */
export function responseCookie(
	response: Response,
	name: string,
): { value: string; attributes: string } | undefined {
	for (const header of response.headers.getSetCookie()) {
		const [pair = "", ...attributes] = header.split(";");
		const eq = pair.indexOf("=");
		if (pair.slice(0, eq).trim() === name) {
			return { value: pair.slice(eq + 1), attributes: attributes.join(";").trim() };
		}
	}
	return undefined;
}

/** Whether the response deletes cookie `name`. */
export function deletesCookie(response: Response, name: string): boolean {
	const cookie = responseCookie(response, name);
	return cookie !== undefined && cookie.value === "" && /Max-Age=0/i.test(cookie.attributes);
}

/** A desktop browser's User-Agent: test requests are people unless a test says otherwise. */
export const BROWSER_AGENT =
	"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

/**
 * The response's `Location` as a path when it is on the origin the request went to (in Next.js's middleware
 * the Web handler writes absolute locations; elsewhere every adapter writes paths), any other location as it is.
 */
export function location(response: Response): string | null {
	const value = response.headers.get("location");
	if (value === null || !/^https?:\/\//.test(value)) return value;
	const { origin } = new URL(response.url);
	return value.startsWith(`${origin}/`) ? value.slice(origin.length) : value;
}

/** GET (or another method) without following redirects, as a browser (see {@link BROWSER_AGENT}). */
export function request(
	url: string,
	init: { method?: string; user?: string; cookie?: string; headers?: Record<string, string> } = {},
): Promise<Response> {
	const headers: Record<string, string> = { "user-agent": BROWSER_AGENT, ...init.headers };
	if (init.user) headers[USER_HEADER] = init.user;
	if (init.cookie) headers.cookie = init.cookie;
	return fetch(url, { method: init.method ?? "GET", headers, redirect: "manual" });
}
