import { AxeBuilder } from "@axe-core/playwright";
import type { BrowserContextOptions, Page, Response } from "playwright-core";
import { afterAll, beforeAll, describe, expect, onTestFinished, test } from "vitest";
import { createRefkit, type Refkit } from "../../src/index.js";
import { formatViolations, seriousViolations } from "../setup/axe.js";
import { openPage, PERSON_AGENT, useChromium } from "../setup/browser.js";
import { freshDatabaseUrl, TEST_SECRET } from "../setup/databases.js";
import { ADMIN, DASHBOARD_PATH, startApp, USER_HEADER } from "../setup/http.js";
import { PROGRAMS, refer, seedLedger } from "../setup/ledger.js";
import { seedShowcase } from "../setup/seed.js";

/**
 * An accessibility audit (axe-core, test/setup/axe.ts) of every page of the dashboard, filled with data, at a
 * desktop's width and at a phone's: no serious or critical violation. SQLite only: what the pages render does
 * not depend on the database.
 */

const browser = useChromium();

const WIDTHS: { name: string; options: BrowserContextOptions }[] = [
	{ name: "desktop", options: { viewport: { width: 1280, height: 900 } } },
	{
		name: "phone",
		options: { viewport: { width: 360, height: 780 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true },
	},
];

let refkit: Refkit | undefined;
let base = "";
/** A paid payout, and one still to pay (with its forms). */
const payouts = { paid: "", created: "" };

async function payoutOfRun(runId: string): Promise<string> {
	const [payout] = (await refkit?.listPayouts({ runId })) ?? [];
	if (!payout) throw new Error(`the run ${runId} made no payout`);
	return payout.id;
}

/**
 * The showcase's thirty days of hits and conversions (charts, pagers, logged-in visits, a reversal, a disabled
 * link), and the ledger's two programs with a commission in each state: held ones for the review, a clawback,
 * and a paid, a failed and a created payout.
 */
beforeAll(async () => {
	const url = await freshDatabaseUrl("sqlite");
	await seedShowcase("sqlite", url);
	refkit = createRefkit({ database: url, secret: TEST_SECRET, ...PROGRAMS });
	await refkit.migrate();
	await seedLedger(refkit);
	await refkit.disableLink("spring_sale");
	const [purchase] = await refkit.listConversions({ goal: "purchase", limit: 1 });
	if (!purchase) throw new Error("the showcase made no purchase");
	await refkit.reverseConversion(purchase.id, { reason: "refund" });

	// Alice's 15.00 is paid; Bob's 50.00 sale is then refunded: a clawback, netted in her next payout.
	payouts.paid = await payoutOfRun((await refkit.createPayouts()).runId);
	await refkit.markPayoutPaid(payouts.paid, { reference: "SEPA-0001" });
	await refkit.refundSale({ externalId: "inv-bob-1", refundId: "re-1", reason: "refund" });
	// Frank's signup and sale earn her more: a payout that fails, then one still to pay.
	await refer(refkit, "frank", "alice_link");
	await refkit.recordSale({ externalId: "inv-frank-1", userId: "frank", amount: 10_000, currency: "USD" });
	const failed = await payoutOfRun((await refkit.createPayouts()).runId);
	await refkit.failPayout(failed, { reason: "bank account closed" });
	payouts.created = await payoutOfRun((await refkit.createPayouts()).runId);
	const commissions = await refkit.listCommissions();
	expect(commissions.some((c) => c.clawbackOf !== null && c.amount < 0)).toBe(true);
	expect(commissions.filter((c) => c.status === "held")).toHaveLength(2);
	base = `${await startApp("express", refkit)}${DASHBOARD_PATH}`;
}, 120_000);

afterAll(async () => {
	await refkit?.close();
});

/** A page of the dashboard to audit: how to reach it, as whom, and the status it answers. */
interface Audited {
	name: string;
	status: number;
	/** Whether the browser is the admin's (the default) or someone else's. */
	admin?: boolean;
	open(page: Page): Promise<Response | null>;
}

const at = (path: () => string) => (page: Page) => page.goto(`${base}${path()}`);

const PAGES: Audited[] = [
	{ name: "the overview", status: 200, open: at(() => "/") },
	{ name: "the links", status: 200, open: at(() => "/links") },
	{ name: "one link", status: 200, open: at(() => "/links/alice_invites") },
	{ name: "the hits", status: 200, open: at(() => "/hits") },
	{ name: "the conversions", status: 200, open: at(() => "/conversions") },
	// Reversed conversions have no form: a table with nothing to focus in it.
	{ name: "the reversed conversions", status: 200, open: at(() => "/conversions?status=reversed") },
	{ name: "the programs", status: 200, open: at(() => "/programs") },
	{ name: "the commissions", status: 200, open: at(() => "/commissions") },
	{ name: "the review", status: 200, open: at(() => "/review") },
	{ name: "the payouts, after a run", status: 200, open: at(() => "/payouts?done=run&made=1&carried=1") },
	{ name: "a paid payout", status: 200, open: at(() => `/payouts/${payouts.paid}`) },
	{ name: "a payout to pay", status: 200, open: at(() => `/payouts/${payouts.created}`) },
	{ name: "the 403 page", status: 403, admin: false, open: at(() => "/") },
	{ name: "a 404 page", status: 404, open: at(() => "/no-such-page") },
	{
		name: "a form's error",
		status: 409,
		async open(page) {
			await page.goto(`${base}/links`);
			await page.getByLabel("Identifier (empty: generated)").fill("alice_invites");
			const [response] = await Promise.all([
				page.waitForResponse((r) => r.request().method() === "POST"),
				page.getByRole("button", { name: "Create link" }).click(),
			]);
			await page.getByRole("alert").waitFor();
			return response;
		},
	},
];

describe.each(WIDTHS.map((width) => [width.name, width] as const))(
	"the dashboard at a %s's width",
	(_, width) => {
		test.each(PAGES.map((audited) => [audited.name, audited] as const))(
			"%s: no serious or critical accessibility violation",
			async (_, audited) => {
				const { page, errors } = await openPage(browser(), {
					...width.options,
					userAgent: PERSON_AGENT,
					extraHTTPHeaders: audited.admin === false ? {} : { [USER_HEADER]: ADMIN },
				});
				onTestFinished(() => page.context().close());
				const response = await audited.open(page);
				expect(response?.status()).toBe(audited.status);
				// The audit runs under the page's own strict CSP, which axe does not need relaxed (see the last test).
				expect(await response?.headerValue("content-security-policy")).toMatch(/default-src 'none'/);
				const violations = await seriousViolations(page);
				expect(
					violations,
					formatViolations(violations, `${audited.name} at a ${width.name}'s width`),
				).toEqual([]);
				expect(errors).toEqual([]);
			},
		);
	},
);

test("axe audits the dashboard under its CSP, which still refuses any script of the page's own", async () => {
	const { page, errors } = await openPage(browser(), {
		userAgent: PERSON_AGENT,
		extraHTTPHeaders: { [USER_HEADER]: ADMIN },
	});
	onTestFinished(() => page.context().close());
	await page.goto(`${base}/`);
	// A script the page itself would run is refused: the CSP is in force, not bypassed...
	await page.addScriptTag({ content: "document.documentElement.dataset.ran = 'yes'" }).catch(() => undefined);
	await expect(page.locator("html").getAttribute("data-ran")).resolves.toBeNull();
	expect(errors.join("\n")).toMatch(/Content Security Policy/);
	// ...and axe, injected through the DevTools protocol, runs all the same.
	const results = await new AxeBuilder({ page }).analyze();
	expect(results.passes.map((rule) => rule.id)).toContain("color-contrast");
});
