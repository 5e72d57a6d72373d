import { describe, expect, test } from "vitest";
import { demoLogin, openPage, PERSON_AGENT, useChromium } from "../setup/browser.js";
import { DATABASES, freshDatabaseUrl } from "../setup/databases.js";
import { startDemo } from "../setup/demo.js";

const browser = useChromium();

describe.each(DATABASES)("the demo's story in Chromium, from the link, on %s", (kind) => {
	test("a friend follows Alice's link, signs up and buys: Alice sees it all, credited once", async () => {
		const { base } = await startDemo(await freshDatabaseUrl(kind));
		// Two people, each in a browser of their own, presenting themselves as a person's Chrome.
		const alice = await openPage(browser(), {
			userAgent: PERSON_AGENT,
			permissions: ["clipboard-read", "clipboard-write"],
		});
		await demoLogin(alice.page, base, "alice");
		const link = alice.page.locator("#referral-link");
		const href = (await link.getAttribute("href")) ?? "";
		expect(href).toMatch(new RegExp(`^${base}/ref/[A-Za-z0-9]{8}$`));
		await expect(link.textContent()).resolves.toBe(href);
		await alice.page.getByRole("button", { name: "Copy" }).click();
		await expect(alice.page.evaluate(() => navigator.clipboard.readText())).resolves.toBe(href);
		await alice.page.getByRole("button", { name: "Copied" }).waitFor();

		const bob = await openPage(browser(), { userAgent: PERSON_AGENT });
		await bob.page.goto(href); // followed as a person would: the link, then the site's home
		expect(new URL(bob.page.url()).pathname).toBe("/");
		const cookies = await bob.page.context().cookies();
		expect(cookies.map((cookie) => cookie.name)).toContain("refkit_visitor");
		await bob.page.getByLabel("Your name").fill("bob");
		await bob.page.getByRole("button", { name: "Log in" }).click();
		await bob.page.getByRole("heading", { name: "Hello, bob" }).waitFor();
		await bob.page.getByLabel("Amount").fill("12.5");
		await bob.page.getByRole("button", { name: "Buy" }).click();
		await bob.page.getByText("credited to the friend who referred you").waitFor();

		await alice.page.reload();
		const visits = alice.page.locator("h2:has-text('Visits through your link') + table tbody tr");
		await expect(visits.allTextContents()).resolves.toEqual([
			expect.stringMatching(/bob\s*claimed at login$/),
		]);
		const signups = alice.page.locator("h2:has-text('Signups you referred') + table tbody tr");
		await expect(signups.count()).resolves.toBe(1);
		const purchases = alice.page.locator("h2:has-text('Purchases you referred') + table tbody tr td");
		await expect(purchases.nth(1).textContent()).resolves.toBe("bob");
		await expect(purchases.nth(2).textContent()).resolves.toBe("12.5");
		// What the demo's program owes each of them, by status: the signup's 5.00 USD each, and 20% of the
		// purchase to Alice, pending for the 14-day hold.
		const owed = (page: typeof alice.page, status: string) =>
			page
				.locator(`#earnings tbody tr:has(td:first-child:text-is("${status}")) td:nth-child(2)`)
				.textContent();
		await expect(owed(alice.page, "Pending")).resolves.toBe("7.50 USD");
		await expect(owed(alice.page, "Payable")).resolves.toBe("0.00 USD");
		await alice.page.getByRole("cell", { name: "20% of bob's purchase of 12.50 USD" }).waitFor();
		await bob.page.reload();
		await expect(owed(bob.page, "Pending")).resolves.toBe("5.00 USD");
		expect([...alice.errors, ...bob.errors]).toEqual([]);
		await Promise.all([alice.page.context().close(), bob.page.context().close()]);
	});

	test("headless Chromium as it comes is a bot: redirected, not recorded, and the page says why", async () => {
		const { base, output } = await startDemo(await freshDatabaseUrl(kind));
		const alice = await openPage(browser(), { userAgent: PERSON_AGENT });
		await demoLogin(alice.page, base, "alice");
		const href = (await alice.page.locator("#referral-link").getAttribute("href")) ?? "";
		const headless = await openPage(browser()); // HeadlessChrome in its User-Agent
		await headless.page.goto(href);
		expect(new URL(headless.page.url()).pathname).toBe("/");
		expect(await headless.page.context().cookies()).toEqual([]);
		await alice.page.reload();
		await alice.page.getByText("No visits yet.").waitFor();
		await expect(alice.page.locator("#skipped").textContent()).resolves.toMatch(
			/recorded 0 visits and redirected without recording 1 from bots\. A headless browser/,
		);
		await Promise.all([alice.page.context().close(), headless.page.context().close()]);
		expect(output()).not.toContain("HeadlessChrome"); // the demo runs as production: no development warning
	});
});
