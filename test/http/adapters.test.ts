import Fastify from "fastify";
import { describe, expect, test } from "vitest";
import { refkitPlugin } from "../../src/adapters/fastify.js";
import { refkitHandler } from "../../src/adapters/web.js";
import { createTestRefkit, DATABASES } from "../setup/databases.js";
import { BROWSER_AGENT, deletesCookie, responseCookie } from "../setup/http.js";

/** A request as a browser sends it. */
function browserRequest(url: string, headers: Record<string, string> = {}): Request {
	return new Request(url, { headers: { "user-agent": BROWSER_AGENT, ...headers } });
}

/** What is particular to one adapter; the shared behaviour is in referrals.test.ts. */
describe.each(DATABASES)("adapter specifics on %s", (kind) => {
	test("fastify: app.refkit and request.refkitClaim(userId) for a signup handler", async () => {
		const refkit = await createTestRefkit(kind);
		await refkit.createLink({ identifier: "abc" });
		const app = Fastify();
		await app.register(refkitPlugin, { refkit, getUserId: () => null });
		app.post("/signup", async (request) => ({ claimed: await request.refkitClaim("new-user") }));
		expect(app.refkit).toBe(refkit);

		const followed = await app.inject({
			method: "GET",
			url: "/ref/abc",
			headers: { "user-agent": BROWSER_AGENT },
		});
		expect(followed.statusCode).toBe(302);
		const cookie = followed.cookies.find((c) => c.name === "refkit_visitor");
		const signup = await app.inject({
			method: "POST",
			url: "/signup",
			cookies: { refkit_visitor: cookie?.value ?? "" },
		});
		expect(signup.json()).toEqual({ claimed: 1 });
		expect((await refkit.listHits())[0]?.userId).toBe("new-user");
		await app.close();
	});

	test("web: null for a request refkit lets through, a Response for a link", async () => {
		const refkit = await createTestRefkit(kind);
		await refkit.createLink({ identifier: "abc" });
		const handle = refkitHandler(refkit, { getUserId: () => null });
		expect(await handle(new Request("http://app.example/pricing"))).toBeNull();
		const response = await handle(browserRequest("http://app.example/ref/abc?next=/pricing"), {
			remoteAddress: "::ffff:203.0.113.5",
		});
		expect(response?.status).toBe(302);
		// A path: behind a proxy that ends TLS, the request's own URL may say http: when the visitor used https.
		expect(response?.headers.get("location")).toBe("/pricing");
		expect((await refkit.listHits())[0]?.ip).toBe("203.0.113.5");
	});

	test("web: in Next.js's middleware (a request with nextUrl, and next), every Location is absolute", async () => {
		const refkit = await createTestRefkit(kind);
		await refkit.createLink({ identifier: "abc", target: "/pricing?plan=pro" });
		const anonymous = refkitHandler(refkit, { getUserId: () => null });
		const loggedIn = refkitHandler(refkit, { getUserId: () => "zoe" });
		const origin = "https://app.example:8443";
		// What Next.js hands its middleware: a Request with a nextUrl (a NextRequest).
		const nextRequest = (url: string, headers: Record<string, string> = {}) =>
			Object.assign(browserRequest(url, headers), { nextUrl: new URL(url) });
		const next = () => new Response(null, { headers: { "x-middleware-next": "1" } });
		const followed = await anonymous(nextRequest(`${origin}/ref/abc`), { next });
		const visitor = followed ? responseCookie(followed, "refkit_visitor")?.value : undefined;
		const responses = {
			follow: followed,
			"follow with next": await anonymous(nextRequest(`${origin}/ref/abc?next=/docs%3Fa%3D1`), { next }),
			"unknown link": await anonymous(nextRequest(`${origin}/ref/nope?next=//evil.example`), { next }),
			"?ref=": await anonymous(nextRequest(`${origin}/blog/post?ref=abc&utm=x`), { next }),
			"claim while following": await loggedIn(
				nextRequest(`${origin}/ref/abc`, { cookie: `refkit_visitor=${visitor}` }),
				{ next },
			),
		};
		const locations = Object.fromEntries(
			Object.entries(responses).map(([name, response]) => {
				const value = response?.headers.get("location") ?? "";
				// What Next.js does with it: `new URL(location)`, without a base, throws for a path.
				return [name, new URL(value).href];
			}),
		);
		expect(locations).toEqual({
			follow: `${origin}/pricing?plan=pro`,
			"follow with next": `${origin}/docs?a=1`,
			"unknown link": `${origin}/`,
			"?ref=": `${origin}/ref/abc?next=%2Fblog%2Fpost%3Futm%3Dx`,
			"claim while following": `${origin}/pricing?plan=pro`,
		});
		const claimed = responses["claim while following"];
		expect(claimed && deletesCookie(claimed, "refkit_visitor")).toBe(true);
		// The same requests without nextUrl (Bun, Deno, a route handler) keep a path.
		const plain = await anonymous(browserRequest(`${origin}/ref/abc`), { next });
		expect(plain?.headers.get("location")).toBe("/pricing?plan=pro");
	});

	test("web: with next, a claim's cookie deletion reaches even an immutable response", async () => {
		const refkit = await createTestRefkit(kind);
		await refkit.createLink({ identifier: "abc" });
		const anonymous = refkitHandler(refkit, { getUserId: () => null });
		const followed = await anonymous(browserRequest("http://app.example/ref/abc"));
		const visitor = followed ? responseCookie(followed, "refkit_visitor")?.value : undefined;

		const loggedIn = refkitHandler(refkit, { getUserId: () => "zoe" });
		// Response.redirect() has immutable headers, like a response from fetch().
		const immutable = Response.redirect("http://app.example/home", 303);
		const response = await loggedIn(
			browserRequest("http://app.example/page", { cookie: `refkit_visitor=${visitor}` }),
			{ next: () => immutable },
		);
		expect(response?.status).toBe(303);
		expect(response?.headers.get("location")).toBe("http://app.example/home");
		expect(response && responseCookie(response, "refkit_visitor")?.value).toBe("");
		expect((await refkit.listHits())[0]?.userId).toBe("zoe");
	});
});
