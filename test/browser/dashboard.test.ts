import { existsSync, mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { DATABASES, freshDatabaseUrl } from "../setup/databases.js";
import { startDemo } from "../setup/demo.js";
import { seedShowcase } from "../setup/seed.js";

/** Debian's Chromium, which `.ci/run` installs with apt: browser tests never download a browser. */
const CHROMIUM = process.env.REFKIT_CHROMIUM ?? "/usr/bin/chromium";
/** `UPDATE_SCREENSHOTS=1 npm test` refreshes the README's screenshots in docs/; otherwise they go to a temp dir. */
const SCREENSHOTS = process.env.UPDATE_SCREENSHOTS
	? fileURLToPath(new URL("../../docs/", import.meta.url))
	: mkdtempSync(join(tmpdir(), "refkit-screens-"));

let browser: Browser;
beforeAll(async () => {
	if (!existsSync(CHROMIUM)) {
		throw new Error(
			`Chromium is not at ${CHROMIUM}: run \`apt-get install chromium\` (or set REFKIT_CHROMIUM).`,
		);
	}
	browser = await chromium.launch({
		executablePath: CHROMIUM,
		args: [
			"--headless",
			"--no-sandbox",
			"--disable-gpu",
			"--disable-quic",
			"--no-first-run",
			"--disable-background-networking",
			"--disable-component-update",
			"--disable-sync",
		],
	});
	mkdirSync(SCREENSHOTS, { recursive: true });
});
afterAll(async () => {
	await browser?.close();
});

/** A fresh browser profile, logged in to the demo as `username`; page errors fail the test. */
async function loggedIn(base: string, username: string): Promise<{ page: Page; errors: string[] }> {
	const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
	const page = await context.newPage();
	const errors: string[] = [];
	page.on("pageerror", (error) => errors.push(error.message));
	// Script errors and refused content (CSP) fail the test; a 403 or a missing favicon is not an error of the page.
	page.on("console", (message) => {
		if (message.type() === "error" && !message.text().startsWith("Failed to load resource"))
			errors.push(message.text());
	});
	await page.goto(`${base}/`);
	await page.getByLabel("Your name").fill(username);
	await page.getByRole("button", { name: "Log in" }).click();
	await page.getByRole("heading", { name: `Hello, ${username}` }).waitFor();
	return { page, errors };
}

describe.each(DATABASES)("the dashboard in Chromium, on %s", (kind) => {
	test("a non-admin is refused", async () => {
		const { base } = await startDemo(await freshDatabaseUrl(kind));
		const { page, errors } = await loggedIn(base, "mallory");
		const response = await page.goto(`${base}/admin/refkit`);
		expect(response?.status()).toBe(403);
		await expect(page.getByRole("heading", { name: "Forbidden" }).isVisible()).resolves.toBe(true);
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
});
