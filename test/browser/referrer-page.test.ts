import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import jsqr from "jsqr";
import type { BrowserContextOptions, Page } from "playwright-core";
import { PNG } from "pngjs";
import { describe, expect, onTestFinished, test } from "vitest";
import { createRefkit, type ReferrerSummary, type Refkit } from "../../src/index.js";
import { formatViolations, seriousViolations } from "../setup/axe.js";
import { openPage, PERSON_AGENT, useChromium } from "../setup/browser.js";
import { DATABASES, type DatabaseKind, freshDatabaseUrl, TEST_SECRET } from "../setup/databases.js";
import { USER_HEADER } from "../setup/http.js";
import { PROGRAMS, refer } from "../setup/ledger.js";
import { REFERRER_PATH, type ReferrerTestOptions, startReferrerApp } from "../setup/referrer.js";
import { seedShowcase } from "../setup/seed.js";

/**
 * The referrer's page in Chromium: at a desktop's width and a phone's, its copy button, its QR code decoded
 * back to the link, its JSON, and an accessibility audit (axe-core). `UPDATE_SCREENSHOTS=1 npm test`
 * refreshes the screenshots of docs/referrer-page.md and the README in docs/.
 */
const SCREENSHOTS = process.env.UPDATE_SCREENSHOTS
	? fileURLToPath(new URL("../../docs/", import.meta.url))
	: mkdtempSync(join(tmpdir(), "refkit-screens-"));
mkdirSync(SCREENSHOTS, { recursive: true });

const browser = useChromium();

const DESKTOP: BrowserContextOptions = { viewport: { width: 1280, height: 900 } };
const PHONE: BrowserContextOptions = {
	viewport: { width: 360, height: 780 },
	deviceScaleFactor: 2,
	isMobile: true,
	hasTouch: true,
};

/**
 * The showcase's thirty days of visits (alice's link is the busiest), under the ledger tests' programs: alice
 * then refers four users who sign up, two of whom buy, and is paid once.
 */
async function aliceWithHistory(kind: DatabaseKind): Promise<Refkit> {
	const url = await freshDatabaseUrl(kind);
	await seedShowcase(kind, url);
	const refkit = createRefkit({ database: url, secret: TEST_SECRET, ...PROGRAMS });
	onTestFinished(() => refkit.close());
	await refkit.migrate();
	for (const user of ["zed.1", "yan.2", "xia.3", "wes.4"]) await refer(refkit, user, "alice_invites");
	await refkit.recordSale({ externalId: "inv-zed", userId: "zed.1", amount: 4900, currency: "USD" });
	await refkit.recordSale({ externalId: "inv-yan", userId: "yan.2", amount: 19900, currency: "USD" });
	await refkit.createPayouts();
	const [payout] = await refkit.listPayouts({ userId: "alice" });
	if (payout === undefined) throw new Error("alice was not paid");
	await refkit.markPayoutPaid(payout.id, { reference: "SEPA-0042" });
	await refer(refkit, "vic.5", "alice_invites");
	return refkit;
}

/** A page of Chromium as `user` (the test app reads its header), with the clipboard granted on `base`. */
async function asUser(base: string, user: string, options: BrowserContextOptions = {}) {
	const opened = await openPage(browser(), {
		userAgent: PERSON_AGENT,
		extraHTTPHeaders: { [USER_HEADER]: user },
		...options,
	});
	await opened.page.context().grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });
	return opened;
}

/** The text a QR code drawn on the page says, decoded from a screenshot of it. */
async function decodeQr(page: Page): Promise<string | null> {
	const png = PNG.sync.read(await page.locator("svg.refkit-qr-code").screenshot());
	// jsqr is CommonJS: its function is the default export of its module object, in types and at run time alike.
	return jsqr.default(new Uint8ClampedArray(png.data), png.width, png.height)?.data ?? null;
}

/** Whether the page scrolls sideways: its content wider than the window. */
function scrollsSideways(page: Page): Promise<boolean> {
	return page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
}

const options: ReferrerTestOptions = {
	leaderboard: true,
	displayName: (userId) => (userId === "alice" ? "Alice" : userId === "bob" ? "Bob" : null),
};

