import { describe, expect, test } from "vitest";
import { DATABASES, freshDatabaseUrl } from "./setup/databases.js";
import { startDemo } from "./setup/demo.js";
import { location, request, responseCookie } from "./setup/http.js";

async function login(base: string, username: string, cookie?: string): Promise<Response> {
	return fetch(`${base}/login`, {
		method: "POST",
		headers: { "content-type": "application/x-www-form-urlencoded", ...(cookie ? { cookie } : {}) },
		body: new URLSearchParams({ username }),
		redirect: "manual",
	});
}

function purchase(base: string, cookie: string, amount: string): Promise<Response> {
	return fetch(`${base}/purchase`, {
		method: "POST",
		headers: { "content-type": "application/x-www-form-urlencoded", ...(cookie ? { cookie } : {}) },
		body: new URLSearchParams({ amount }),
		redirect: "manual",
	});
}

/** The part of a demo page under the heading `title`, up to the next heading. */
function section(html: string, title: string): string {
	const start = html.indexOf(`<h2>${title}</h2>`);
	expect(start, `the page has a "${title}" section`).toBeGreaterThan(-1);
	const end = html.indexOf("<h2>", start + 1);
	return html.slice(start, end < 0 ? undefined : end);
}

describe.each(DATABASES)("the demo on %s", (kind) => {
	test("log in, share the link, and see a friend's visit, signup and first purchase credited once", async () => {
		const { base, output } = await startDemo(await freshDatabaseUrl(kind));
		expect(output()).toMatch(/REFKIT_SECRET is not set/);

		const home = await request(`${base}/`);
		expect(home.status).toBe(200);
		expect(await home.text()).toContain('name="username"');

		const aliceLogin = await login(base, "alice");
		expect(aliceLogin.status).toBe(303);
		const alice = `demo_user=${responseCookie(aliceLogin, "demo_user")?.value}`;
		const aliceHome = await (await request(`${base}/`, { cookie: alice })).text();
		const identifier = /\/ref\/([A-Za-z0-9_]{8})/.exec(aliceHome)?.[1];
		expect(identifier).toBeDefined();
		// The link is created once, at first login.
		expect(await (await request(`${base}/`, { cookie: alice })).text()).toContain(`/ref/${identifier}`);

		// A friend follows it anonymously through ?ref= on any page, then logs in.
		const viaParam = await request(`${base}/?ref=${identifier}`);
		expect(location(viaParam)).toBe(`/ref/${identifier}?next=%2F`);
		const followed = await request(`${base}${location(viaParam)}`);
		expect(followed.status).toBe(302);
		const visitor = `refkit_visitor=${responseCookie(followed, "refkit_visitor")?.value}`;
		const bobLogin = await login(base, "bob", visitor);
		const bob = `demo_user=${responseCookie(bobLogin, "demo_user")?.value}`;
		const bobHome = await request(`${base}/`, { cookie: `${bob}; ${visitor}` });
		expect(bobHome.status).toBe(200);
		expect(responseCookie(bobHome, "refkit_visitor")?.value).toBe("");

		const aliceAfter = await (await request(`${base}/`, { cookie: alice })).text();
		expect(aliceAfter).toMatch(/<td>bob<\/td><td>claimed at login<\/td>/);
		// Bob's first login was his signup, credited to Alice.
		expect(section(aliceAfter, "Signups you referred")).toMatch(/<td>bob<\/td>/);
		expect(section(aliceAfter, "Purchases you referred")).toContain("No purchases yet.");

		// Bob buys twice: the first purchase is credited once, with its amount.
		const bought = await purchase(base, bob, "25.50");
		expect(bought.status).toBe(303);
		expect(location(bought)).toBe("/?purchase=converted");
		expect(await (await request(`${base}/?purchase=converted`, { cookie: bob })).text()).toContain(
			"credited to the friend who referred you",
		);
		expect((await purchase(base, bob, "99")).headers.get("location")).toBe("/?purchase=already-converted");
		const alicePurchases = section(
			await (await request(`${base}/`, { cookie: alice })).text(),
			"Purchases you referred",
		);
		expect(alicePurchases.match(/<tr><td>/g)).toHaveLength(1);
		// The amount as the dashboard shows it, and delivered by the demo's outbox worker within seconds.
		expect(alicePurchases).toMatch(/<td>bob<\/td><td>25\.5<\/td>/);
		const adminLogin = await login(base, "admin");
		const admin = `demo_user=${responseCookie(adminLogin, "demo_user")?.value}`;
		const dashboard = await (
			await request(`${base}/admin/refkit/conversions?goal=purchase`, { cookie: admin })
		).text();
		expect(dashboard).toMatch(/<td class="num">25\.5<\/td>/);
		await expect
			.poll(
				async () =>
					section(await (await request(`${base}/`, { cookie: alice })).text(), "Purchases you referred"),
				{
					timeout: 10_000,
				},
			)
			.toMatch(/<td>25\.5<\/td><td>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d<\/td>/);
		expect(output()).toContain("refkit demo: delivered the conversion of bob's purchase, credited to alice");

		// The link is a link, and a bot's visit is redirected, not recorded, and said so on the page.
		expect(aliceHome).toContain(`<a class="link" id="referral-link" href="${base}/ref/${identifier}">`);
		const bot = await request(`${base}/ref/${identifier}`, { headers: { "user-agent": "curl/8.5.0" } });
		expect(bot.status).toBe(302);
		expect(await (await request(`${base}/`, { cookie: alice })).text()).toMatch(
			/<p class="muted" id="skipped">Since the demo started it recorded \d+ visits? and redirected without recording 1 from bots\./,
		);

		// Logging in again is not a second signup; Alice, referred by nobody, credits nobody.
		await login(base, "bob");
		expect(
			section(await (await request(`${base}/`, { cookie: alice })).text(), "Signups you referred").match(
				/<tr><td>/g,
			),
		).toHaveLength(1);
		expect((await purchase(base, alice, "10")).headers.get("location")).toBe("/?purchase=no-referral");
		expect((await purchase(base, bob, "-3")).status).toBe(400);
		expect((await purchase(base, bob, "lots")).status).toBe(400);
		expect((await purchase(base, "", "10")).status).toBe(401);

		expect((await request(`${base}/no-such-page`, { cookie: alice })).status).toBe(404);
		const logout = await fetch(`${base}/logout`, {
			method: "POST",
			headers: { cookie: alice },
			redirect: "manual",
		});
		expect(responseCookie(logout, "demo_user")?.value).toBe("");
	});

	test("a bad name is refused and escapes nothing into the page", async () => {
		const { base } = await startDemo(await freshDatabaseUrl(kind));
		const response = await login(base, "<script>alert(1)</script>");
		expect(response.status).toBe(400);
		expect(await response.text()).not.toContain("<script>");
	});
});
