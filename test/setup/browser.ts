import { existsSync } from "node:fs";
import { type Browser, type BrowserContextOptions, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll } from "vitest";

/** Debian's Chromium, which `.ci/run` installs with apt: browser tests never download a browser. */
const CHROMIUM = process.env.REFKIT_CHROMIUM ?? "/usr/bin/chromium";

/**
 * A desktop Chrome's User-Agent. Headless Chromium's own says `HeadlessChrome`, which refkit (rightly) counts
 * as a bot: a test that must be recorded as a person's visit presents itself with this one.
 */
export const PERSON_AGENT =
	"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

/** Launches Chromium for the test file's tests and closes it after them; returns a getter for it. */
export function useChromium(): () => Browser {
	let browser: Browser | undefined;
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
	});
	afterAll(async () => {
		await browser?.close();
	});
	return () => {
		if (browser === undefined) throw new Error("Chromium is not running");
		return browser;
	};
}

/**
 * A page in a fresh browser profile. Script errors and refused content (CSP) are collected in `errors`; a
 * 403 or a missing favicon is not an error of the page.
 */
export async function openPage(
	browser: Browser,
	options: BrowserContextOptions = {},
): Promise<{ page: Page; errors: string[] }> {
	const context = await browser.newContext({
		viewport: { width: 1280, height: 900 },
		deviceScaleFactor: 1,
		...options,
	});
	const page = await context.newPage();
	const errors: string[] = [];
	page.on("pageerror", (error) => errors.push(error.message));
	page.on("console", (message) => {
		if (message.type() === "error" && !message.text().startsWith("Failed to load resource"))
			errors.push(message.text());
	});
	return { page, errors };
}

/** Logs in to the demo as `username` on `page`, from its home page. */
export async function demoLogin(page: Page, base: string, username: string): Promise<void> {
	await page.goto(`${base}/`);
	await page.getByLabel("Your name").fill(username);
	await page.getByRole("button", { name: "Log in" }).click();
	await page.getByRole("heading", { name: `Hello, ${username}` }).waitFor();
}
