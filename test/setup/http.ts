import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import { afterAll } from "vitest";
import { refkitMiddleware } from "../../src/adapters/express.js";
import type { Refkit } from "../../src/index.js";

/** The header tests use to say who is logged in; the test apps read it in getUserId. */
export const USER_HEADER = "x-test-user";

const servers: Server[] = [];
afterAll(async () => {
	await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/**
 * An Express app with refkit installed as the README says, on a real HTTP server. `/` and `/foo` answer
 * 200; every other path is Express's 404. Returns the server's base URL.
 */
export async function startExpressApp(refkit: Refkit): Promise<string> {
	const app = express();
	app.use(refkitMiddleware(refkit, { getUserId: (req) => req.get(USER_HEADER) ?? null }));
	app.get("/", (_req, res) => {
		res.send("home");
	});
	app.get("/foo", (_req, res) => {
		res.send("foo");
	});
	app.post("/foo", (_req, res) => {
		res.send("posted");
	});
	const server = createServer(app);
	servers.push(server);
	// Listening on every address makes IPv4 clients appear as ::ffff:127.0.0.1, which refkit must normalise.
	await new Promise<void>((resolve) => server.listen(0, resolve));
	return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
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

/** GET (or another method) without following redirects. */
export function request(
	url: string,
	init: { method?: string; user?: string; cookie?: string; headers?: Record<string, string> } = {},
): Promise<Response> {
	const headers: Record<string, string> = { ...init.headers };
	if (init.user) headers[USER_HEADER] = init.user;
	if (init.cookie) headers.cookie = init.cookie;
	return fetch(url, { method: init.method ?? "GET", headers, redirect: "manual" });
}
