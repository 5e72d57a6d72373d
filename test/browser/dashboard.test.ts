import { mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { BrowserContextOptions, Page } from "playwright-core";
import { describe, expect, test } from "vitest";
import { demoLogin, openPage, PERSON_AGENT, useChromium } from "../setup/browser.js";
import { createTestRefkit, DATABASES, freshDatabaseUrl } from "../setup/databases.js";
import { startDemo } from "../setup/demo.js";
import { ADMIN, DASHBOARD_PATH, startApp, USER_HEADER } from "../setup/http.js";
import { PROGRAMS, seedLedger } from "../setup/ledger.js";
import { seedShowcase } from "../setup/seed.js";

/** `UPDATE_SCREENSHOTS=1 npm test` refreshes docs/dashboard.md's screenshots in docs/; otherwise they go to a temp dir. */
const SCREENSHOTS = process.env.UPDATE_SCREENSHOTS
	? fileURLToPath(new URL("../../docs/", import.meta.url))
	: mkdtempSync(join(tmpdir(), "refkit-screens-"));
mkdirSync(SCREENSHOTS, { recursive: true });

const browser = useChromium();

/** A fresh browser profile, logged in to the demo as `username`; page errors fail the test. */
async function loggedIn(
	base: string,
	username: string,
	options: BrowserContextOptions = {},
): Promise<{ page: Page; errors: string[] }> {
	const opened = await openPage(browser(), options);
	await demoLogin(opened.page, base, username);
	return opened;
}

describe.each(DATABASES)("the dashboard in Chromium, on %s", (kind) => {
	test("a non-admin is refused", async () => {
		const { base } = await startDemo(await freshDatabaseUrl(kind));
		const { page, errors } = await loggedIn(base, "mallory");
		const response = await page.goto(`${base}/admin/refkit`);
		expect(response?.status()).toBe(403);
		await expect(page.getByRole("heading", { name: "Forbidden" }).isVisible()).resolves.toBe(true);
		// A way on: the application's login (the demo's is its home page), or back to the site.
		await page.getByRole("link", { name: "Log in as an administrator" }).click();
		await page.getByRole("heading", { name: "Hello, mallory" }).waitFor();
		expect(errors).toEqual([]);
		await page.context().close();
	});

	test("the admin opens every page, manages links, filters hits and reverses a conversion", async () => {
		const url = await freshDatabaseUrl(kind);
		await seedShowcase(kind, url);
		const { base } = await startDemo(url);
		const { page, errors } = await loggedIn(base, "admin");

		// Overview: totals, two charts with their accessible names, top referrers.
		await page.getByRole("link", { name: "Open the referral dashboard" }).click();
		await page.getByRole("heading", { name: "Overview" }).waitFor();
		const hitsCard = await page.locator(".card", { hasText: "Hits" }).first().locator(".value").textContent();
		const hits = Number(hitsCard?.replace(/,/g, ""));
		expect(hits).toBeGreaterThan(1000);
		await expect(page.getByRole("img", { name: "Hits per day" }).isVisible()).resolves.toBe(true);
		await expect(page.getByRole("img", { name: "Conversions per day" }).isVisible()).resolves.toBe(true);
		expect(await page.locator("table").last().locator("tbody tr").count()).toBeGreaterThan(3);
		await page.screenshot({ path: join(SCREENSHOTS, "dashboard-overview.png"), fullPage: true });
		await page.getByRole("link", { name: "Last 90 days" }).click();
		await expect(page.getByRole("link", { name: "Last 90 days" }).getAttribute("aria-current")).resolves.toBe(
			"true",
		);
		await page.getByText("The numbers as a table").click();
		expect(await page.locator("details table tbody tr").count()).toBe(90);

		// Links: search, create, disable, enable.
		await page.getByRole("navigation", { name: "Dashboard" }).getByRole("link", { name: "Links" }).click();
		await page.getByLabel("Identifier or user").fill("alice");
		await page.getByRole("button", { name: "Filter" }).click();
		expect(await page.locator("main table tbody tr").count()).toBe(1);
		await page.getByLabel("Identifier (empty: generated)").fill("autumn_promo");
		await page.getByLabel("Owner user id").fill("carol");
		await page.getByLabel("Target path").fill("/pricing");
		await page.getByRole("button", { name: "Create link" }).click();
		await page.getByRole("heading", { name: /Link autumn_promo/ }).waitFor();
		await expect(page.getByRole("status").textContent()).resolves.toContain("The link was created.");
		await page.getByRole("button", { name: "Disable" }).click();
		await expect(page.locator("h1 .tag").textContent()).resolves.toBe("disabled");
		await page.getByRole("button", { name: "Enable" }).click();
		await expect(page.locator("h1 .tag").textContent()).resolves.toBe("enabled");

		// One busy link: its numbers, chart and latest activity.
		await page.goto(`${base}/admin/refkit/links/alice_invites`);
		await page.getByRole("heading", { name: /Link alice_invites/ }).waitFor();
		await expect(page.getByRole("img", { name: "Hits per day" }).isVisible()).resolves.toBe(true);
		expect(await page.locator("main table").nth(1).locator("tbody tr").count()).toBe(10);
		await page.screenshot({ path: join(SCREENSHOTS, "dashboard-link.png"), fullPage: true });

		// Hits: filter anonymous visits to one link.
		await page.getByRole("navigation", { name: "Dashboard" }).getByRole("link", { name: "Hits" }).click();
		await page.getByLabel("Link").fill("bob_invites");
		await page.getByLabel("Visitor").selectOption("no");
		await page.getByRole("button", { name: "Filter" }).click();
		await page.waitForURL(/authenticated=no/);
		const rows = page.locator("main table tbody tr");
		expect(await rows.count()).toBeGreaterThan(0);
		for (const link of await rows.locator("td:nth-child(2)").allTextContents())
			expect(link).toBe("bob_invites");
		for (const user of await rows.locator("td:nth-child(3)").allTextContents())
			expect(user).not.toContain("logged in");

		// Conversions: filter purchases and reverse one with a reason.
		await page
			.getByRole("navigation", { name: "Dashboard" })
			.getByRole("link", { name: "Conversions" })
			.click();
		await page.getByLabel("Goal").fill("purchase");
		await page.getByRole("button", { name: "Filter" }).click();
		const first = page.locator("main table tbody tr").first();
		const referred = (await first.locator("td:nth-child(3)").textContent()) ?? "";
		await first.getByPlaceholder("Reason").fill("refund");
		await first.getByRole("button", { name: "Reverse" }).click();
		await expect(page.getByRole("status").textContent()).resolves.toContain("reversed");
		await page.getByLabel("Status").selectOption("reversed");
		await page.getByRole("button", { name: "Filter" }).click();
		const reversedRows = page.locator("main table tbody tr");
		expect(await reversedRows.count()).toBe(1);
		await expect(reversedRows.first().textContent()).resolves.toContain(referred);
		await expect(reversedRows.first().textContent()).resolves.toContain("refund");

		expect(errors).toEqual([]);
		await page.context().close();
	});

	test("on a phone's width the overview fits the screen, with readable whole-number axes", async () => {
		const url = await freshDatabaseUrl(kind);
		await seedShowcase(kind, url);
		const { base } = await startDemo(url);
		const { page, errors } = await loggedIn(base, "admin", {
			viewport: { width: 390, height: 844 },
			deviceScaleFactor: 2,
			isMobile: true,
			hasTouch: true,
		});
		await page.goto(`${base}/admin/refkit`);
		await page.getByRole("heading", { name: "Overview" }).waitFor();
		const layout = await page.evaluate(() => {
			const charts = Array.from(document.querySelectorAll("figure.chart svg")).map((svg) =>
				svg.getBoundingClientRect(),
			);
			const texts = Array.from(document.querySelectorAll("figure.chart svg text"))
				.filter((text) => getComputedStyle(text).display !== "none")
				.map((text) => ({ label: text.textContent ?? "", box: text.getBoundingClientRect() }));
			return {
				scrollWidth: document.documentElement.scrollWidth,
				chartRights: charts.map((box) => Math.round(box.right)),
				smallestText: Math.min(...texts.map((text) => text.box.height)),
				textOutside: texts
					.filter((text) => text.box.left < 0 || text.box.right > window.innerWidth)
					.map((t) => t.label),
			};
		});
		expect(layout.scrollWidth).toBeLessThanOrEqual(390);
		expect(layout.chartRights.length).toBe(2);
		for (const right of layout.chartRights) expect(right).toBeLessThanOrEqual(390);
		expect(layout.textOutside).toEqual([]);
		// Rendered text of about 10 px or more (the box includes a little leading).
		expect(layout.smallestText).toBeGreaterThanOrEqual(10);
		const ticks = await page.locator("figure.chart svg text.tick").allTextContents();
		for (const tick of ticks) expect(tick).toMatch(/^[\d,]+$/);
		await page.screenshot({ path: join(SCREENSHOTS, "dashboard-phone.png"), fullPage: false });
		expect(errors).toEqual([]);
		await page.context().close();
	});
});

describe.each(DATABASES)("the dashboard's ledger pages in Chromium, on %s", (kind) => {
	test("the admin reads the programs, reviews held commissions, runs a payout, downloads it and marks it paid", async () => {
		const refkit = await createTestRefkit(kind, PROGRAMS);
		await seedLedger(refkit);
		const base = `${await startApp("express", refkit)}${DASHBOARD_PATH}`;
		// The test app's dashboard lets in the user its header names: the admin, on every request of this profile.
		const { page, errors } = await openPage(browser(), {
			userAgent: PERSON_AGENT,
			extraHTTPHeaders: { [USER_HEADER]: ADMIN },
		});
		const nav = page.getByRole("navigation", { name: "Dashboard" });

		// Programs: the terms in words, and what is owed per currency.
		await page.goto(`${base}/`);
		await nav.getByRole("link", { name: "Programs" }).click();
		await page.getByRole("heading", { name: "Programs", level: 1 }).waitFor();
		const usd = page.locator("tbody tr", { has: page.locator('th:text-is("USD")') });
		await expect(usd.locator("td").nth(2).textContent()).resolves.toBe("18.00 USD");
		await expect(page.getByText("20 % of each sale to the referrer").isVisible()).resolves.toBe(true);
		await page.screenshot({ path: join(SCREENSHOTS, "dashboard-programs.png"), fullPage: true });

		// Commissions: the held ones.
		await nav.getByRole("link", { name: "Commissions" }).click();
		await page.getByLabel("Status").selectOption("held");
		await page.getByRole("button", { name: "Filter" }).click();
		await page.waitForURL(/status=held/);
		expect(await page.locator("main table tbody tr").count()).toBe(2);

		// Review: reject sus_carol's, release Alice's.
		await nav.getByRole("link", { name: "Review" }).click();
		await page.screenshot({ path: join(SCREENSHOTS, "dashboard-review.png"), fullPage: true });
		const carol = page
			.locator("main table tbody tr", { hasText: "sus_carol" })
			.filter({ hasText: "referred" });
		await carol.getByPlaceholder("Reason").fill("same household");
		await carol.getByRole("button", { name: "Reject" }).click();
		await expect(page.getByRole("status").textContent()).resolves.toContain("rejected");
		await page.getByRole("button", { name: "Release" }).click();
		await expect(page.getByRole("status").textContent()).resolves.toContain("released");
		await page.getByText("No commission is waiting for review.").waitFor();

		// Payouts: a run now pays Alice 20.00; its CSV downloads; it is marked paid.
		await nav.getByRole("link", { name: "Payouts" }).click();
		await page.getByRole("button", { name: "Create a payout run" }).click();
		await expect(page.getByRole("status").textContent()).resolves.toContain("made 1 payout");
		const row = page.locator("main table tbody tr").first();
		await expect(row.locator(".amount").textContent()).resolves.toBe("20.00 USD");
		await page.screenshot({ path: join(SCREENSHOTS, "dashboard-payouts.png"), fullPage: true });
		const [download] = await Promise.all([
			page.waitForEvent("download"),
			page.getByRole("link", { name: "Download the run as CSV" }).click(),
		]);
		expect(download.suggestedFilename()).toMatch(/^refkit-payouts-[0-9a-f]{8}-\d{4}-\d\d-\d\d\.csv$/);
		const csv = readFileSync(await download.path(), "utf8")
			.trimEnd()
			.split("\r\n");
		expect(csv).toHaveLength(2);
		expect(csv[1]).toMatch(/^[0-9a-f-]{36},alice,USD,2000,20\.00,3,created,/);
		await row.getByPlaceholder("Transfer reference").fill("SEPA-0001");
		await row.getByRole("button", { name: "Mark paid" }).click();
		await expect(page.getByRole("status").textContent()).resolves.toContain("marked paid");
		await expect(page.locator("main table tbody tr").first().locator(".tag").textContent()).resolves.toBe(
			"paid",
		);
		expect((await refkit.balances("alice"))[0]).toMatchObject({ paid: 2000, approved: 0, held: 0 });

		// On a phone's width, wide tables scroll in their panel; the page itself fits the screen.
		await page.setViewportSize({ width: 390, height: 844 });
		for (const path of ["/programs", "/commissions", "/review", "/payouts"]) {
			await page.goto(`${base}${path}`);
			const width = await page.evaluate(() => document.documentElement.scrollWidth);
			expect(width, path).toBeLessThanOrEqual(390);
		}

		expect(errors).toEqual([]);
		await page.context().close();
	});
});
