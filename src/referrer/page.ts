import { type Html, html, raw } from "../dashboard/html.js";
import type { ReferrerPageSettings } from "./options.js";
import { qrSvg } from "./qr.js";
import { COPY_SCRIPT } from "./script.js";
import {
	earningsSection,
	funnelSection,
	leaderboardSection,
	payoutsSection,
	type RenderContext,
	referralsSection,
	termsSection,
} from "./sections.js";
import { STYLE } from "./style.js";
import type { ReferrerLink, ReferrerSummary } from "./types.js";

/**
 * The referrer's page as HTML, from what `referrerSummary()` answered: a whole document in the page's
 * language, styled by its stylesheet (the theme's custom properties over it, the application's stylesheet
 * after it), and its one script. It works without JavaScript: the script only adds the copy button.
 */

/** The test hooks and landmarks other code (and tests) may rely on. */
export const IDS = Object.freeze({
	link: "refkit-link",
	copy: "refkit-copy",
	status: "refkit-copy-status",
});

/** A whole page: `body` inside `<main>`, with the page's style, and the script when `script` is set. */
export function shell(settings: ReferrerPageSettings, title: string, body: Html, script = false): Html {
	const theme = settings.theme === "" ? "" : `\n:root { ${settings.theme} }`;
	return html`<!doctype html>
<html lang="${settings.formats.locale}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><link rel="icon" href="data:,"><title>${title}</title>
<style>${raw(STYLE + theme)}</style>${settings.stylesheet === null ? "" : html`<link rel="stylesheet" href="${settings.stylesheet}">`}</head>
<body class="refkit-referrer"><header class="refkit-top"><a href="/">${settings.messages.home}</a></header>
<main>${body}</main>${script ? html`<script>${raw(COPY_SCRIPT)}</script>` : ""}</body></html>`;
}

/** An error page (400, 401, 404, 503): a heading, a sentence, and a link back to the page when it helps. */
export function messagePage(
	settings: ReferrerPageSettings,
	title: string,
	message: string,
	back: boolean,
): Html {
	const link = back ? html`<p><a href="${settings.path}">${settings.messages.back}</a></p>` : "";
	return shell(settings, title, html`<h1>${title}</h1><p>${message}</p>${link}`);
}

/** The link the page is about: the one asked for, else the first enabled one, else the first. */
function shownLink(summary: ReferrerSummary): ReferrerLink | null {
	return (
		summary.links.find((link) => link.identifier === summary.link) ??
		summary.links.find((link) => !link.disabled) ??
		summary.links[0] ??
		null
	);
}

const NETWORKS = [
	["WhatsApp", (text: string, url: string) => `https://wa.me/?text=${encodeURIComponent(`${text} ${url}`)}`],
	[
		"X",
		(text: string, url: string) =>
			`https://x.com/intent/post?text=${encodeURIComponent(text)}&url=${encodeURIComponent(url)}`,
	],
	[
		"LinkedIn",
		(_text: string, url: string) =>
			`https://www.linkedin.com/sharing/share-offsite/?url=${encodeURIComponent(url)}`,
	],
	[
		"Facebook",
		(_text: string, url: string) => `https://www.facebook.com/sharer/sharer.php?u=${encodeURIComponent(url)}`,
	],
] as const;

function shareLinks(settings: ReferrerPageSettings, url: string): Html {
	const { messages } = settings;
	const mail = `mailto:?subject=${encodeURIComponent(messages.emailSubject)}&body=${encodeURIComponent(`${messages.shareMessage} ${url}`)}`;
	const items = [
		html`<li><a href="${mail}" data-network="email">${messages.shareByEmail}</a></li>`,
		...NETWORKS.map(
			([network, href]) =>
				html`<li><a href="${href(messages.shareMessage, url)}" target="_blank" rel="noopener noreferrer" aria-label="${messages.shareOn(network)}" data-network="${network.toLowerCase()}">${network}</a></li>`,
		),
	];
	return html`<h3 id="refkit-share-heading">${messages.shareHeading}</h3>
<ul class="refkit-share-links" aria-labelledby="refkit-share-heading">${items}</ul>`;
}

