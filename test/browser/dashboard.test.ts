import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { BrowserContextOptions, Page } from "playwright-core";
import { describe, expect, test } from "vitest";
import { demoLogin, openPage, useChromium } from "../setup/browser.js";
import { DATABASES, freshDatabaseUrl } from "../setup/databases.js";
import { startDemo } from "../setup/demo.js";
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
