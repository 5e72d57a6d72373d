import { afterEach, describe, expect, test, vi } from "vitest";
import { refkitHandler } from "../src/adapters/web.js";
import { createRefkit, type RefkitOptions, type SkippedHit } from "../src/index.js";
import { TEST_SECRET } from "./setup/databases.js";
import { BROWSER_AGENT } from "./setup/http.js";

const HEADLESS =
	"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36";

afterEach(() => {
	vi.unstubAllEnvs();
	vi.restoreAllMocks();
});

/** A refkit on a throwaway SQLite database with the link `abc`, and a Web handler in front of it. */
async function setUp(options: Partial<RefkitOptions> = {}) {
	const refkit = createRefkit({ database: ":memory:", secret: TEST_SECRET, ...options });
	await refkit.migrate();
	await refkit.createLink({ identifier: "abc" });
	const handle = refkitHandler(refkit, { getUserId: () => null });
	const follow = async (init: { agent?: string | null; method?: string } = {}) => {
		const headers: Record<string, string> = {};
		if (init.agent !== null) headers["user-agent"] = init.agent ?? BROWSER_AGENT;
		const response = await handle(
			new Request("http://app.example/ref/abc", { method: init.method ?? "GET", headers }),
		);
		expect(response?.status).toBe(302);
	};
	return { refkit, follow };
}

describe("requests that are redirected but not recorded say why", () => {
	test("onSkip is told the reason, the link and the User-Agent of each", async () => {
		const skips: SkippedHit[] = [];
		const { refkit, follow } = await setUp({ onSkip: (skip) => skips.push(skip) });
		await follow({ agent: HEADLESS });
		await follow({ agent: "curl/8.5.0" });
		await follow({ agent: null });
		await follow({ agent: "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)" });
		await follow({ method: "HEAD" });
		await follow();
		expect(skips).toEqual([
			{ reason: "bot", identifier: "abc", userAgent: HEADLESS },
			{ reason: "bot", identifier: "abc", userAgent: "curl/8.5.0" },
			{ reason: "bot", identifier: "abc", userAgent: null },
			{
				reason: "preview",
				identifier: "abc",
				userAgent: "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
			},
			{ reason: "head", identifier: "abc", userAgent: BROWSER_AGENT },
		]);
		expect(refkit.counters()).toMatchObject({
			hitsRecorded: 1,
			hitsSkipped: { bot: 3, preview: 1, head: 1 },
		});
		await refkit.close();
	});

	test("in development, each User-Agent is explained once, with what an end-to-end test should do", async () => {
		vi.stubEnv("NODE_ENV", "development");
		const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
		const { refkit, follow } = await setUp();
		await follow({ agent: HEADLESS });
		await follow({ agent: HEADLESS });
		await follow({ agent: "curl/8.5.0" });
		await follow();
		const messages = warn.mock.calls.map((call) => String(call[0]));
		expect(messages).toHaveLength(2);
		expect(messages[0]).toMatch(
			/link "abc" was redirected without recording a hit, because its User-Agent is a bot's/,
		);
		expect(messages[0]).toContain("HeadlessChrome/131");
		expect(messages[0]).toMatch(/Testing end to end/);
		expect(messages[1]).toContain('"curl/8.5.0"');
		await refkit.close();
	});

	test("elsewhere nobody is told unless onSkip is given; false turns the development default off", async () => {
		const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
		vi.stubEnv("NODE_ENV", "production");
		const production = await setUp();
		await production.follow({ agent: HEADLESS });
		vi.stubEnv("NODE_ENV", "development");
		const off = await setUp({ onSkip: false });
		await off.follow({ agent: HEADLESS });
		expect(warn).not.toHaveBeenCalled();
		await Promise.all([production.refkit.close(), off.refkit.close()]);
	});

	test("an onSkip that throws is reported to onError; the visitor is redirected all the same", async () => {
		const errors: unknown[] = [];
		const { refkit, follow } = await setUp({
			onSkip: () => {
				throw new Error("skip hook broke");
			},
			onError: (error) => errors.push(error),
		});
		await follow({ agent: "curl/8.5.0" });
		expect(errors).toEqual([new Error("skip hook broke")]);
		expect(() => createRefkit({ database: ":memory:", secret: TEST_SECRET, onSkip: "yes" as never })).toThrow(
			/options.onSkip must be a function/,
		);
		await refkit.close();
	});
});
