import type { SkipReason } from "./bots.js";

/** A request to an enabled link that was redirected without being recorded, as `onSkip` is told of it. */
export interface SkippedHit {
	/** Why: `bot`, `preview` (a link preview), `head` (a HEAD request), `duplicate` or `consent`. */
	reason: SkipReason;
	/** The link's identifier. */
	identifier: string;
	/** The request's User-Agent, if it sent one. */
	userAgent: string | null;
}

const WHY: Record<SkipReason, string> = {
	bot: "its User-Agent is a bot's (isbot; a request without a User-Agent counts as one). Bots are redirected but not counted (the skipBots option)",
	preview: "it is a link preview (a chat app or social network unfurling the link)",
	head: "it is a HEAD request (a link checker)",
	duplicate: "the same visitor followed this link within dedupeWindow",
	consent: "the adapter's consent check said no",
};

/** How many distinct (reason, User-Agent) pairs the development explanation remembers having told. */
const MAX_EXPLAINED = 1000;

/**
 * The default `onSkip` in development (`NODE_ENV=development`): one `console.warn` per reason and User-Agent
 * saying why the hit was not recorded, so that a browser test or a `curl` that records nothing says why.
 */
export function explainSkips(warn: (message: string) => void = console.warn): (skip: SkippedHit) => void {
	const told = new Set<string>();
	return ({ reason, identifier, userAgent }) => {
		const key = `${reason}\n${userAgent ?? ""}`;
		if (told.has(key) || told.size >= MAX_EXPLAINED) return;
		told.add(key);
		const agent =
			userAgent === null ? "no User-Agent" : `User-Agent ${JSON.stringify(userAgent.slice(0, 200))}`;
		const test =
			reason === "bot" || reason === "head"
				? " An end-to-end test should present itself as a person: a browser's User-Agent and GET (see \"Testing end to end\" in refkit's docs/links-and-hits.md)."
				: "";
		warn(
			`refkit: a visit to the link "${identifier}" was redirected without recording a hit, because ${WHY[reason]}; ${agent}.${test} (Said once per User-Agent, in development only.)`,
		);
	};
}
