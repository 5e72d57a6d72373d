import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import Stripe from "stripe";
import { describe, expect, test } from "vitest";
import { DEVELOPMENT_STRIPE_SECRET } from "../examples/demo/stripe.js";
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

/** The cells of a table's body rows, tags stripped. */
function rows(html: string, id: string): string[][] {
	const start = html.indexOf(`<table id="${id}">`);
	if (start < 0) return [];
	const body = html.slice(start, html.indexOf("</table>", start));
	return [...body.matchAll(/<tr>(.*?)<\/tr>/g)]
		.slice(1)
		.map((row) => [...(row[1] ?? "").matchAll(/<td>(.*?)<\/td>/g)].map((cell) => cell[1] ?? ""));
}

/** A user's earnings by status, as their page shows them: { Pending: ["5.00 USD", "payable: ..."], ... }. */
function earnings(html: string): Record<string, [amount: string, note: string]> {
	section(html, "Your earnings");
	return Object.fromEntries(
		rows(html, "earnings").map(([status = "", amount = "", note = ""]) => [status, [amount, note]]),
	);
}

/** Alice logs in, Bob follows her link and signs up: their session cookies. */
async function aliceRefersBob(base: string): Promise<{ alice: string; bob: string }> {
	const alice = `demo_user=${responseCookie(await login(base, "alice"), "demo_user")?.value}`;
	const identifier = /\/ref\/([A-Za-z0-9_]{8})/.exec(
		await (await request(`${base}/`, { cookie: alice })).text(),
	)?.[1];
	const followed = await request(`${base}/ref/${identifier}`);
	const visitor = `refkit_visitor=${responseCookie(followed, "refkit_visitor")?.value}`;
	const bob = `demo_user=${responseCookie(await login(base, "bob", visitor), "demo_user")?.value}`;
	return { alice, bob };
}

async function page(base: string, cookie: string): Promise<string> {
	return (await request(`${base}/`, { cookie })).text();
}

/** Presses "Pay with Stripe (test event)" with `amount` (a price, as typed in the form). */
function payWithStripe(base: string, cookie: string, amount: string): Promise<Response> {
	return fetch(`${base}/stripe/pay`, {
		method: "POST",
		headers: { "content-type": "application/x-www-form-urlencoded", ...(cookie ? { cookie } : {}) },
		body: new URLSearchParams({ amount }),
		redirect: "manual",
	});
}

