import { expect } from "vitest";
import { ADMIN, BROWSER_AGENT, DASHBOARD_PATH, responseCookie, USER_HEADER } from "./http.js";

/** GET a dashboard page of the app at `base`, as `user` (the admin unless told), without following redirects. */
export function get(
	base: string,
	path: string,
	user: string | null = ADMIN,
	cookie?: string,
): Promise<Response> {
	const headers: Record<string, string> = { "user-agent": BROWSER_AGENT };
	if (user) headers[USER_HEADER] = user;
	if (cookie) headers.cookie = cookie;
	return fetch(`${base}${DASHBOARD_PATH}${path}`, { headers, redirect: "manual" });
}

/** POST a dashboard form as the admin (unless `headers` say otherwise), without following redirects. */
export function post(
	base: string,
	path: string,
	fields: Record<string, string>,
	init: { cookie?: string; headers?: Record<string, string> } = {},
): Promise<Response> {
	return fetch(`${base}${DASHBOARD_PATH}${path}`, {
		method: "POST",
		headers: {
			"user-agent": BROWSER_AGENT,
			"content-type": "application/x-www-form-urlencoded",
			[USER_HEADER]: ADMIN,
			...(init.cookie ? { cookie: init.cookie } : {}),
			...init.headers,
		},
		body: new URLSearchParams(fields),
		redirect: "manual",
	});
}

/** A dashboard session for the admin: its CSRF cookie and the token its forms carry. */
export async function adminSession(base: string): Promise<{ cookie: string; token: string }> {
	const response = await get(base, "/links");
	expect(response.status).toBe(200);
	const csrf = responseCookie(response, "refkit_csrf");
	const token = /name="_csrf" value="([^"]+)"/.exec(await response.text())?.[1];
	expect(csrf?.attributes).toMatch(/HttpOnly/);
	expect(csrf?.attributes).toMatch(/SameSite=Strict/);
	return { cookie: `refkit_csrf=${csrf?.value}`, token: token ?? "" };
}
