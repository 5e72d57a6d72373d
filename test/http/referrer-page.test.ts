import { createHash } from "node:crypto";
import { describe, expect, test } from "vitest";
import { refkitReferrerPage as expressPage } from "../../src/adapters/express.js";
import { refkitReferrerPagePlugin } from "../../src/adapters/fastify.js";
import { refkitReferrerPage as honoPage } from "../../src/adapters/hono.js";
import { referrerPageHandler } from "../../src/adapters/web.js";
import type { ProgramOptions, ReferrerSummary, Refkit, RefkitOptions } from "../../src/index.js";
import { createTestRefkit, DATABASES, type DatabaseKind } from "../setup/databases.js";
import { visit } from "../setup/direct.js";
import { ADAPTERS, type AdapterName, location, request } from "../setup/http.js";
import { PROGRAMS as LEDGER, refer } from "../setup/ledger.js";
import { REFERRER_PATH, type ReferrerTestOptions, startReferrerApp } from "../setup/referrer.js";

/**
 * The referrer's page through every adapter on every database: what it shows a logged-in referrer (as HTML
 * and as JSON), that it shows them nothing of anyone else whatever the request says, and how it answers
 * everything else (logged out, bad input, a database down).
 */

const MATRIX = ADAPTERS.flatMap((adapter) => DATABASES.map((kind) => [adapter, kind] as const));
const MARKUP = `<script>alert("x")</script>`;

/** Two referrers with data, their ids and codes unlike any word of the page. */
const ALICE = "alice-5f2c";
const EVE = "eve-8d1a";
const ALICE_FRIENDS = ["friend-a1-7c", "friend-a2-3b"];
const EVE_FRIEND = "friend-e1-9d";

/**
 * The ledger tests' programs without their review, and Eve's `partners` rule paying an amount (7.77 EUR) that
 * no other number of the page has, so that finding it anywhere on Alice's page would show a leak.
 */
const PROGRAMS: Partial<RefkitOptions> = {
	programs: [
		LEDGER.programs?.[0] as ProgramOptions,
		{ id: "partners", currency: "EUR", holdDays: 30, rules: [{ on: "sale", amount: 777, minimumSale: 500 }] },
	],
	defaultProgram: "main",
};

/**
 * Alice: two links (one disabled), two friends who signed up (500 each), one of whom paid 50.00 (20%: 1000),
 * a paid payout of 20.00. Eve: a link under `partners`, five visits and one friend whose 43.21 EUR sale earns
 * her 7.77 EUR, pending.
 */
async function seed(refkit: Refkit) {
	await refkit.createLink({ identifier: "alice_link", userId: ALICE });
	await refkit.createLink({ identifier: "alice_old", userId: ALICE });
	await refkit.disableLink("alice_old");
	await refkit.createLink({ identifier: "eve_secret_link", userId: EVE, program: "partners" });
	for (const friend of ALICE_FRIENDS) await refer(refkit, friend, "alice_link");
	await refer(refkit, EVE_FRIEND, "eve_secret_link");
	for (let i = 0; i < 5; i++) await visit(refkit, "/ref/eve_secret_link");
	await refkit.recordSale({ externalId: "inv-a1", userId: "friend-a1-7c", amount: 5000, currency: "USD" });
	await refkit.recordSale({ externalId: "inv-e1", userId: EVE_FRIEND, amount: 4321, currency: "EUR" });
	await refkit.createPayouts();
	const [payout] = await refkit.listPayouts({ userId: ALICE });
	if (payout === undefined) throw new Error("no payout for Alice");
	await refkit.markPayoutPaid(payout.id, { reference: "tr_alice_42" });
	return { payout };
}

/** What must never show on Alice's page: Eve's id, link, friend and their alias, currency and amounts. */
async function eveSecrets(refkit: Refkit): Promise<string[]> {
	const eve = await refkit.referrerSummary(EVE);
	return [
		EVE,
		"eve_secret_link",
		EVE_FRIEND,
		...eve.referrals.map((referral) => referral.alias),
		"EUR",
		'data-minor="777"',
		"7.77",
		"43.21",
		"partners",
	];
}

/** The summary as JSON answers it, without the time it was read. */
function comparable(summary: unknown): unknown {
	const copy = JSON.parse(JSON.stringify(summary)) as { period: { to?: string } };
	delete copy.period.to;
	return copy;
}

function getPage(
	base: string,
	query = "",
	user: string | null = ALICE,
	headers: Record<string, string> = {},
) {
	return request(`${base}${REFERRER_PATH}${query}`, { ...(user === null ? {} : { user }), headers });
}

