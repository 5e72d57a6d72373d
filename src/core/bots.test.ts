import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { nonHumanReason } from "./bots.js";

const PEOPLE = {
	chrome:
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
	firefox: "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
	safariIos:
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
	edge: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
	samsung:
		"Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36",
	// In-app browsers are people reading a shared link, not preview fetchers.
	instagram:
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram 334.0.4.32.98 (iPhone15,2; iOS 17_5; en_US; en; scale=3.00; 1179x2556; 612254587)",
	facebookApp:
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/470.0.0.38.108;FBBV/614473291;FBDV/iPhone15,2;FBMD/iPhone;FBSN/iOS;FBSV/17.5]",
	snapchat:
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Snapchat/13.0.0.38 (like Safari/8617.2.4.10.8, panda)",
};

const PREVIEWS = [
	"facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
	"Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
	"Twitterbot/1.0",
	"WhatsApp/2.23.20.0 A",
	"TelegramBot (like TwitterBot)",
	"Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
	"LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
	"http.rb/5.1.1 (Mastodon/4.2.0; +https://mastodon.social/)",
	"Mozilla/5.0 (compatible; Bluesky Cardyb/1.1; +mailto:support@bsky.app)",
];

const BOTS = [
	"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
	"Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
	"curl/8.5.0",
	"python-requests/2.31.0",
	"node",
	"Go-http-client/1.1",
];

describe("nonHumanReason", () => {
	test.each(Object.entries(PEOPLE))("a person on %s is a person", (_name, agent) => {
		expect(nonHumanReason("GET", agent, null)).toBeNull();
	});
	test.each(PREVIEWS)("%s is a link preview", (agent) => {
		expect(nonHumanReason("GET", agent, null)).toBe("preview");
	});
	test.each(BOTS)("%s is a bot", (agent) => {
		expect(nonHumanReason("GET", agent, null)).toBe("bot");
	});
	test("no User-Agent is a bot; HEAD and a preview Purpose header win over the agent", () => {
		expect(nonHumanReason("GET", undefined, null)).toBe("bot");
		expect(nonHumanReason("GET", "  ", null)).toBe("bot");
		expect(nonHumanReason("HEAD", PEOPLE.chrome, null)).toBe("head");
		expect(nonHumanReason("GET", PEOPLE.safariIos, "preview")).toBe("preview");
		// A prefetch may become the visit itself, so it is recorded.
		expect(nonHumanReason("GET", PEOPLE.chrome, "prefetch")).toBeNull();
	});

	test("property: an agent is classed the same however often, and after any others (the cache of agents)", () => {
		const known = [...Object.values(PEOPLE), ...PREVIEWS, ...BOTS, `${PEOPLE.chrome} ${"x".repeat(600)}`];
		const first = known.map((agent) => nonHumanReason("GET", agent, null));
		expect(first.at(-1), "a long browser agent, never cached, is still a person").toBeNull();
		fc.assert(
			fc.property(
				fc.array(fc.oneof(fc.string(), fc.constantFrom(...known)), { maxLength: 1_500 }),
				(others) => {
					const answers = others.map((agent) => nonHumanReason("GET", agent, null));
					expect(others.map((agent) => nonHumanReason("GET", agent, null))).toEqual(answers);
					expect(known.map((agent) => nonHumanReason("GET", agent, null))).toEqual(first);
				},
			),
			{ numRuns: 30 },
		);
	});
});
