import { randomUUID } from "node:crypto";
import { describe, expect, test } from "vitest";
import { dashboardHandler } from "../../src/adapters/web.js";
import type { Refkit } from "../../src/index.js";
import { adminSession, get, post } from "../setup/dashboard.js";
import { createTestRefkit, DATABASES, freshDatabaseUrl } from "../setup/databases.js";
import { anonymousHitRow, insertRows, visit, visitorCookie } from "../setup/direct.js";
import { ADAPTERS, BROWSER_AGENT, DASHBOARD_PATH, location, startApp, USER_HEADER } from "../setup/http.js";

const MATRIX = ADAPTERS.flatMap((adapter) => DATABASES.map((kind) => [adapter, kind] as const));
const MARKUP = `<script>alert("x")</script>`;

/** Alice's link, a visit claimed by Bob, and Bob's signup: something for every page to show. */
async function seed(refkit: Refkit) {
	await refkit.createLink({ identifier: "alice_link", userId: "alice" });
	const cookie = visitorCookie(await visit(refkit, "/ref/alice_link"));
	await refkit.claim(cookie.split("=")[1], "bob");
	const result = await refkit.confirm({ userId: "bob", goal: "signup" });
	if (result.status !== "converted") throw new Error(result.status);
	return result.conversion;
}

