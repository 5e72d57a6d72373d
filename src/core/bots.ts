import { isbot } from "isbot";

/** Why a request to a referral link was redirected without being recorded as a hit. */
export type SkipReason = "bot" | "preview" | "head" | "duplicate" | "consent";

/**
 * The fetchers that unfurl a shared link into a preview card (chat apps, social networks). isbot knows most
 * of them as bots too; naming them apart lets the counters say how many skipped requests were previews.
 */
const PREVIEW_AGENT =
	/facebookexternalhit|facebot|slackbot-linkexpanding|slack-imgproxy|twitterbot|whatsapp\/|telegrambot|discordbot|linkedinbot|skypeuripreview|embedly|iframely|redditbot|pinterestbot|mastodon\/|cardyb|bitlybot|vkshare/i;

/**
 * Whether a request to a referral link was made by no person: a HEAD request (a link checker), a preview
 * fetch (by User-Agent, or a `Purpose: preview` header), or a bot by isbot. A request without a User-Agent
 * counts as a bot: every browser sends one. Returns the reason, or `null` for a person.
 */
export function nonHumanReason(
	method: string,
	userAgent: string | null | undefined,
	purpose: string | null | undefined,
): Exclude<SkipReason, "duplicate" | "consent"> | null {
	if (method === "HEAD") return "head";
	if (purpose !== null && purpose !== undefined && /preview/i.test(purpose)) return "preview";
	if (userAgent === null || userAgent === undefined || userAgent.trim() === "") return "bot";
	let kind = AGENTS.get(userAgent);
	if (kind === undefined) {
		kind = PREVIEW_AGENT.test(userAgent) ? "preview" : isbot(userAgent) ? "bot" : null;
		if (userAgent.length <= MAX_CACHED_AGENT_LENGTH) {
			if (AGENTS.size >= MAX_CACHED_AGENTS) AGENTS.delete(AGENTS.keys().next().value as string);
			AGENTS.set(userAgent, kind);
		}
	}
	return kind;
}

/**
 * What the User-Agents seen last are, so that isbot's pattern (a regular expression of several thousand
 * characters, about 4 % of a follow's CPU) runs once per User-Agent rather than once per request: a few
 * hundred browser versions make most of a site's traffic. The oldest entry goes first; 1,000 entries of at
 * most 512 characters keep it under a megabyte.
 */
const AGENTS = new Map<string, "preview" | "bot" | null>();
const MAX_CACHED_AGENTS = 1_000;
const MAX_CACHED_AGENT_LENGTH = 512;