function getJson(base: string, query = "", user: string | null = ALICE) {
	return getPage(base, query, user, { accept: "application/json" });
}

describe.each(MATRIX)("the referrer page on %s with %s", (adapter, kind) => {
	async function setUp(options: ReferrerTestOptions = {}, refkitOptions: Partial<RefkitOptions> = {}) {
		const refkit = await createTestRefkit(kind, { ...PROGRAMS, ...refkitOptions });
		const seeded = await seed(refkit);
		const base = await startReferrerApp(adapter, refkit, options);
		return { refkit, base, ...seeded };
	}

	test("shows the logged-in referrer their link to copy, share and scan, their funnel, earnings, payouts, referrals and terms", async () => {
		const { refkit, base, payout } = await setUp();
		const response = await getPage(base);
		expect(response.status).toBe(200);
		expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
		const html = await response.text();
		const url = `${base}/ref/alice_link`;
		expect(html).toContain('<html lang="en">');
		expect(html.match(/<h1>/g)).toHaveLength(1);
		expect(html).toContain("<h1>Your referrals</h1>");
		// The link, labelled, read-only, its code beside it; the copy button hidden until the script shows it.
		expect(html).toContain('<label for="refkit-link">Your referral link</label>');
		expect(html).toContain(
			`<input id="refkit-link" type="text" readonly value="${url}" spellcheck="false" autocomplete="off" data-identifier="alice_link">`,
		);
		expect(html).toMatch(/<button type="button" id="refkit-copy" hidden [^>]*>Copy link<\/button>/);
		expect(html).toContain(
			'<p id="refkit-copy-status" class="refkit-status" role="status" aria-live="polite"></p>',
		);
		expect(html).toContain('Your code: <code class="refkit-code">alice_link</code>');
		// Share links for each network, opened apart from the page, and a QR code drawn on the server.
		const encoded = encodeURIComponent(url);
		expect(html).toContain(`href="https://www.facebook.com/sharer/sharer.php?u=${encoded}"`);
		expect(html).toContain(`href="https://www.linkedin.com/sharing/share-offsite/?url=${encoded}"`);
		expect(html).toContain(
			`href="https://x.com/intent/post?text=Here%20is%20my%20referral%20link%3A&amp;url=${encoded}"`,
		);
		expect(html).toContain(`href="https://wa.me/?text=Here%20is%20my%20referral%20link%3A%20${encoded}"`);
		expect(html).toContain(
			`href="mailto:?subject=An%20invitation%20for%20you&amp;body=Here%20is%20my%20referral%20link%3A%20${encoded}"`,
		);
		expect(
			html.match(
				/target="_blank" rel="noopener noreferrer" aria-label="Share on \w+ \(opens in a new tab\)"/g,
			),
		).toHaveLength(4);
		expect(html).toMatch(
			/<svg class="refkit-qr-code" [^>]*role="img" aria-label="QR code of your referral link"/,
		);
		// Both links to pick from, the disabled one said so.
		expect(html).toContain('<option value="alice_old">alice_old (disabled)</option>');

		// The funnel: two codes typed, two sign-ups, the charts and every day's numbers.
		expect(html).toContain("<dt>Clicks</dt><dd>2</dd>");
		expect(html).toContain("<dt>Sign-ups</dt><dd>2<small>100% of clicks</small></dd>");
		expect(html).toMatch(
			/<svg viewBox="0 0 640 200" role="img"[^>]*>\s*<title id="chart-\d+-title">Clicks per day<\/title>/,
		);
		expect(html).toContain("Conversions per day");
		const daily = /<table class="refkit-daily">.*?<tbody>(.*?)<\/tbody>/s.exec(html)?.[1] ?? "";
		expect(
			daily.match(
				/<tr><th scope="row">[^<]+<\/th><td class="refkit-num">\d+<\/td><td class="refkit-num">\d+<\/td><\/tr>/g,
			),
		).toHaveLength(30);
		expect(html).toContain(
			'<tfoot><tr><th scope="row">Total</th><td class="refkit-num">2</td><td class="refkit-num">2</td></tr></tfoot>',
		);

		// Earnings as the ledger says: 500 + 500 + 1000 paid out (the payout), nothing else.
		const [usd] = await refkit.balances(ALICE);
		expect(usd).toMatchObject({ currency: "USD", pending: 0, held: 0, approved: 0, paid: 2000 });
		const earningsRow = /<tr data-currency="USD">(.*?)<\/tr>/s.exec(html)?.[1] ?? "";
		expect([...earningsRow.matchAll(/data-minor="(-?\d+)"/g)].map((m) => Number(m[1]))).toEqual([
			0, 0, 0, 2000,
		]);
		expect(html).toContain(
			'role="img" aria-label="Your earnings in USD, by state: Pending $0.00, Held $0.00, Payable $0.00, Paid $20.00"',
		);
		// The payout, paid, with its reference.
		expect(payout.amount).toBe(2000);
		expect(html).toMatch(
			/<td class="refkit-num"><span class="refkit-amount" data-minor="2000" data-currency="USD">\$20\.00<\/span><\/td><td>Paid<\/td><td>[^<]+<\/td><td>tr_alice_42<\/td>/,
		);
		// The referrals, masked: nobody's user id.
		const summary = await refkit.referrerSummary(ALICE);
		for (const referral of summary.referrals) expect(html).toContain(`<td>Referral #${referral.alias}</td>`);
		for (const friend of ALICE_FRIENDS) expect(html).not.toContain(friend);
		// The terms, in words.
		expect(html).toContain("<li>You earn $5.00 when someone you refer signs up, and they get $3.00.</li>");
		expect(html).toContain(
			"<li>You earn 20% of every payment made by someone you refer, during the first 12 months after they were referred, up to $500.00 per person you refer.</li>",
		);
		expect(html).toContain("<li>Earnings are payable at once.</li>");
		expect(html).toContain("<li>Payouts are made once your payable balance reaches $10.00.</li>");
		// No leaderboard unless asked for.
		expect(html).not.toContain("refkit-leaderboard");
		// The same periods as links, the current one marked.
		expect(html).toContain(`<a href="${REFERRER_PATH}?days=30" aria-current="true">Last 30 days</a>`);
		expect(html).toContain(`<a href="${REFERRER_PATH}?days=7">Last 7 days</a>`);

		// One link picked: its funnel, the period links keep it.
		const picked = await (await getPage(base, "?link=alice_old&days=90")).text();
		expect(picked).toContain('value="http://127.0.0.1');
		expect(picked).toContain('data-identifier="alice_old"');
		expect(picked).toContain("This link is disabled: visits through it are not counted.");
		expect(picked).not.toContain("refkit-qr-code");
		expect(picked).not.toContain("wa.me");
		expect(picked).toContain("<dt>Clicks</dt><dd>0</dd>");
		expect(picked).toContain(`<a href="${REFERRER_PATH}?days=7&amp;link=alice_old">Last 7 days</a>`);
		expect(picked).toContain('<option value="alice_old" selected>');
	});

	test("answers the summary as JSON when the request prefers JSON", async () => {
		const { refkit, base } = await setUp();
		for (const accept of [
			"application/json",
			"application/json, text/html;q=0.9",
			"text/html;q=0.5, application/*",
		]) {
			const response = await getPage(base, "?days=7", ALICE, { accept });
			expect(response.status, accept).toBe(200);
			expect(response.headers.get("content-type")).toBe("application/json; charset=utf-8");
			const body = (await response.json()) as ReferrerSummary;
			const expected = await refkit.referrerSummary(ALICE, { days: 7, baseUrl: base });
			expect(comparable(body)).toEqual(comparable(expected));
			expect(body.links.map((link) => link.url)).toEqual([`${base}/ref/alice_link`, `${base}/ref/alice_old`]);
			expect(body.payouts).toMatchObject([
				{ amount: 2000, currency: "USD", status: "paid", reference: "tr_alice_42" },
			]);
		}
		// A browser's Accept, or none, is HTML.
		for (const accept of ["text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "*/*", ""]) {
			const response = await getPage(base, "", ALICE, accept === "" ? {} : { accept });
			expect(response.headers.get("content-type"), accept).toBe("text/html; charset=utf-8");
		}
	});

	test("shows a user only their own data, whatever the parameters say", async () => {
		const { refkit, base } = await setUp();
		const secrets = await eveSecrets(refkit);
		const plain = comparable(await (await getJson(base)).json());
		/** None of Eve's data, beyond what the request itself said (a framework's 404 may repeat its path). */
		const noEve = (text: string, what: string, echoed = "") => {
			for (const secret of secrets) {
				if (!echoed.includes(secret)) expect(text, `${what} shows ${secret}`).not.toContain(secret);
			}
		};
		// Parameters the page does not know are ignored: the same answer as without them.
		for (const query of [
			`?userId=${EVE}`,
			`?user=${EVE}`,
			`?referrerUserId=${EVE}`,
			`?user_id=${EVE}`,
			`?as=${EVE}&impersonate=${EVE}`,
			`?days=30&userId=${EVE}&link=`,
		]) {
			const json = await getJson(base, query);
			expect(json.status, query).toBe(200);
			const text = await json.text();
			noEve(text, `JSON ${query}`);
			expect(comparable(JSON.parse(text)), query).toEqual(plain);
			const page = await getPage(base, query);
			expect(page.status, query).toBe(200);
			const html = await page.text();
			noEve(html, `HTML ${query}`);
			expect(html).toContain("<dt>Clicks</dt><dd>2</dd>");
		}
		// Another user's link, an unknown one, a malformed one: one and the same 404, in both forms.
		const notFound: string[] = [];
		for (const link of [
			"eve_secret_link",
			"no_such_link",
			"bad!link",
			"x".repeat(51),
			"%00",
			"alice_link%20",
		]) {
			const json = await getJson(base, `?link=${link}`);
			expect(json.status, link).toBe(404);
			expect(await json.json()).toEqual({
				error: { code: "LINK_NOT_FOUND", message: "You have no link with this identifier." },
			});
			const page = await getPage(base, `?link=${link}`);
			expect(page.status, link).toBe(404);
			const html = await page.text();
			noEve(html, `HTML link=${link}`);
			notFound.push(html);
		}
		expect(new Set(notFound).size).toBe(1);
		// Repeated parameters are refused, not read one way or another.
		for (const [query, name] of [
			["?link=alice_link&link=eve_secret_link", "link"],
			["?days=7&days=30", "days"],
		] as const) {
			expect(await (await getJson(base, query)).json()).toEqual({
				error: { code: "INVALID_ARGUMENT", message: `Give ${name} at most once.` },
			});
			const page = await getPage(base, query);
			expect(page.status, query).toBe(400);
			noEve(await page.text(), query);
		}
		// Paths under the page are not the page: the application's own 404.
		for (const path of [`/${EVE}`, "/eve_secret_link", `/${EVE}/`, `/x?userId=${EVE}`]) {
			for (const json of [false, true]) {
				const response = await request(`${base}${REFERRER_PATH}${path}`, {
					user: ALICE,
					headers: json ? { accept: "application/json" } : {},
				});
				expect(response.status, path).toBe(404);
				noEve(await response.text(), path, path);
			}
		}
		// A trailing slash is the page itself.
		expect(
			comparable(
				await (
					await request(`${base}${REFERRER_PATH}/`, { user: ALICE, headers: { accept: "application/json" } })
				).json(),
			),
		).toEqual(plain);
		// And Eve sees hers, not Alice's.
		const eve = await (await getJson(base, `?userId=${ALICE}`, EVE)).text();
		for (const secret of [ALICE, "alice_link", "alice_old", "tr_alice_42", ...ALICE_FRIENDS]) {
			expect(eve).not.toContain(secret);
		}
		expect(JSON.parse(eve)).toMatchObject({ userId: EVE, funnel: { totals: { clicks: 6 } } });
	});

	test("not logged in: a 401 page, a 401 JSON answer, or a 303 to loginUrl with next", async () => {
		const { base } = await setUp();
		const page = await getPage(base, "?days=7", null);
		expect(page.status).toBe(401);
		expect(page.headers.get("cache-control")).toBe("private, no-store");
		const html = await page.text();
		expect(html).toContain("<h1>Log in to see your referrals</h1>");
		expect(html).not.toContain(ALICE);
		expect(html).not.toContain("alice_link");
		const json = await getJson(base, "", null);
		expect(json.status).toBe(401);
		expect(await json.json()).toEqual({
			error: { code: "UNAUTHENTICATED", message: "This page shows your own referrals: log in first." },
		});
		// An empty user id is nobody.
		expect((await getPage(base, "", "")).status).toBe(401);
	});

	test("not logged in, with a loginUrl: HTML is sent to it with next; JSON still gets a 401", async () => {
		const { base } = await setUp({ loginUrl: "/login?from=referrals" });
		const page = await getPage(base, "?days=7&link=alice_link", null);
		expect(page.status).toBe(303);
		expect(page.headers.get("cache-control")).toBe("private, no-store");
		expect(location(page)).toBe(
			`/login?from=referrals&next=${encodeURIComponent(`${REFERRER_PATH}?days=7&link=alice_link`)}`,
		);
		expect(await page.text()).toBe("");
		const json = await getJson(base, "", null);
		expect(json.status).toBe(401);
		expect(json.headers.get("location")).toBeNull();
	});

	test("headers: private and never stored, varying by Accept and Cookie, a CSP that allows its one script by hash", async () => {
		const { base } = await setUp();
		const page = await getPage(base);
		const html = await page.text();
		expect(page.headers.get("cache-control")).toBe("private, no-store");
		expect(page.headers.get("vary")).toBe("Accept, Cookie");
		expect(page.headers.get("x-frame-options")).toBe("DENY");
		expect(page.headers.get("x-content-type-options")).toBe("nosniff");
		expect(page.headers.get("referrer-policy")).toBe("same-origin");
		const csp = page.headers.get("content-security-policy") ?? "";
		const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1] as string);
		expect(scripts).toHaveLength(1);
		expect(html.match(/<script/g)).toHaveLength(1);
		const hash = createHash("sha256")
			.update(scripts[0] as string)
			.digest("base64");
		expect(csp).toContain(`script-src 'sha256-${hash}';`);
		expect(csp).toMatch(/^default-src 'none'; /);
		expect(csp).toContain("frame-ancestors 'none'");
		expect(csp).toContain("img-src 'self' data:");
		expect(csp).not.toContain("'unsafe-eval'");
		expect(csp).not.toMatch(/script-src[^;]*'unsafe-inline'/);
		const json = await getJson(base);
		expect(json.headers.get("cache-control")).toBe("private, no-store");
		expect(json.headers.get("vary")).toBe("Accept, Cookie");
		for (const query of ["?days=3", "?link=nope"]) {
			expect((await getPage(base, query)).headers.get("cache-control"), query).toBe("private, no-store");
		}
	});

	test("GET and HEAD only; a period other than 7, 30, 90 or 365 days is a 400", async () => {
		const { base } = await setUp();
		for (const method of ["POST", "PUT", "DELETE", "PATCH"]) {
			const response = await request(`${base}${REFERRER_PATH}`, { method, user: ALICE });
			expect(response.status, method).toBe(405);
			expect(response.headers.get("allow")).toBe("GET, HEAD");
			expect(await response.text()).not.toContain("alice_link");
		}
		const head = await request(`${base}${REFERRER_PATH}`, { method: "HEAD", user: ALICE });
		expect(head.status).toBe(200);
		expect(head.headers.get("content-type")).toBe("text/html; charset=utf-8");
		expect(head.headers.get("cache-control")).toBe("private, no-store");
		expect(await head.text()).toBe("");
		for (const days of ["7", "30", "90", "365"])
			expect((await getPage(base, `?days=${days}`)).status).toBe(200);
		for (const days of ["14", "0", "-7", "abc", "30.0", "030", "1e3", "", "366"]) {
			const page = await getPage(base, `?days=${days}`);
			expect(page.status, days).toBe(400);
			expect(await page.text()).toContain("The period must be one of 7, 30, 90, 365 days.");
			const json = await getJson(base, `?days=${days}`);
			expect(json.status, days).toBe(400);
			expect(((await json.json()) as { error: { code: string } }).error.code).toBe("INVALID_ARGUMENT");
		}
	});

	test("a database failure is a 503 reported to onError, and so is a getUserId that throws", async () => {
		const reported: { error: unknown; operation: string }[] = [];
		const onError = (error: unknown, context: { operation: string }) =>
			reported.push({ error, operation: context.operation });
		const { refkit, base } = await setUp({}, { onError });
		await refkit.close();
		for (const json of [false, true]) {
			const response = json ? await getJson(base) : await getPage(base);
			expect(response.status).toBe(503);
			expect(response.headers.get("cache-control")).toBe("private, no-store");
			const text = await response.text();
			expect(text).toContain("could not be read just now");
			expect(text).not.toMatch(/closed|STORE_UNAVAILABLE|at .*\.ts/);
			if (json) expect(JSON.parse(text)).toMatchObject({ error: { code: "UNAVAILABLE" } });
		}
		expect(reported.map((each) => each.operation)).toEqual(["referrer", "referrer"]);

		const failing = await createTestRefkit(kind, { onError });
		const thrower = await startReferrerApp(adapter, failing, {
			getUserId: () => {
				throw new Error("the session store is down");
			},
		});
		const response = await request(`${thrower}${REFERRER_PATH}`, { user: ALICE });
		expect(response.status).toBe(503);
		expect(await response.text()).not.toContain("session store");
		expect(reported).toHaveLength(3);
		expect(String((reported[2] as { error: unknown }).error)).toContain("the session store is down");
	});

	test("a getUserId that answers no user id (an object, a boolean, NaN) is reported, and shows nobody's page", async () => {
		const reported: unknown[] = [];
		const refkit = await createTestRefkit(kind, { onError: (error) => reported.push(error) });
		for (const wrong of [{ id: ALICE }, true, Number.NaN]) {
			const base = await startReferrerApp(adapter, refkit, { getUserId: () => wrong as never });
			const response = await request(`${base}${REFERRER_PATH}`, { user: ALICE });
			expect(response.status).toBe(503);
		}
		// Before, each became a made-up user ("[object Object]", "true", "NaN") whose page everyone shared.
		expect(await refkit.listLinks()).toEqual([]);
		expect(reported.map((error) => String(error))).toEqual([
			expect.stringMatching(/getUserId must answer the user id as a string or a number.*got object/),
			expect.stringMatching(/got boolean/),
			expect.stringMatching(/got NaN/),
		]);
	});

	test("a user without a link gets one when they open the page, unless createLink is off", async () => {
		const { refkit, base } = await setUp();
		const page = await getPage(base, "", "newcomer-4e");
		expect(page.status).toBe(200);
		const [link] = await refkit.listLinks({ userId: "newcomer-4e" });
		expect(link).toBeDefined();
		expect(await page.text()).toContain(`value="${base}/ref/${link?.identifier}"`);
		// Opening it again gives the same link, not another.
		await getPage(base, "", "newcomer-4e");
		expect(await refkit.listLinks({ userId: "newcomer-4e" })).toHaveLength(1);

		const off = await startReferrerApp(adapter, refkit, { createLink: false });
		const none = await getPage(off, "", "stranger-2b");
		expect(none.status).toBe(200);
		const html = await none.text();
		expect(html).toContain("You have no referral link yet.");
		expect(html).not.toContain('id="refkit-link"');
		expect(await refkit.listLinks({ userId: "stranger-2b" })).toEqual([]);
		const json = (await (await getJson(off, "", "stranger-2b")).json()) as ReferrerSummary;
		expect(json.links).toEqual([]);
	});

	test("the leaderboard, when on, names referrers by displayName or alias, never by user id, escaped", async () => {
		const { refkit, base } = await setUp({
			leaderboard: true,
			displayName: (userId) => (userId === EVE ? MARKUP : userId === ALICE ? "Alice A." : null),
		});
		const html = await (await getPage(base)).text();
		expect(html).toContain('<table class="refkit-leaderboard">');
		expect(html).toMatch(
			/<tr class="refkit-you"><td class="refkit-num">\d<\/td><td>Alice A\. <span class="refkit-tag">You<\/span><\/td>/,
		);
		expect(html).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
		expect(html).not.toContain(MARKUP);
		expect(html).not.toContain(EVE);
		const json = (await (await getJson(base)).json()) as ReferrerSummary;
		expect(JSON.stringify(json)).not.toContain(EVE);
		expect(json.leaderboard?.map((entry) => [entry.name, entry.you])).toEqual(
			expect.arrayContaining([
				["Alice A.", true],
				[MARKUP, false],
			]),
		);
		const summary = await refkit.referrerSummary(ALICE, { leaderboard: true });
		expect(summary.leaderboard?.length).toBe(2);
	});

	test("refuses bad options when it is mounted, with INVALID_OPTION and what to give instead", async () => {
		const refkit = await createTestRefkit(kind);
		const cases: [Record<string, unknown>, RegExp][] = [
			[{ path: "" }, /path must be a path such as "\/account\/referrals"/],
			[{ path: "account" }, /path must be a path/],
			[{ path: "/ref/mine" }, /under refkit's mountPath "\/ref"/],
			[{ loginUrl: "//evil.example/login" }, /loginUrl must be a same-site path/],
			[{ loginUrl: "https://evil.example/login" }, /loginUrl must be a same-site path/],
			[{ stylesheet: "https://cdn.example/x.css" }, /stylesheet must be a same-site path/],
			[{ baseUrl: "https://example.com/app" }, /baseUrl must be an origin such as "https:\/\/example.com"/],
			[{ baseUrl: "ftp://example.com" }, /baseUrl must be an origin/],
			[{ locale: "en_US" }, /locale must be a BCP 47 language tag/],
			[{ locale: 42 }, /locale must be a BCP 47/],
			[{ leaderboard: "yes" }, /leaderboard must be true or false/],
			[{ createLink: 1 }, /createLink must be true or false/],
			[{ displayName: "Ada" }, /displayName must be a function/],
			[{ messages: { titel: "Oops" } }, /has no message "titel"/],
			[{ messages: { title: 42 } }, /message title must be a string/],
			[{ messages: { lastDays: "Last days" } }, /message lastDays must be a function/],
			[{ messages: "fr" }, /messages must be an object/],
			[{ theme: { colour: "red" } }, /theme has no property "colour"/],
			[{ theme: { accent: "red; } body { display: none" } }, /theme.accent must be a CSS value/],
			[{ theme: { accent: "red}" } }, /theme.accent must be a CSS value/],
			[{ theme: { font: "</style><script>alert(1)</script>" } }, /theme.font must be a CSS value/],
			[{ theme: { font: '"Inter, sans-serif' } }, /theme.font must be a CSS value/],
			[{ theme: { font: "Inter /* x" } }, /theme.font must be a CSS value/],
			[{ theme: { text: "red\nblue" } }, /theme.text must be a CSS value/],
			[{ theme: { text: "\\72 ed" } }, /theme.text must be a CSS value/],
			[{ theme: { radius: 4 } }, /theme.radius must be a CSS value/],
			// An open bracket would swallow the declarations after it.
			[{ theme: { accent: "rgb(1, 2, 3" } }, /theme.accent must be a CSS value/],
			[{ theme: { font: "var(--x]" } }, /theme.font must be a CSS value/],
			[{ theme: "dark" }, /theme must be an object/],
		];
		for (const [bad, message] of cases) {
			const options = { path: REFERRER_PATH, getUserId: () => null, ...bad };
			const mount = mounter(adapter, refkit, options);
			await expect(mount(), JSON.stringify(bad)).rejects.toMatchObject({ code: "INVALID_OPTION", message });
		}
		if (adapter === "hono" || adapter === "web") {
			await expect(mounter(adapter, refkit, { path: REFERRER_PATH })()).rejects.toMatchObject({
				code: "INVALID_OPTION",
				message: expect.stringMatching(/needs getUserId/),
			});
		}
		// A safe theme and a same-site stylesheet are taken.
		await expect(
			mounter(adapter, refkit, {
				path: REFERRER_PATH,
				getUserId: () => null,
				theme: { font: '"Inter", system-ui, sans-serif', accent: "rgb(10 125 80)", radius: "4px" },
				stylesheet: "/styles/app.css",
			})(),
		).resolves.toBeUndefined();
	});
});

/** Mounts the page on `adapter` with `options` as they are (checked at mount time), without a server. */
function mounter(
	adapter: AdapterName,
	refkit: Refkit,
	options: Record<string, unknown>,
): () => Promise<void> {
	return async () => {
		switch (adapter) {
			case "express":
				expressPage(refkit, options as never);
				return;
			case "hono":
				honoPage(refkit, options as never);
				return;
			case "web":
				referrerPageHandler(refkit, options as never);
				return;
			case "fastify": {
				const { default: Fastify } = await import("fastify");
				const app = Fastify();
				try {
					await app.register(refkitReferrerPagePlugin, { refkit, ...options } as never);
					await app.ready();
				} finally {
					await app.close();
				}
			}
		}
	};
}

describe.each(DATABASES)("the referrer page's texts, language and look, on %s", (kind: DatabaseKind) => {
	async function setUp(options: ReferrerTestOptions = {}, adapter: AdapterName = "express") {
		const refkit = await createTestRefkit(kind, PROGRAMS);
		await seed(refkit);
		return { refkit, base: await startReferrerApp(adapter, refkit, options) };
	}

	test("messages replace its texts, and the defaults they replace are gone", async () => {
		const { base } = await setUp({
			messages: {
				title: "Vos parrainages",
				copy: "Copier le lien",
				copied: "Copié",
				clicks: "Clics",
				goal: (goal) => (goal === "signup" ? "Inscriptions" : goal),
				lastDays: (days) => `${days} derniers jours`,
				referralName: (alias) => `Filleul ${alias}`,
				goalRule: ({ referrer, action }) => `Vous gagnez ${referrer} quand un filleul ${action}.`,
				goalAction: () => "s'inscrit",
				unauthenticatedTitle: "Connectez-vous",
			},
		});
		const html = await (await getPage(base)).text();
		expect(html).toContain("<title>Vos parrainages</title>");
		expect(html).toContain("<h1>Vos parrainages</h1>");
		expect(html).toMatch(/data-copied="Copié"[^>]*>Copier le lien<\/button>/);
		expect(html).toContain("<dt>Clics</dt>");
		expect(html).toContain("<dt>Inscriptions</dt>");
		expect(html).toContain("30 derniers jours</a>");
		expect(html).toMatch(/<td>Filleul [0-9a-f]{6}<\/td>/);
		expect(html).toContain("<li>Vous gagnez $5.00 quand un filleul s&#39;inscrit.</li>");
		for (const english of [
			"Your referrals",
			"Copy link",
			"<dt>Clicks</dt>",
			"Sign-ups",
			"Last 30 days",
			"Referral #",
		]) {
			expect(html).not.toContain(english);
		}
		expect(await (await getPage(base, "", null)).text()).toContain("<h1>Connectez-vous</h1>");
	});

	test("the locale formats its numbers, money and dates, and is the page's language", async () => {
		const { base } = await setUp({ locale: "de-DE" });
		const html = await (await getPage(base)).text();
		expect(html).toContain('<html lang="de-DE">');
		const euros = new Intl.NumberFormat("de-DE", { style: "currency", currency: "USD" });
		expect(html).toContain(`>${euros.format(20)}</span>`);
		expect(html).toContain(`You earn ${euros.format(5)} when someone you refer signs up`);
		const today = new Intl.DateTimeFormat("de-DE", { dateStyle: "medium", timeZone: "UTC" }).format(
			new Date(),
		);
		expect(html).toContain(`– ${today} (UTC)`);
		expect(html).toContain(`${new Intl.NumberFormat("de-DE", { style: "percent" }).format(1)} of clicks`);
	});

	test("a theme sets the custom properties, and the application's stylesheet comes after refkit's", async () => {
		const { base } = await setUp({
			theme: { accent: "#0a7d50", font: '"Inter", sans-serif', radius: "4px" },
			stylesheet: "/styles/app.css",
		});
		const page = await getPage(base);
		const html = await page.text();
		expect(html).toContain(
			':root { --refkit-accent: #0a7d50; --refkit-font: "Inter", sans-serif; --refkit-radius: 4px; }',
		);
		expect(html.indexOf('<link rel="stylesheet" href="/styles/app.css">')).toBeGreaterThan(
			html.indexOf("</style>"),
		);
		expect(page.headers.get("content-security-policy")).toContain("style-src 'unsafe-inline' 'self';");
		// Without a stylesheet, no style comes from anywhere but the page.
		const plain = await setUp();
		const csp = (await getPage(plain.base)).headers.get("content-security-policy");
		expect(csp).toContain("style-src 'unsafe-inline';");
	});

	test("referred users are named by displayName, escaped, and masked without it", async () => {
		const { base } = await setUp({
			displayName: (userId) => (userId === "friend-a1-7c" ? MARKUP : null),
		});
		const html = await (await getPage(base)).text();
		expect(html).toContain("<td>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</td>");
		expect(html).not.toContain(MARKUP);
		expect(html).toMatch(/<td>Referral #[0-9a-f]{6}<\/td>/);
	});

	test("two programs of one currency state the minimum payout that applies to both: the higher", async () => {
		const rules = [{ on: "goal" as const, goal: "signup", referrer: 500 }];
		const refkit = await createTestRefkit(kind, {
			programs: [
				{ id: "main", currency: "USD", minimumPayout: 1000, rules },
				{ id: "vip", currency: "USD", minimumPayout: 5000, rules },
				{ id: "euro", currency: "EUR", minimumPayout: 2000, rules },
			],
		});
		await refkit.createLink({ identifier: "ada_main", userId: "ada" });
		await refkit.createLink({ identifier: "ada_vip", userId: "ada", program: "vip" });
		await refkit.createLink({ identifier: "ada_euro", userId: "ada", program: "euro" });
		const html = await (await getPage(await startReferrerApp("express", refkit), "", "ada")).text();
		const said = [...html.matchAll(/Payouts are made once your payable balance reaches ([^<]+)\./g)].map(
			(match) => match[1],
		);
		// createPayouts() pays a currency's earnings of every program once they reach the highest minimum.
		expect(said).toEqual(["$50.00", "$50.00", "€20.00"]);
	});

	test("baseUrl makes the links' URLs, whatever Host the request came with", async () => {
		const { base } = await setUp({ baseUrl: "https://shop.example" });
		const html = await (await getPage(base)).text();
		expect(html).toContain('value="https://shop.example/ref/alice_link"');
		expect(html).toContain(encodeURIComponent("https://shop.example/ref/alice_link"));
	});

	test.each(["express", "fastify"] as const)(
		"on %s, the user is req.user.id by default, as Passport sets it",
		async (adapter) => {
			const { base } = await setUp({ passport: true }, adapter);
			const json = (await (await getJson(base)).json()) as ReferrerSummary;
			expect(json.userId).toBe(ALICE);
			expect((await getPage(base, "", null)).status).toBe(401);
		},
	);
});