describe.each(DATABASES)("the referrer's page in Chromium, on %s", (kind) => {
	test("at a desktop's width: the link copied, the QR code read back, no serious accessibility violation", async () => {
		const refkit = await aliceWithHistory(kind);
		const base = await startReferrerApp("express", refkit, options);
		const { page, errors } = await asUser(base, "alice", DESKTOP);
		const response = await page.goto(`${base}${REFERRER_PATH}`);
		expect(response?.status()).toBe(200);
		expect(response?.headers()["cache-control"]).toBe("private, no-store");
		const link = `${base}/ref/alice_invites`;

		await expect(page.getByRole("textbox", { name: "Your referral link" }).inputValue()).resolves.toBe(link);
		await page.getByRole("button", { name: "Copy link" }).click();
		// Announced to screen readers once written.
		await page.getByRole("status").filter({ hasText: "Copied" }).waitFor();
		await expect(page.evaluate(() => navigator.clipboard.readText())).resolves.toBe(link);

		await expect(page.getByRole("img", { name: "QR code of your referral link" }).isVisible()).resolves.toBe(
			true,
		);
		await expect(decodeQr(page)).resolves.toBe(link);

		for (const network of ["email", "whatsapp", "x", "linkedin", "facebook"]) {
			const href = await page.locator(`[data-network="${network}"]`).getAttribute("href");
			expect(href, network).toContain(encodeURIComponent(link));
		}
		await expect(page.getByRole("img", { name: "Clicks per day" }).isVisible()).resolves.toBe(true);
		await expect(page.getByRole("img", { name: "Conversions per day" }).isVisible()).resolves.toBe(true);
		// The payout, and the leaderboard with alice's own row marked.
		await expect(page.locator("#refkit-payouts").textContent()).resolves.toContain("SEPA-0042");
		await expect(page.locator("tr.refkit-you").textContent()).resolves.toContain("Alice");

		const violations = await seriousViolations(page);
		expect(violations, formatViolations(violations, "the referrer page at 1280 px")).toEqual([]);
		expect(await scrollsSideways(page)).toBe(false);
		await page.screenshot({ path: join(SCREENSHOTS, "referrer-page.png"), fullPage: true });
		// No script error, and nothing the Content-Security-Policy refused.
		expect(errors).toEqual([]);
		await page.context().close();
	});

	test("at 360 px: nothing scrolls sideways, the QR code still reads, no serious accessibility violation", async () => {
		const refkit = await aliceWithHistory(kind);
		const base = await startReferrerApp("express", refkit, options);
		const { page, errors } = await asUser(base, "alice", PHONE);
		await page.goto(`${base}${REFERRER_PATH}`);
		expect(await scrollsSideways(page)).toBe(false);
		await expect(decodeQr(page)).resolves.toBe(`${base}/ref/alice_invites`);
		const violations = await seriousViolations(page);
		expect(violations, formatViolations(violations, "the referrer page at 360 px")).toEqual([]);
		await page.screenshot({ path: join(SCREENSHOTS, "referrer-page-phone.png"), fullPage: false });
		// The other periods, too, keep to the screen.
		await page.getByRole("link", { name: /90 days/ }).click();
		await page.waitForURL(/days=90/);
		expect(await scrollsSideways(page)).toBe(false);
		expect(errors).toEqual([]);
		await page.context().close();
	});

	test("without JavaScript: the link to select by hand, no button that would do nothing", async () => {
		const refkit = await aliceWithHistory(kind);
		const base = await startReferrerApp("express", refkit, options);
		const { page } = await asUser(base, "alice", { ...DESKTOP, javaScriptEnabled: false });
		await page.goto(`${base}${REFERRER_PATH}`);
		await expect(page.getByRole("textbox", { name: "Your referral link" }).inputValue()).resolves.toBe(
			`${base}/ref/alice_invites`,
		);
		await expect(page.locator("#refkit-copy").isVisible()).resolves.toBe(false);
		await expect(decodeQr(page)).resolves.toBe(`${base}/ref/alice_invites`);
		await page.context().close();
	});

	test("the same data as JSON, for the logged-in user alone", async () => {
		const refkit = await aliceWithHistory(kind);
		const base = await startReferrerApp("express", refkit, options);
		const { page } = await asUser(base, "alice", DESKTOP);
		const response = await page.request.get(`${base}${REFERRER_PATH}?days=7`, {
			headers: { accept: "application/json" },
		});
		expect(response.status()).toBe(200);
		expect(response.headers()["content-type"]).toMatch(/^application\/json/);
		const body = (await response.json()) as ReferrerSummary;
		expect(Object.keys(body).sort()).toEqual(
			[
				"earnings",
				"funnel",
				"leaderboard",
				"link",
				"links",
				"payouts",
				"period",
				"programs",
				"referrals",
				"upcoming",
				"userId",
			].sort(),
		);
		expect(body.userId).toBe("alice");
		expect(body.links.map((l) => l.url)).toEqual([`${base}/ref/alice_invites`]);
		expect(body.funnel.daily).toHaveLength(7);
		expect(body.funnel.totals.clicks).toBeGreaterThan(0);
		expect(body.earnings.map((e) => e.currency)).toEqual(["USD"]);
		expect(body.payouts).toEqual([expect.objectContaining({ status: "paid", reference: "SEPA-0042" })]);
		// The twenty most recent (the showcase gave alice more), vic.5 the newest.
		expect(body.referrals).toHaveLength(20);
		expect(body.referrals[0]).toMatchObject({ name: null, goal: "signup", reversed: false });
		// Named as the application chose, or masked: no referred user's id.
		const text = JSON.stringify(body);
		for (const referred of ["zed.1", "yan.2", "xia.3", "wes.4", "vic.5"])
			expect(text).not.toContain(referred);
		expect(body.leaderboard?.find((entry) => entry.you)?.name).toBe("Alice");
		await page.context().close();
	});
});