/** Runs examples/demo/send-stripe-event.ts with `args`, as `npx tsx` would. */
function sendStripeEvent(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
	const tsx = fileURLToPath(new URL("../node_modules/.bin/tsx", import.meta.url));
	const root = fileURLToPath(new URL("..", import.meta.url));
	return new Promise((resolve) => {
		execFile(
			tsx,
			["examples/demo/send-stripe-event.ts", ...args],
			{ cwd: root, env: { ...process.env, STRIPE_WEBHOOK_SECRET: "" }, timeout: 20_000 },
			(error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
		);
	});
}

const DAY = 24 * 60 * 60 * 1000;

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

	test("its program: 5.00 USD to each side of a signup through a link, 20% of every purchase, pending 14 days", async () => {
		const { base, output } = await startDemo(await freshDatabaseUrl(kind));
		const { alice, bob } = await aliceRefersBob(base);
		const signedUp = Date.now();

		// Both sides of the signup earn 5.00 USD, pending for the 14-day hold, and the page says until when.
		const aliceEarnings = earnings(await page(base, alice));
		expect(aliceEarnings.Pending?.[0]).toBe("5.00 USD");
		expect(aliceEarnings.Held?.[0]).toBe("0.00 USD");
		expect(aliceEarnings.Payable).toEqual(["0.00 USD", expect.stringContaining("once it reaches 20.00 USD")]);
		expect(aliceEarnings.Paid?.[0]).toBe("0.00 USD");
		const payable = /^payable: 5\.00 USD on (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)$/.exec(
			aliceEarnings.Pending?.[1] ?? "",
		);
		const payableAt = payable?.[1] ?? "";
		expect(payableAt, aliceEarnings.Pending?.[1]).not.toBe("");
		expect(Math.abs(Date.parse(`${payableAt.replace(" ", "T")}Z`) - (signedUp + 14 * DAY))).toBeLessThan(
			60_000,
		);
		expect(rows(await page(base, alice), "commissions").map((cells) => cells.slice(1))).toEqual([
			["bob's signup", "5.00 USD", `pending until ${payableAt}`],
		]);
		const bobEarnings = earnings(await page(base, bob));
		expect(bobEarnings.Pending?.[0]).toBe("5.00 USD");
		expect(rows(await page(base, bob), "commissions")[0]?.slice(1, 3)).toEqual([
			"your signup through a friend's link",
			"5.00 USD",
		]);

		// Each purchase is a sale with its own order id: 20% of it to Alice, rounded down to the cent.
		await purchase(base, bob, "25.50");
		await purchase(base, bob, "9.99");
		const after = await page(base, alice);
		expect(earnings(after).Pending?.[0]).toBe("12.09 USD"); // 5.00 + 5.10 + 1.99 (20% of 9.99 is 1.998)
		expect(rows(after, "commissions").map((cells) => cells.slice(1, 3))).toEqual([
			["20% of bob's purchase of 9.99 USD", "1.99 USD"],
			["20% of bob's purchase of 25.50 USD", "5.10 USD"],
			["bob's signup", "5.00 USD"],
		]);
		// Bob, who referred nobody, earned nothing more; Alice's own purchase credits nobody.
		expect(earnings(await page(base, bob)).Pending?.[0]).toBe("5.00 USD");
		await purchase(base, alice, "50");
		expect(earnings(await page(base, alice)).Pending?.[0]).toBe("12.09 USD");

		// The ledger's outbox tells the console, each sale under an order id of its own.
		await expect
			.poll(() => output().match(/sale\.recorded: bob's purchase/g)?.length ?? 0, { timeout: 10_000 })
			.toBe(2);
		const orders = [...output().matchAll(/\(order (demo-order-[0-9a-f-]+)\)/g)].map((match) => match[1]);
		expect(new Set(orders).size).toBe(2);
		expect(output()).toContain("commission.created: 5.10 USD to alice (referrer, rule sale, pending)");
	});

	test("with REFKIT_DEMO_HOLD_DAYS=0, earnings are payable at once", async () => {
		const { base, output } = await startDemo(await freshDatabaseUrl(kind), { REFKIT_DEMO_HOLD_DAYS: "0" });
		expect(output()).toContain("commissions are payable after 0 days (REFKIT_DEMO_HOLD_DAYS)");
		const { alice, bob } = await aliceRefersBob(base);
		await purchase(base, bob, "100");
		const html = await page(base, alice);
		const aliceEarnings = earnings(html);
		expect(aliceEarnings.Pending).toEqual(["0.00 USD", ""]);
		expect(aliceEarnings.Payable).toEqual([
			"25.00 USD",
			"paid out by the next payout run once it reaches 20.00 USD",
		]);
		expect(rows(html, "commissions").map((cells) => cells.slice(1))).toEqual([
			["20% of bob's purchase of 100.00 USD", "20.00 USD", "payable"],
			["bob's signup", "5.00 USD", "payable"],
		]);
		expect(earnings(await page(base, bob)).Payable?.[0]).toBe("5.00 USD");
	});

	test("Pay with Stripe: a signed invoice.paid through /webhooks/stripe becomes the referrer's commission, once", async () => {
		const { base, output } = await startDemo(await freshDatabaseUrl(kind));
		expect(output()).toMatch(/STRIPE_WEBHOOK_SECRET is not set; \/webhooks\/stripe checks signatures/);
		const { alice, bob } = await aliceRefersBob(base);
		expect(await page(base, bob)).toContain('<button type="submit">Pay with Stripe (test event)</button>');

		// Bob presses the button: the server builds the event, signs it, POSTs it to its own endpoint, and
		// redirects back to say what it came to.
		const paid = await payWithStripe(base, bob, "49");
		expect(paid.status).toBe(303);
		const back = location(paid) ?? "";
		expect(back).toMatch(/^\/\?stripe=evt_[A-Za-z0-9]{24}$/);
		const notice = /<p class="notice" id="stripe-outcome">([^<]*)<\/p>/.exec(
			await (await request(`${base}${back}`, { cookie: bob })).text(),
		)?.[1];
		expect(notice).toMatch(
			/^Stripe event evt_[A-Za-z0-9]{24}: recorded sale in_[A-Za-z0-9]{24} of 49\.00 USD, credited to alice\.$/,
		);
		// Only to the user who sent it.
		expect(await (await request(`${base}${back}`, { cookie: alice })).text()).not.toContain("stripe-outcome");

		// Alice earned 20% of it, as of any sale; a second payment is another invoice, another sale. (Sorted: the
		// sale's time is the invoice's paid_at, in whole seconds as Stripe counts, so it may list before the signup.)
		expect(
			rows(await page(base, alice), "commissions")
				.map((cells) => cells.slice(1, 3))
				.sort(),
		).toEqual([
			["20% of bob's purchase of 49.00 USD", "9.80 USD"],
			["bob's signup", "5.00 USD"],
		]);
		await payWithStripe(base, bob, "10.05");
		expect(earnings(await page(base, alice)).Pending?.[0]).toBe("16.81 USD"); // 5.00 + 9.80 + 2.01
		await expect
			.poll(() => output().match(/sale\.recorded: bob's purchase of [\d.]+ USD \(order in_/g)?.length ?? 0, {
				timeout: 10_000,
			})
			.toBe(2);

		// The same from a shell: send-stripe-event.ts, signed with the same development secret.
		const script = await sendStripeEvent([
			"--user",
			"bob",
			"--amount",
			"2500",
			"--url",
			`${base}/webhooks/stripe`,
		]);
		expect(script).toMatchObject({ code: 0, stderr: "" });
		expect(script.stdout).toMatch(
			/^Stripe event evt_\w+ \(invoice\.paid, in_\w+\): 200 applied: recorded sale in_\w+ of 2500 USD by bob\n$/,
		);
		expect(earnings(await page(base, alice)).Pending?.[0]).toBe("21.81 USD");

		// Alice, referred by nobody, pays: nothing to credit, and the page says why. Bad amounts and no login.
		const own = await payWithStripe(base, alice, "20");
		expect(await (await request(`${base}${location(own)}`, { cookie: alice })).text()).toMatch(
			/Stripe event evt_\w+: applied: alice was not referred: no sale to record\./,
		);
		expect((await payWithStripe(base, bob, "-3")).status).toBe(400);
		expect((await payWithStripe(base, bob, "<b>lots</b>")).status).toBe(400);
		expect((await payWithStripe(base, "", "10")).status).toBe(401);
		expect(earnings(await page(base, alice)).Pending?.[0]).toBe("21.81 USD");
	});

	test("/webhooks/stripe answers 400 to a bad signature and records nothing", async () => {
		const { base } = await startDemo(await freshDatabaseUrl(kind), {
			STRIPE_WEBHOOK_SECRET: "whsec_the_demos_own_secret_for_this_test_0000",
		});
		const { alice, bob } = await aliceRefersBob(base);
		const body = JSON.stringify({
			id: "evt_forged",
			object: "event",
			type: "invoice.paid",
			created: Math.floor(Date.now() / 1000),
			data: {
				object: {
					id: "in_forged",
					object: "invoice",
					amount_paid: 99900,
					currency: "usd",
					metadata: { userId: "bob" },
				},
			},
		});
		const deliver = (signature: string | null) =>
			fetch(`${base}/webhooks/stripe`, {
				method: "POST",
				headers: {
					"content-type": "application/json",
					...(signature ? { "stripe-signature": signature } : {}),
				},
				body,
			});
		// Signed with another secret (the demo's development one, which STRIPE_WEBHOOK_SECRET replaced), a made-up
		// signature, none.
		const foreign = Stripe.webhooks.generateTestHeaderString({
			payload: body,
			secret: DEVELOPMENT_STRIPE_SECRET,
		});
		for (const signature of [foreign, "t=1,v1=abc", null]) {
			const answer = await deliver(signature);
			expect(answer.status).toBe(400);
			expect(await answer.json()).toMatchObject({ received: false });
		}
		// The form signs with the secret the demo was given, so it still works.
		await payWithStripe(base, bob, "49");
		expect(
			rows(await page(base, alice), "commissions")
				.map((cells) => cells[1])
				.sort(),
		).toEqual(["20% of bob's purchase of 49.00 USD", "bob's signup"]);
	});

	test("each user's referral page, at /account/referrals: linked from home, behind the login, names shortened", async () => {
		const { base } = await startDemo(await freshDatabaseUrl(kind));
		// Logged out, it sends the visitor to the login (the home page), which sends them back after it.
		const out = await request(`${base}/account/referrals?days=7`);
		expect(out.status).toBe(303);
		expect(location(out)).toBe("/?next=%2Faccount%2Freferrals%3Fdays%3D7");
		expect(await (await request(`${base}${location(out)}`)).text()).toContain(
			'<input type="hidden" name="next" value="/account/referrals?days=7">',
		);
		const loginTo = (username: string, next: string, cookie?: string) =>
			fetch(`${base}/login`, {
				method: "POST",
				headers: { "content-type": "application/x-www-form-urlencoded", ...(cookie ? { cookie } : {}) },
				body: new URLSearchParams({ username, next }),
				redirect: "manual",
			});
		const aliceLogin = await loginTo("alice", "/account/referrals?days=7");
		expect(location(aliceLogin)).toBe("/account/referrals?days=7");
		expect(location(await loginTo("alice", "//evil.example/"))).toBe("/");
		const alice = `demo_user=${responseCookie(aliceLogin, "demo_user")?.value}`;
		const home = await (await request(`${base}/`, { cookie: alice })).text();
		expect(home).toContain('<a href="/account/referrals" id="referrals-page">Your referrals</a>');
		const identifier = /\/ref\/([A-Za-z0-9_]{8})/.exec(home)?.[1];

		// Bob Smith follows her link and signs up: her page names him by the demo's displayName, shortened.
		const followed = await request(`${base}/ref/${identifier}`);
		const visitor = `refkit_visitor=${responseCookie(followed, "refkit_visitor")?.value}`;
		await loginTo("bob.smith", "/", visitor);
		const response = await request(`${base}/account/referrals`, { cookie: alice });
		expect(response.status).toBe(200);
		const html = await response.text();
		expect(html).toContain(`value="${base}/ref/${identifier}"`);
		expect(html).toContain('<svg class="refkit-qr-code"');
		expect(html).toContain("<td>Bob S.</td>");
		expect(html).not.toContain("bob.smith");
		expect(html).toMatch(
			/<tr class="refkit-you"><td class="refkit-num">1<\/td><td>Alice <span class="refkit-tag">You<\/span>/,
		);
		expect(html).toContain("You earn $5.00 when someone you refer signs up, and they get $5.00.");
	});

	test("a bad name is refused and escapes nothing into the page", async () => {
		const { base } = await startDemo(await freshDatabaseUrl(kind));
		const response = await login(base, "<script>alert(1)</script>");
		expect(response.status).toBe(400);
		expect(await response.text()).not.toContain("<script>");
	});
});

test("a REFKIT_DEMO_HOLD_DAYS that is not a number of days stops the demo with a message", async () => {
	await expect(
		startDemo(await freshDatabaseUrl("sqlite"), { REFKIT_DEMO_HOLD_DAYS: "two weeks" }),
	).rejects.toThrow(/REFKIT_DEMO_HOLD_DAYS must be a whole number of days from 0 to 3650/);
});

test("in production the demo needs STRIPE_WEBHOOK_SECRET, and refuses one that is not a signing secret", async () => {
	const env = { NODE_ENV: "production", REFKIT_SECRET: "a-secret-of-at-least-thirty-two-characters-0000" };
	await expect(
		startDemo(await freshDatabaseUrl("sqlite"), { ...env, STRIPE_WEBHOOK_SECRET: "" }),
	).rejects.toThrow(/NODE_ENV is production, so STRIPE_WEBHOOK_SECRET must be set/);
	await expect(
		startDemo(await freshDatabaseUrl("sqlite"), { STRIPE_WEBHOOK_SECRET: "sk_test_an_api_key" }),
	).rejects.toThrow(/STRIPE_WEBHOOK_SECRET must be a webhook endpoint's signing secret, whsec_/);
});
