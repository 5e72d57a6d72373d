import { describe, expect, test } from "vitest";
import { createTestRefkit, DATABASES } from "../setup/databases.js";
import {
	ADAPTERS,
	BROWSER_AGENT,
	CONSENT_HEADER,
	deletesCookie,
	location,
	request,
	responseCookie,
	startApp,
} from "../setup/http.js";

const COOKIE = "refkit_visitor";

const MATRIX = ADAPTERS.flatMap((adapter) => DATABASES.map((kind) => [adapter, kind] as const));

describe.each(MATRIX)("%s on %s", (adapter, kind) => {
	async function setUp(options = {}) {
		const refkit = await createTestRefkit(kind, options);
		const base = await startApp(adapter, refkit);
		const link = await refkit.createLink({ identifier: "abc123def", userId: "referrer" });
		return { refkit, base, link };
	}

	describe("following /ref/<identifier> (django-reflinks' tests)", () => {
		test("a logged-out hit redirects to / and records one anonymous hit with a visitor cookie", async () => {
			const { refkit, base } = await setUp();
			const response = await request(`${base}/ref/abc123def`, {
				headers: { "user-agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0" },
			});
			expect(response.status).toBe(302);
			expect(location(response)).toBe("/");

			const hits = await refkit.listHits();
			expect(hits).toHaveLength(1);
			const hit = hits[0];
			expect(hit).toMatchObject({
				identifier: "abc123def",
				authenticated: false,
				userId: null,
				ip: "127.0.0.1",
				userAgent: "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
				next: null,
				confirmedAt: null,
			});
			expect(hit?.visitorId).toMatch(/^[0-9a-f-]{36}$/);

			const cookie = responseCookie(response, COOKIE);
			expect(cookie?.value.split(".")[0]).toBe(hit?.visitorId);
			expect(cookie?.attributes).toMatch(/HttpOnly/);
			expect(cookie?.attributes).toMatch(/Max-Age=31536000/);
			expect(cookie?.attributes).toMatch(/SameSite=Lax/);
			expect(cookie?.attributes).toMatch(/Path=\//);
		});

		test("?next=/foo is honoured and stored", async () => {
			const { refkit, base } = await setUp();
			const response = await request(`${base}/ref/abc123def?next=/foo`);
			expect(response.status).toBe(302);
			expect(location(response)).toBe("/foo");
			expect((await refkit.listHits())[0]?.next).toBe("/foo");
		});

		test("an off-site next is stored as asked but never followed", async () => {
			const { refkit, base } = await setUp();
			const response = await request(`${base}/ref/abc123def?next=${encodeURIComponent("//evil.example/x")}`);
			expect(location(response)).toBe("/");
			expect((await refkit.listHits())[0]?.next).toBe("//evil.example/x");
		});

		test("a link's target is used when no next is given, a safe next wins over it", async () => {
			const { refkit, base } = await setUp();
			await refkit.createLink({ identifier: "sale", target: "/pricing?plan=pro" });
			expect(location(await request(`${base}/ref/sale`))).toBe("/pricing?plan=pro");
			expect(location(await request(`${base}/ref/sale?next=/foo`))).toBe("/foo");
		});

		test("a trailing slash is followed; a HEAD request is redirected but not recorded", async () => {
			const { refkit, base } = await setUp();
			expect((await request(`${base}/ref/abc123def/`)).status).toBe(302);
			const head = await request(`${base}/ref/abc123def?next=/foo`, { method: "HEAD" });
			expect(head.status).toBe(302);
			expect(location(head)).toBe("/foo");
			expect(await refkit.listHits()).toHaveLength(1);
			expect(refkit.counters().hitsSkipped.head).toBe(1);
		});

		test("a logged-in hit is authenticated, keeps its user and Referer, and deletes the cookie", async () => {
			const { refkit, base } = await setUp();
			const response = await request(`${base}/ref/abc123def`, {
				user: "alice",
				headers: { referer: "https://news.example/post" },
			});
			expect(response.status).toBe(302);
			expect(deletesCookie(response, COOKIE)).toBe(true);
			const [hit] = await refkit.listHits();
			expect(hit).toMatchObject({
				authenticated: true,
				userId: "alice",
				visitorId: null,
				referer: "https://news.example/post",
			});
		});

		test("the client IP comes from the socket unless trustProxy says otherwise", async () => {
			const { refkit, base } = await setUp();
			await request(`${base}/ref/abc123def`, { headers: { "x-forwarded-for": "203.0.113.9" } });
			expect((await refkit.listHits())[0]?.ip).toBe("127.0.0.1");

			const trusting = await createTestRefkit(kind, { trustProxy: true });
			await trusting.createLink({ identifier: "abc123def" });
			const trustingBase = await startApp(adapter, trusting);
			await request(`${trustingBase}/ref/abc123def`, {
				headers: { "x-forwarded-for": "203.0.113.9, 10.0.0.1" },
			});
			expect((await trusting.listHits())[0]?.ip).toBe("203.0.113.9");
		});
	});

	describe("unknown, disabled and malformed links", () => {
		const malformed = [
			"nope",
			"a".repeat(51),
			"x".repeat(5000),
			"abc%00def",
			"abc%2Fdef",
			encodeURIComponent("' OR 1=1; DROP TABLE refkit_hit; --"),
			"%E0%A4%A",
			"%",
			"abc-def",
			"%F0%9F%98%80",
		];

		const INVALID_ENCODING = new Set(["%E0%A4%A", "%"]);

		test.each(malformed)("%s records nothing, redirects and leaves the cookie alone", async (identifier) => {
			const { refkit, base } = await setUp();
			const response = await request(`${base}/ref/${identifier}?next=/foo`, { cookie: `${COOKIE}=keep.me` });
			if (adapter === "fastify" && INVALID_ENCODING.has(identifier)) {
				// Fastify's router answers 400 to a path with invalid percent-encoding before any hook runs.
				expect(response.status).toBe(400);
			} else {
				expect(response.status).toBe(302);
				expect(location(response)).toBe("/foo");
			}
			expect(response.headers.getSetCookie()).toEqual([]);
			expect(await refkit.listHits()).toHaveLength(0);
		});

		test("a disabled link records nothing and redirects to the success URL", async () => {
			const { refkit, base } = await setUp();
			await refkit.disableLink("abc123def");
			const response = await request(`${base}/ref/abc123def`);
			expect(location(response)).toBe("/");
			expect(response.headers.getSetCookie()).toEqual([]);
			expect(await refkit.listHits()).toHaveLength(0);
			await refkit.enableLink("abc123def");
			await request(`${base}/ref/abc123def`);
			expect(await refkit.listHits()).toHaveLength(1);
		});
	});

	describe("claiming anonymous hits at login", () => {
		test("a logged-in request with the cookie claims the hit, deletes the cookie, and a 404 stays 404", async () => {
			const { refkit, base } = await setUp();
			const followed = await request(`${base}/ref/abc123def`);
			const cookie = responseCookie(followed, COOKIE);
			const response = await request(`${base}/no-such-page`, {
				user: "bob",
				cookie: `${COOKIE}=${cookie?.value}`,
			});
			expect(response.status).toBe(404);
			expect(deletesCookie(response, COOKIE)).toBe(true);
			const [hit] = await refkit.listHits();
			expect(hit).toMatchObject({ userId: "bob", authenticated: false });
		});

		test("three anonymous hits from one browser are all claimed at login", async () => {
			const { refkit, base } = await setUp();
			await refkit.createLink({ identifier: "other" });
			const first = await request(`${base}/ref/abc123def`);
			const jar = `${COOKIE}=${responseCookie(first, COOKIE)?.value}`;
			const second = await request(`${base}/ref/other`, { cookie: jar });
			const third = await request(`${base}/ref/abc123def?next=/foo`, { cookie: jar });
			expect(responseCookie(second, COOKIE)?.value).toBe(responseCookie(first, COOKIE)?.value);
			expect(responseCookie(third, COOKIE)?.value).toBe(responseCookie(first, COOKIE)?.value);

			const login = await request(`${base}/`, { user: "carol", cookie: jar });
			expect(login.status).toBe(200);
			const hits = await refkit.listHits();
			expect(hits).toHaveLength(3);
			expect(hits.every((hit) => hit.userId === "carol")).toBe(true);
		});

		test("following a link while logged in claims the earlier anonymous hits too", async () => {
			const { refkit, base } = await setUp();
			const first = await request(`${base}/ref/abc123def`);
			const jar = `${COOKIE}=${responseCookie(first, COOKIE)?.value}`;
			const second = await request(`${base}/ref/abc123def`, { user: "dave", cookie: jar });
			expect(deletesCookie(second, COOKIE)).toBe(true);
			const hits = await refkit.listHits();
			expect(hits.map((hit) => hit.userId)).toEqual(["dave", "dave"]);
		});

		test.each([
			["looks nothing like a uuid"],
			["00000000-0000-0000-0000-000000000000"],
			["00000000-0000-0000-0000-000000000000.AAAA"],
			[""],
			["x".repeat(5000)],
		])("a bad cookie %j is harmless: no error, no claim, cookie deleted", async (bad) => {
			const { refkit, base } = await setUp();
			await request(`${base}/ref/abc123def`);
			const response = await request(`${base}/foo`, { user: "erin", cookie: `${COOKIE}=${bad}` });
			expect(response.status).toBe(200);
			expect(deletesCookie(response, COOKIE)).toBe(true);
			expect((await refkit.listHits())[0]?.userId).toBeNull();
		});

		test("a forged cookie (another visitor's id without a valid signature) claims nothing", async () => {
			const { refkit, base } = await setUp();
			const victim = responseCookie(await request(`${base}/ref/abc123def`), COOKIE)?.value ?? "";
			const visitorId = victim.split(".")[0];
			const forgeries = [
				visitorId,
				`${visitorId}.`,
				`${visitorId}.${"A".repeat(43)}`,
				`${visitorId}.${victim.split(".")[1]?.slice(0, -1)}B`,
			];
			for (const forged of forgeries) {
				const response = await request(`${base}/foo`, { user: "mallory", cookie: `${COOKIE}=${forged}` });
				expect(response.status).toBe(200);
				expect(deletesCookie(response, COOKIE)).toBe(true);
			}
			const signedElsewhere = await createTestRefkit(kind, { secret: "another-secret-".repeat(4) });
			await signedElsewhere.createLink({ identifier: "abc123def" });
			const elsewhere = responseCookie(
				await request(`${await startApp(adapter, signedElsewhere)}/ref/abc123def`),
				COOKIE,
			);
			await request(`${base}/foo`, { user: "mallory", cookie: `${COOKIE}=${elsewhere?.value}` });
			expect((await refkit.listHits())[0]?.userId).toBeNull();
		});

		test("refkit.claim() gives a visitor's hits to a user from a signup handler", async () => {
			const { refkit, base } = await setUp();
			const cookie = responseCookie(await request(`${base}/ref/abc123def`), COOKIE)?.value;
			await request(`${base}/ref/abc123def`, { cookie: `${COOKIE}=${cookie}` });
			expect(await refkit.claim(cookie, "frank")).toBe(2);
			expect(await refkit.claim(cookie, "someone-else")).toBe(0);
			expect(await refkit.claim("forged.cookie", "frank")).toBe(0);
			expect(await refkit.claim(undefined, "frank")).toBe(0);
			expect((await refkit.listHits()).map((hit) => hit.userId)).toEqual(["frank", "frank"]);
		});

		test("an anonymous request with the cookie is left alone", async () => {
			const { base } = await setUp();
			const cookie = responseCookie(await request(`${base}/ref/abc123def`), COOKIE)?.value;
			const response = await request(`${base}/foo`, { cookie: `${COOKIE}=${cookie}` });
			expect(response.status).toBe(200);
			expect(response.headers.getSetCookie()).toEqual([]);
		});
	});

	test("every redirect refkit sends is private, no-store: no shared cache may keep one visitor's", async () => {
		const { refkit, base } = await setUp();
		const visitor = responseCookie(await request(`${base}/ref/abc123def`), COOKIE)?.value;
		const responses = {
			follow: await request(`${base}/ref/abc123def?next=/foo`),
			"logged-in follow with a claim": await request(`${base}/ref/abc123def`, {
				user: "bob",
				cookie: `${COOKIE}=${visitor}`,
			}),
			"unknown link": await request(`${base}/ref/nope`),
			bot: await request(`${base}/ref/abc123def`, { headers: { "user-agent": "curl/8.5.0" } }),
			head: await request(`${base}/ref/abc123def`, { method: "HEAD" }),
			"?ref=": await request(`${base}/foo?ref=abc123def`),
		};
		const seen = Object.fromEntries(
			Object.entries(responses).map(([name, response]) => [
				name,
				[response.status, response.headers.get("cache-control")],
			]),
		);
		expect(seen).toEqual(
			Object.fromEntries(Object.keys(responses).map((name) => [name, [302, "private, no-store"]])),
		);
		// The application's own pages keep their own caching.
		expect((await request(`${base}/foo`)).headers.get("cache-control")).not.toBe("private, no-store");
		expect(await refkit.listHits()).toHaveLength(3);
	});

	describe("the browser cookie: self-referrals from the owner's own browser", () => {
		/** A browser: the cookies the app set, sent back on each request, as a browser keeps them. */
		function browser(base: string) {
			const jar = new Map<string, string>();
			return {
				jar,
				async get(path: string, user?: string) {
					const cookie = [...jar].map(([name, value]) => `${name}=${value}`).join("; ");
					const response = await request(`${base}${path}`, { ...(user ? { user } : {}), cookie });
					for (const header of response.headers.getSetCookie()) {
						const [pair = ""] = header.split(";");
						const [name = "", value = ""] = pair.split("=");
						if (value === "" || /Max-Age=0/i.test(header)) jar.delete(name);
						else jar.set(name, pair.slice(name.length + 1));
					}
					return response;
				},
			};
		}

		test("alice follows her own link logged in, logs out, follows it again and signs up as alice2: no credit", async () => {
			const { refkit, base } = await setUp();
			await refkit.createLink({ identifier: "alice_link", userId: "alice" });
			const hers = browser(base);
			await hers.get("/ref/alice_link", "alice"); // logged in: a browser cookie, recorded on her hit
			expect(hers.jar.has("refkit_browser")).toBe(true);
			expect(hers.jar.has(COOKIE)).toBe(false);
			await hers.get("/ref/alice_link"); // logged out: a visitor cookie too
			expect(hers.jar.has(COOKIE)).toBe(true);
			await hers.get("/foo", "alice2"); // signs up as alice2: the visit is claimed, the visitor cookie goes
			expect(hers.jar.has(COOKIE)).toBe(false);
			expect(hers.jar.has("refkit_browser")).toBe(true);
			expect((await refkit.listHits({ userId: "alice2" })).map((hit) => hit.identifier)).toEqual([
				"alice_link",
			]);
			expect(await refkit.confirm({ userId: "alice2", goal: "signup" })).toEqual({ status: "self-referral" });

			// Someone else, in a browser of their own, is credited to alice as usual.
			const bobs = browser(base);
			await bobs.get("/ref/alice_link");
			await bobs.get("/foo", "bob");
			expect(await refkit.confirm({ userId: "bob", goal: "signup" })).toMatchObject({
				status: "converted",
				referrerUserId: "alice",
			});
		});

		test("the same when alice first followed a link anonymously and logged in there", async () => {
			const { refkit, base } = await setUp();
			await refkit.createLink({ identifier: "alice_link", userId: "alice" });
			const hers = browser(base);
			const first = await hers.get("/ref/abc123def"); // anonymous: one cookie, as before
			expect(first.headers.getSetCookie()).toHaveLength(1);
			await hers.get("/foo", "alice"); // logging in claims the visit; the browser keeps a browser cookie
			expect([hers.jar.has(COOKIE), hers.jar.has("refkit_browser")]).toEqual([false, true]);
			await hers.get("/ref/alice_link");
			await hers.get("/foo", "alice2");
			expect(await refkit.confirm({ userId: "alice2", goal: "signup" })).toEqual({ status: "self-referral" });
		});

		test("a forged or altered browser cookie is replaced, never trusted; without consent it is deleted", async () => {
			const { refkit, base } = await setUp();
			const forged = "01a24e00-0000-7000-8000-000000000000.AAAA";
			const response = await request(`${base}/ref/abc123def`, {
				user: "zoe",
				cookie: `refkit_browser=${forged}`,
			});
			const issued = responseCookie(response, "refkit_browser");
			expect(issued?.value).toMatch(/^[0-9a-f-]{36}\.[A-Za-z0-9_-]{43}$/);
			expect(issued?.value.startsWith("01a24e00-0000-7000-8000-000000000000")).toBe(false);
			expect(issued?.attributes).toMatch(/HttpOnly/);
			// A visitor cookie's value is no browser cookie's: signed apart.
			const visitor = responseCookie(await request(`${base}/ref/abc123def`), COOKIE)?.value as string;
			const swapped = await request(`${base}/ref/abc123def`, {
				user: "zoe",
				cookie: `refkit_browser=${visitor}`,
			});
			expect(responseCookie(swapped, "refkit_browser")?.value).not.toBe(visitor);
			// A valid one is kept: no new cookie.
			const kept = await request(`${base}/ref/abc123def`, {
				user: "zoe",
				cookie: `refkit_browser=${issued?.value}`,
			});
			expect(responseCookie(kept, "refkit_browser")).toBeUndefined();
			const refused = await request(`${base}/ref/abc123def`, {
				cookie: `refkit_browser=${issued?.value}`,
				headers: { [CONSENT_HEADER]: "no" },
			});
			expect(deletesCookie(refused, "refkit_browser")).toBe(true);
			expect(await refkit.listHits()).toHaveLength(4);
			// A claim without consent deletes both cookies too.
			const claimRefused = await request(`${base}/foo`, {
				user: "zoe",
				cookie: `${COOKIE}=${visitor}; refkit_browser=${issued?.value}`,
				headers: { [CONSENT_HEADER]: "no" },
			});
			expect([deletesCookie(claimRefused, COOKIE), deletesCookie(claimRefused, "refkit_browser")]).toEqual([
				true,
				true,
			]);
		});
	});

	describe("bots, link previews and repeats", () => {
		const agents = {
			bot: "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
			preview: "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
		};

		test("bots, previews and a missing User-Agent are redirected like people but not recorded", async () => {
			const { refkit, base } = await setUp();
			await refkit.createLink({ identifier: "sale", target: "/pricing" });
			const asked: { headers: Record<string, string>; reason: string }[] = [
				{ headers: { "user-agent": agents.bot }, reason: "bot" },
				{ headers: { "user-agent": "facebookexternalhit/1.1" }, reason: "preview" },
				{ headers: { "user-agent": agents.preview }, reason: "preview" },
				{ headers: { "user-agent": "" }, reason: "bot" },
				{ headers: { purpose: "preview" }, reason: "preview" },
			];
			for (const { headers } of asked) {
				const response = await request(`${base}/ref/sale`, { headers });
				expect(response.status).toBe(302);
				expect(location(response)).toBe("/pricing");
				expect(response.headers.getSetCookie()).toEqual([]);
			}
			expect(await refkit.listHits()).toEqual([]);
			expect(refkit.counters()).toEqual({
				hitsRecorded: 0,
				hitsSkipped: { bot: 2, preview: 3, head: 0, duplicate: 0, consent: 0 },
				hitsDropped: 0,
				errors: 0,
			});
			await request(`${base}/ref/sale`);
			expect(await refkit.listHits()).toHaveLength(1);
			expect(refkit.counters().hitsRecorded).toBe(1);
		});

		test("skipBots: false records bots too", async () => {
			const { refkit, base } = await setUp({ skipBots: false });
			await request(`${base}/ref/abc123def`, { headers: { "user-agent": agents.bot } });
			await request(`${base}/ref/abc123def`, { method: "HEAD" });
			expect((await refkit.listHits()).map((hit) => hit.userAgent).sort()).toEqual(
				[agents.bot, BROWSER_AGENT].sort(),
			);
		});

		test("dedupeWindow keeps one hit per visitor (or user) per link, and still redirects", async () => {
			const { refkit, base } = await setUp({ dedupeWindow: 60_000 });
			await refkit.createLink({ identifier: "other" });
			const first = await request(`${base}/ref/abc123def`);
			const cookie = `${COOKIE}=${responseCookie(first, COOKIE)?.value}`;
			const again = await request(`${base}/ref/abc123def?next=/foo`, { cookie });
			expect(again.status).toBe(302);
			expect(location(again)).toBe("/foo");
			expect(responseCookie(again, COOKIE)?.value).toBe(cookie.split("=")[1]);
			await request(`${base}/ref/other`, { cookie });
			await request(`${base}/ref/abc123def`);
			await request(`${base}/ref/abc123def`, { user: "zoe" });
			await request(`${base}/ref/abc123def`, { user: "zoe" });
			const hits = await refkit.listHits();
			expect(hits).toHaveLength(4);
			expect(refkit.counters().hitsSkipped.duplicate).toBe(2);
		});
	});

	describe("privacy: consent and IP storage", () => {
		const NO = { [CONSENT_HEADER]: "no" };

		test("without consent a visitor is redirected, but no hit and no cookie are stored", async () => {
			const { refkit, base } = await setUp();
			const response = await request(`${base}/ref/abc123def?next=/foo`, { headers: NO });
			expect(response.status).toBe(302);
			expect(location(response)).toBe("/foo");
			expect(response.headers.getSetCookie()).toEqual([]);
			expect(await refkit.listHits()).toEqual([]);
			expect(refkit.counters().hitsSkipped.consent).toBe(1);
		});

		test("withdrawn consent deletes the visitor cookie and claims nothing", async () => {
			const { refkit, base } = await setUp();
			const first = await request(`${base}/ref/abc123def`);
			const cookie = `${COOKIE}=${responseCookie(first, COOKIE)?.value}`;
			const followed = await request(`${base}/ref/abc123def`, { cookie, headers: NO });
			expect(deletesCookie(followed, COOKIE)).toBe(true);
			const page = await request(`${base}/`, { cookie, user: "zoe", headers: NO });
			expect(page.status).toBe(200);
			expect(deletesCookie(page, COOKIE)).toBe(true);
			const hits = await refkit.listHits();
			expect(hits).toHaveLength(1);
			expect(hits[0]?.userId).toBeNull();
		});

		test.each([
			["full", "2001:db8:85a3:8d3:1319:8a2e:370:7348", "203.0.113.9"],
			["truncate", "2001:db8:85a3::", "203.0.113.0"],
			["none", null, null],
		] as const)("ip: %s stores %s and %s", async (ip, v6, v4) => {
			const { refkit, base } = await setUp({ ip, trustProxy: true });
			await request(`${base}/ref/abc123def`, {
				headers: { "x-forwarded-for": "2001:db8:85a3:8d3:1319:8a2e:370:7348" },
			});
			await request(`${base}/ref/abc123def`, { headers: { "x-forwarded-for": "203.0.113.9" } });
			expect((await refkit.listHits()).map((hit) => hit.ip).sort()).toEqual([v6, v4].sort());
		});
	});

	describe("?ref= on any URL", () => {
		test("GET /foo?ref=X redirects to /ref/X?next=%2Ffoo", async () => {
			const { base } = await setUp();
			const response = await request(`${base}/foo?ref=abc123def`);
			expect(response.status).toBe(302);
			expect(location(response)).toBe("/ref/abc123def?next=%2Ffoo");
		});

		test("a page address too long to come back to is left out: the Location stays bounded", async () => {
			const { base } = await setUp();
			const long = await request(`${base}/foo?ref=abc123def&q=${"%F0%9F%98%80".repeat(300)}`);
			expect([long.status, location(long)]).toEqual([302, "/ref/abc123def"]);
			const followed = await request(`${base}/ref/abc123def?next=/x${"%F0%9F%98%80".repeat(400)}`);
			expect([followed.status, location(followed)]).toEqual([302, "/"]);
			expect(followed.headers.get("location")?.length).toBeLessThan(100);
		});

		test("other query parameters are kept in next, exactly as written", async () => {
			const { base } = await setUp();
			const response = await request(`${base}/foo?a=1&ref=abc123def&b=x%20y`);
			expect(location(response)).toBe(`/ref/abc123def?next=${encodeURIComponent("/foo?a=1&b=x%20y")}`);
		});

		test("following the whole chain records a hit and lands on the page", async () => {
			const { refkit, base } = await setUp();
			const response = await fetch(`${base}/foo?ref=abc123def&a=1`, {
				headers: { "user-agent": BROWSER_AGENT },
			});
			expect(response.status).toBe(200);
			expect(response.url).toBe(`${base}/foo?a=1`);
			expect(await response.text()).toBe("foo");
			expect((await refkit.listHits())[0]?.next).toBe("/foo?a=1");
		});

		test("a POST with ?ref= passes through", async () => {
			const { refkit, base } = await setUp();
			const response = await request(`${base}/foo?ref=abc123def`, { method: "POST" });
			expect(response.status).toBe(200);
			expect(await response.text()).toBe("posted");
			expect(await refkit.listHits()).toHaveLength(0);
		});

		test.each(["nope", "bad-id", "%zz", "", "a".repeat(80)])(
			"an unknown or malformed ?ref=%s passes through",
			async (identifier) => {
				const { base } = await setUp();
				const response = await request(`${base}/foo?ref=${identifier}`);
				expect(response.status).toBe(200);
			},
		);

		test("a disabled link's ?ref= passes through", async () => {
			const { refkit, base } = await setUp();
			await refkit.disableLink("abc123def");
			expect((await request(`${base}/foo?ref=abc123def`)).status).toBe(200);
		});
	});

	test("300 concurrent follows record exactly 300 hits", async () => {
		const { refkit, base } = await setUp();
		const responses = await Promise.all(
			Array.from({ length: 300 }, (_, i) => request(`${base}/ref/abc123def?next=/foo%3Fn%3D${i}`)),
		);
		expect(responses.every((response) => response.status === 302)).toBe(true);
		const hits = await refkit.listHits({ limit: 1000 });
		expect(hits).toHaveLength(300);
		expect(new Set(hits.map((hit) => hit.next)).size).toBe(300);
	});
});