/** The form that picks one of several links (a GET: it works without JavaScript). */
function linkPicker(settings: ReferrerPageSettings, summary: ReferrerSummary): Html {
	const { messages } = settings;
	const options = summary.links.map(
		(link) =>
			html`<option value="${link.identifier}"${link.identifier === summary.link ? html` selected` : ""}>${link.disabled ? messages.disabledLink(link.identifier) : link.identifier}</option>`,
	);
	return html`<form class="refkit-pick" method="get" action="${settings.path}">
<input type="hidden" name="days" value="${summary.period.days}">
<div><label for="refkit-pick-link">${messages.chooseLink}</label>
<select id="refkit-pick-link" name="link"><option value=""${summary.link === null ? html` selected` : ""}>${messages.allLinks}</option>${options}</select></div>
<button type="submit">${messages.show}</button></form>`;
}

/** The link to copy, share and scan: the section a referrer opens the page for. */
async function linkSection(settings: ReferrerPageSettings, summary: ReferrerSummary): Promise<Html> {
	const { messages } = settings;
	const link = shownLink(summary);
	const heading = html`<h2 id="refkit-link-heading">${messages.linkHeading}</h2>`;
	if (link === null) {
		return html`<section class="refkit-panel refkit-share" id="refkit-share" aria-labelledby="refkit-link-heading">${heading}<p>${messages.noLink}</p></section>`;
	}
	// A path alone (no known origin) cannot be scanned or shared elsewhere: it is only shown.
	const absolute = /^https?:\/\//.test(link.url);
	const usable = absolute && !link.disabled;
	const qr = usable
		? html`<figure class="refkit-qr">${await qrSvg(link.url, messages.qrLabel)}<figcaption>${messages.qrHint}</figcaption></figure>`
		: "";
	return html`<section class="refkit-panel refkit-share" id="refkit-share" aria-labelledby="refkit-link-heading">${heading}
<div><label for="${IDS.link}">${messages.linkLabel}</label>
<div class="refkit-field"><input id="${IDS.link}" type="text" readonly value="${link.url}" spellcheck="false" autocomplete="off" data-identifier="${link.identifier}">
<button type="button" id="${IDS.copy}" hidden data-copied="${messages.copied}" data-failed="${messages.copyFailed}">${messages.copy}</button></div>
<p id="${IDS.status}" class="refkit-status" role="status" aria-live="polite"></p>
<p>${messages.codeLabel}: <code class="refkit-code">${link.identifier}</code></p>
${link.disabled ? html`<p class="refkit-notice">${messages.linkDisabled}</p>` : ""}
${usable ? shareLinks(settings, link.url) : ""}
${summary.links.length > 1 ? linkPicker(settings, summary) : ""}</div>
${qr}</section>`;
}

/** The whole page of `summary`. */
export async function referrerPage(
	settings: ReferrerPageSettings,
	summary: ReferrerSummary,
	programs: boolean,
): Promise<Html> {
	const { messages, formats } = settings;
	const ctx: RenderContext = {
		summary,
		messages,
		formats,
		programs,
		href: ({ days }) => {
			const query = new URLSearchParams({ days: String(days) });
			if (summary.link !== null) query.set("link", summary.link);
			return `${settings.path}?${query}`;
		},
	};
	const money = programs ? [earningsSection(ctx), payoutsSection(ctx)] : [];
	const terms = programs && summary.programs.length > 0 ? termsSection(ctx) : "";
	const board = summary.leaderboard === null ? "" : leaderboardSection(ctx);
	const body = html`<h1>${messages.title}</h1>
<p class="refkit-sub">${messages.intro}</p>
${await linkSection(settings, summary)}
${funnelSection(ctx)}
${money}
${referralsSection(ctx)}
${terms}
${board}`;
	return shell(settings, messages.title, body, true);
}
