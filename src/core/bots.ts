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
	if (PREVIEW_AGENT.test(userAgent)) return "preview";
	return isbot(userAgent) ? "bot" : null;
}
