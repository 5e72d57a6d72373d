import { createServer, type Server } from "node:http";
import { createAdaptorServer, type HttpBindings } from "@hono/node-server";
import express from "express";
import Fastify from "fastify";
import { Hono } from "hono";
import { refkitReferrerPage as expressReferrerPage } from "../../src/adapters/express.js";
import { refkitReferrerPagePlugin } from "../../src/adapters/fastify.js";
import { refkitReferrerPage as honoReferrerPage } from "../../src/adapters/hono.js";
import { referrerPageHandler } from "../../src/adapters/web.js";
import type { MaybeUserId, ReferrerPageOptions, Refkit } from "../../src/index.js";
import type { AdapterName } from "./http.js";
import { listen as listenOn, USER_HEADER } from "./http.js";

/** Where the test apps mount the referrer page. */
export const REFERRER_PATH = "/account/referrals";

/** The page's options in a test: any of the page's, and `getUserId` given the test's user header. */
export type ReferrerTestOptions = Omit<ReferrerPageOptions<never>, "path" | "getUserId"> & {
	path?: string;
	/** Who is logged in, from the `x-test-user` header; default the header itself. */
	getUserId?: (user: string | undefined) => MaybeUserId | Promise<MaybeUserId>;
	/**
	 * Express and Fastify only: give no `getUserId`, and set `req.user` from the header instead, as Passport
	 * does, so that the adapter's default is what reads it.
	 */
	passport?: boolean;
};

/** The page's test apps listen on 127.0.0.1 alone. */
const listen = (server: Server) => listenOn(server, "127.0.0.1");

/**
 * An application on `adapter` with the referrer page at {@link REFERRER_PATH} (or `options.path`), on a real
 * HTTP server: `/` answers "home", every other path is the framework's own 404. Returns the base URL.
 */
export async function startReferrerApp(
	adapter: AdapterName,
	refkit: Refkit,
	options: ReferrerTestOptions = {},
): Promise<string> {
	const { getUserId = (user) => user ?? null, path = REFERRER_PATH, passport = false, ...rest } = options;
	switch (adapter) {
		case "express": {
			const app = express();
			if (passport) {
				app.use((req, _res, next) => {
					const id = req.get(USER_HEADER);
					if (id) (req as { user?: { id: string } }).user = { id };
					next();
				});
				app.use(expressReferrerPage(refkit, { ...rest, path }));
			} else {
				app.use(
					expressReferrerPage(refkit, { ...rest, path, getUserId: (req) => getUserId(req.get(USER_HEADER)) }),
				);
			}
			app.get("/", (_req, res) => void res.send("home"));
			return listen(createServer(app));
		}
		case "fastify": {
			const app = Fastify();
			if (passport) {
				app.decorateRequest("user", null);
				app.addHook("onRequest", async (request) => {
					const id = request.headers[USER_HEADER];
					if (typeof id === "string") (request as unknown as { user: { id: string } }).user = { id };
				});
				await app.register(refkitReferrerPagePlugin, { ...rest, refkit, path });
			} else {
				await app.register(refkitReferrerPagePlugin, {
					...rest,
					refkit,
					path,
					getUserId: (request) => getUserId(request.headers[USER_HEADER] as string | undefined),
				});
			}
			app.get("/", async () => "home");
			await app.ready();
			return listen(app.server);
		}
		case "hono": {
			const app = new Hono<{ Bindings: HttpBindings }>();
			app.use(
				honoReferrerPage(refkit, { ...rest, path, getUserId: (c) => getUserId(c.req.header(USER_HEADER)) }),
			);
			app.get("/", (c) => c.text("home"));
			return listen(createAdaptorServer({ fetch: app.fetch }) as Server);
		}
		case "web": {
			const page = referrerPageHandler(refkit, {
				...rest,
				path,
				getUserId: (request) => getUserId(request.headers.get(USER_HEADER) ?? undefined),
			});
			const fetch = async (request: Request) =>
				(await page(request)) ??
				(new URL(request.url).pathname === "/"
					? new Response("home")
					: new Response("not found", { status: 404 }));
			return listen(createAdaptorServer({ fetch }) as Server);
		}
	}
}