describe.each(MATRIX)("the dashboard on %s with %s", (adapter, kind) => {
	async function setUp() {
		const refkit = await createTestRefkit(kind);
		const base = await startApp(adapter, refkit);
		return { refkit, base };
	}

	test("estimated counts show as estimates", async () => {
		const database = await freshDatabaseUrl(kind);
		const refkit = await createTestRefkit(kind, { database });
		const base = await startApp(adapter, refkit);
		const link = await refkit.createLink({ identifier: "viral", userId: "alice" });
		const at = new Date(Date.now() - 2 * 24 * 60 * 60 * 1000).toISOString();
		const hits = Array.from({ length: 2_500 }, () => anonymousHitRow(kind, link.id, randomUUID(), at));
		await insertRows(kind, database, "refkit_hit", hits);
		const html = await (await get(base, "/")).text();
		expect(html).toMatch(/Unique visitors<\/div><div class="value">≈ 2,[45]\d\d</);
		expect(html).toContain("estimated, within about 1 %");
		expect(html).toMatch(/Hits<\/div><div class="value">2,500</);
	});

	test("denies anyone authorize refuses, showing no data", async () => {
		const { refkit, base } = await setUp();
		await seed(refkit);
		for (const user of [null, "alice"]) {
			for (const path of ["/", "/links", "/links/alice_link", "/hits", "/hits.csv", "/conversions.csv"]) {
				const response = await get(base, path, user);
				expect(response.status, `${path} as ${user}`).toBe(403);
				expect(await response.text()).not.toContain("alice_link");
			}
			const created = await post(
				base,
				"/links",
				{ identifier: "sneaky" },
				{ headers: { [USER_HEADER]: user ?? "" } },
			);
			expect(created.status).toBe(403);
		}
		expect(await refkit.getLink("sneaky")).toBeNull();
	});

	test("every page answers the admin, with the numbers in the chart and in a table", async () => {
		const { refkit, base } = await setUp();
		const conversion = await seed(refkit);
		const overview = await get(base, "/");
		expect(overview.status).toBe(200);
		expect(overview.headers.get("content-type")).toMatch(/text\/html/);
		const html = await overview.text();
		expect(html).toMatch(/<svg[^>]*role="img"/);
		expect(html).toContain("<title id=");
		expect(html).toContain("Hits per day");
		expect(html).toMatch(
			/<td><a href="\/admin\/refkit\/links\?search=alice">alice<\/a><\/td><td class="num">1<\/td><td class="num">1<\/td>/,
		);
		for (const path of [
			"/?days=90",
			"/links",
			"/links/alice_link",
			"/hits",
			"/conversions",
			"/hits?authenticated=no&link=alice_link",
		]) {
			const response = await get(base, path);
			expect(response.status, path).toBe(200);
		}
		expect(await (await get(base, "/conversions?status=active")).text()).toContain(conversion.id);
		expect(await (await get(base, "/conversions?status=reversed")).text()).not.toContain(conversion.id);
	});

	test("creating, disabling and enabling a link need a valid CSRF token", async () => {
		const { refkit, base } = await setUp();
		const session = await adminSession(base);
		const forged = await post(
			base,
			"/links",
			{ identifier: "forged", _csrf: "x".repeat(43) },
			{ cookie: session.cookie },
		);
		expect(forged.status).toBe(403);
		const noCookie = await post(base, "/links", { identifier: "forged", _csrf: session.token });
		expect(noCookie.status).toBe(403);
		const crossSite = await post(
			base,
			"/links",
			{ identifier: "forged", _csrf: session.token },
			{ cookie: session.cookie, headers: { origin: "https://evil.example" } },
		);
		expect(crossSite.status).toBe(403);
		expect(await refkit.getLink("forged")).toBeNull();

		const created = await post(
			base,
			"/links",
			{ identifier: "spring", userId: "carol", target: "/pricing", _csrf: session.token },
			{ cookie: session.cookie },
		);
		expect(created.status).toBe(303);
		expect(location(created)).toBe(`${DASHBOARD_PATH}/links/spring?done=created`);
		expect(await refkit.getLink("spring")).toMatchObject({
			userId: "carol",
			target: "/pricing",
			disabled: false,
		});

		const taken = await post(
			base,
			"/links",
			{ identifier: "spring", _csrf: session.token },
			{ cookie: session.cookie },
		);
		expect(taken.status).toBe(409);
		expect(await taken.text()).toContain("already exists");
		const offSite = await post(
			base,
			"/links",
			{ target: "https://evil.example", _csrf: session.token },
			{ cookie: session.cookie },
		);
		expect(offSite.status).toBe(400);

		const disabled = await post(
			base,
			"/links/spring/disable",
			{ _csrf: session.token, back: "/links" },
			{ cookie: session.cookie },
		);
		expect(location(disabled)).toBe(`${DASHBOARD_PATH}/links?done=disabled`);
		expect((await refkit.getLink("spring"))?.disabled).toBe(true);
		const evilBack = await post(
			base,
			"/links/spring/enable",
			{ _csrf: session.token, back: "//evil.example" },
			{ cookie: session.cookie },
		);
		expect(location(evilBack)).toBe(`${DASHBOARD_PATH}/links/spring?done=enabled`);
		expect((await refkit.getLink("spring"))?.disabled).toBe(false);
	});

	test("reversing a conversion takes a reason", async () => {
		const { refkit, base } = await setUp();
		const conversion = await seed(refkit);
		const session = await adminSession(base);
		const noReason = await post(
			base,
			`/conversions/${conversion.id}/reverse`,
			{ _csrf: session.token },
			{ cookie: session.cookie },
		);
		expect(noReason.status).toBe(400);
		const reversed = await post(
			base,
			`/conversions/${conversion.id}/reverse`,
			{ _csrf: session.token, reason: "refund", back: "/conversions" },
			{ cookie: session.cookie },
		);
		expect(reversed.status).toBe(303);
		expect((await refkit.getConversion(conversion.id))?.reversalReason).toBe("refund");
		expect(await (await get(base, "/conversions?status=reversed")).text()).toContain(conversion.id);
	});

	test("markup in a user id, User-Agent or Referer shows as text", async () => {
		const { refkit, base } = await setUp();
		await refkit.createLink({ identifier: "xss", userId: MARKUP });
		await refkit.handle({
			method: "GET",
			url: "/ref/xss?next=/%22%3E%3Cscript%3E",
			header: (name) =>
				({
					"user-agent": `${BROWSER_AGENT} <img src=x onerror=alert(2)>`,
					referer: `https://x.example/"><script>alert(3)</script>`,
				})[name],
			remoteAddress: "127.0.0.1",
			getUserId: () => `<b onmouseover=alert(4)>`,
		});
		for (const path of ["/", "/links", "/links/xss", "/hits", "/hits?search=%3Cscript%3E"]) {
			const body = await (await get(base, path)).text();
			expect(body, path).not.toMatch(/<script>alert|<img src=x|<b onmouseover/);
		}
		const hits = await (await get(base, "/hits")).text();
		expect(hits).toContain("&lt;img src=x onerror=alert(2)&gt;");
		expect(hits).toContain("&lt;b onmouseover=alert(4)&gt;");
		expect(await (await get(base, "/links")).text()).toContain(
			"&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;",
		);
	});

	test("CSV exports stream every matching row, with formulas defused", async () => {
		const { refkit, base } = await setUp();
		await seed(refkit);
		await visit(refkit, `/ref/alice_link?next=${encodeURIComponent('=HYPERLINK("https://evil.example")')}`);
		const response = await get(base, "/hits.csv?link=alice_link");
		expect(response.status).toBe(200);
		expect(response.headers.get("content-type")).toMatch(/^text\/csv/);
		expect(response.headers.get("content-disposition")).toMatch(/attachment; filename="refkit-hits-/);
		const lines = (await response.text()).trimEnd().split("\r\n");
		expect(lines[0]).toBe(
			"time,link,source,authenticated,user_id,visitor_id,ip,user_agent,referer,next,confirmed_at,id",
		);
		expect(lines).toHaveLength(3);
		expect(lines.join("\n")).toContain(`"'=HYPERLINK(""https://evil.example"")`);
		const conversions = (await (await get(base, "/conversions.csv?goal=signup")).text())
			.trimEnd()
			.split("\r\n");
		expect(conversions).toHaveLength(2);
		expect(conversions[1]).toContain(",signup,bob,alice,");
	});

	test("bad input is a 400 or 404 page, never a 500", async () => {
		const { refkit, base } = await setUp();
		await seed(refkit);
		const cases: [string, number][] = [
			["/links?page=abc", 400],
			["/links?page=0", 400],
			["/links?status=maybe", 400],
			["/?days=7", 400],
			["/hits?from=yesterday", 400],
			["/hits?from=2026-02-30", 400],
			["/hits?link=no%20such", 400],
			["/hits?authenticated=perhaps", 400],
			["/conversions?status=lost", 400],
			["/links/nope", 404],
			["/links/%E0%A4%A", adapter === "fastify" ? 400 : 404],
			["/no/such/page", 404],
		];
		for (const [path, status] of cases) {
			const response = await get(base, path);
			expect(response.status, path).toBe(status);
		}
		const session = await adminSession(base);
		const missing = await post(
			base,
			"/conversions/00000000-0000-4000-8000-000000000000/reverse",
			{ _csrf: session.token, reason: "x" },
			{ cookie: session.cookie },
		);
		expect(missing.status).toBe(404);
		const unknownToggle = await post(
			base,
			"/links/nope/disable",
			{ _csrf: session.token },
			{ cookie: session.cookie },
		);
		expect(unknownToggle.status).toBe(404);
	});
});

describe.each(DATABASES)("dashboard options on %s", (kind) => {
	test("without authorize every request is refused; a throwing authorize is reported and refused", async () => {
		const reported: unknown[] = [];
		const refkit = await createTestRefkit(kind, { onError: (error) => reported.push(error) });
		const closed = dashboardHandler(refkit, { path: "/admin/refkit" });
		expect((await closed(new Request("http://app.example/admin/refkit/")))?.status).toBe(403);
		expect(await closed(new Request("http://app.example/elsewhere"))).toBeNull();
		const broken = dashboardHandler(refkit, {
			path: "/admin/refkit/",
			authorize: () => {
				throw new Error("session store down");
			},
		});
		expect((await broken(new Request("http://app.example/admin/refkit")))?.status).toBe(403);
		expect(reported).toHaveLength(1);
	});

	test("lists page through fifty rows at a time", async () => {
		const refkit = await createTestRefkit(kind);
		for (let i = 0; i < 55; i++)
			await refkit.createLink({ identifier: `link_${String(i).padStart(2, "0")}` });
		const dashboard = dashboardHandler(refkit, { path: "/admin/refkit", authorize: () => true });
		const page = async (query: string) =>
			(await dashboard(new Request(`http://app.example/admin/refkit/links${query}`)))?.text();
		const first = (await page("")) ?? "";
		expect(first.match(/<tr><td><a href="\/admin\/refkit\/links\/link_/g)).toHaveLength(50);
		expect(first).toContain('href="/admin/refkit/links?page=2" rel="next"');
		const second = (await page("?page=2")) ?? "";
		expect(second.match(/<tr><td><a href="\/admin\/refkit\/links\/link_/g)).toHaveLength(5);
		expect(second).toContain("link_00");
		expect(second).not.toContain('rel="next"');
		expect(second).toContain('href="/admin/refkit/links" rel="prev"');
	});

	test("a malformed path or authorize is an INVALID_OPTION", async () => {
		const refkit = await createTestRefkit(kind);
		expect(() => dashboardHandler(refkit, { path: "admin" })).toThrow(/path must be a path/);
		expect(() => dashboardHandler(refkit, { path: "/admin", authorize: "yes" as never })).toThrow(
			/authorize must be a function/,
		);
	});
});
