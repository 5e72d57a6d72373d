import type { Conversion, HitWithLink, ReferralLink, Stats } from "../types.js";
import { barChart, shortDate } from "./chart.js";
import { type Html, html, raw } from "./html.js";
import { formatNumber, formatTime } from "./layout.js";

/** What every page needs to build its links and forms. */
export interface PageContext {
	/** The dashboard's path, such as `/admin/refkit`. */
	base: string;
	/** The CSRF token every POST form carries. */
	csrf: string;
}

/** A hidden CSRF field for a POST form. */
export function csrfField(page: PageContext): Html {
	return html`<input type="hidden" name="_csrf" value="${page.csrf}">`;
}

/**
 * A panel around a table that may be wider than the screen, and then scrolls sideways: a named region that
 * takes the focus, so that it scrolls with the keyboard even when nothing in it can be focused (a table of
 * hits, or of reversed conversions, has no link or form).
 */
export function tablePanel(label: string, content: Html): Html {
	return html`<div class="panel" role="region" aria-label="${label}" tabindex="0">${content}</div>`;
}

/** A query string of the non-empty values, with a leading `?`, or "". */
export function query(values: Record<string, string | number | null | undefined>): string {
	const params = new URLSearchParams();
	for (const [key, value] of Object.entries(values)) {
		if (value !== null && value !== undefined && value !== "") params.set(key, String(value));
	}
	const text = params.toString();
	return text === "" ? "" : `?${text}`;
}

function card(label: string, value: string, detail?: Html | string): Html {
	return html`<div class="card"><div class="label">${label}</div><div class="value">${value}</div>${detail ? html`<div class="detail">${detail}</div>` : ""}</div>`;
}

/** "Oct 25 – Nov 23, 2026 (UTC)". */
function periodText(stats: Stats): string {
	const first = stats.daily[0]?.date ?? "";
	const last = stats.daily.at(-1)?.date ?? "";
	return `${shortDate(first)}${first.slice(0, 4) === last.slice(0, 4) ? "" : `, ${first.slice(0, 4)}`} – ${shortDate(last)}, ${last.slice(0, 4)} (UTC)`;
}

function percent(rate: number): string {
	return `${(rate * 100).toFixed(rate > 0 && rate < 0.1 ? 2 : 1)}%`;
}

/** The notice of what a form did, and the error of what it could not do. */
export function messages(notice: string | null, error: string | null): Html {
	return html`${notice ? html`<p class="notice" role="status">${notice}</p>` : ""}${error ? html`<p class="error" role="alert">${error}</p>` : ""}`;
}

function periods(page: PageContext, path: string, days: number): Html {
	const option = (value: number) =>
		html`<a href="${page.base}${path}${query({ days: value })}" aria-current="${value === days ? "true" : "false"}">Last ${value} days</a>`;
	return html`<nav class="periods" aria-label="Period">${option(30)}${option(90)}</nav>`;
}

/** The totals, the two charts and their numbers as a table. */
function statsBlock(stats: Stats): Html {
	const { totals } = stats;
	const goals = Object.entries(totals.conversionsByGoal).sort(([a], [b]) => a.localeCompare(b));
	const byGoal =
		goals.length === 0
			? "none yet"
			: goals.map(([goal, count]) => `${goal} ${formatNumber(count)}`).join(" · ");
	// Estimated counts (see Stats.totals.estimated) say so, rather than look exact.
	const about = (n: number) => (totals.estimated ? `≈ ${formatNumber(n)}` : formatNumber(n));
	const estimate = totals.estimated ? "estimated, within about 1 %" : undefined;
	return html`<div class="cards">
${stats.link === null ? card("Links", formatNumber(totals.links)) : ""}
${card("Hits", formatNumber(totals.hits))}
${card("Unique visitors", about(totals.uniqueVisitors), estimate)}
${card("Claimed users", about(totals.claimedUsers), estimate)}
${card("Conversions", formatNumber(totals.conversions), html`${byGoal}${totals.reversed > 0 ? html` · ${formatNumber(totals.reversed)} reversed` : ""}`)}
${card("Conversion rate", percent(totals.conversionRate), "converted users ÷ unique visitors")}
</div>
<div class="charts">
<div class="panel">${barChart({ title: "Hits per day", unit: "hits", color: "#3e4bd8", points: stats.daily.map((d) => ({ date: d.date, value: d.hits })) })}</div>
<div class="panel">${barChart({ title: "Conversions per day", unit: "conversions", color: "#1f9d55", points: stats.daily.map((d) => ({ date: d.date, value: d.conversions })) })}</div>
</div>
<details><summary>The numbers as a table</summary><div class="panel"><table>
<caption class="muted">Hits and conversions per day (UTC)</caption>
<thead><tr><th scope="col">Day</th><th scope="col" class="num">Hits</th><th scope="col" class="num">Conversions</th></tr></thead>
<tbody>${stats.daily.map((d) => html`<tr><th scope="row">${shortDate(d.date)}, ${d.date.slice(0, 4)}</th><td class="num">${formatNumber(d.hits)}</td><td class="num">${formatNumber(d.conversions)}</td></tr>`)}</tbody>
</table></div></details>`;
}

export function overviewPage(page: PageContext, stats: Stats, days: number): Html {
	const rows = stats.topReferrers.map(
		(referrer, i) =>
			html`<tr><td class="num">${i + 1}</td><td><a href="${page.base}/links${query({ search: referrer.userId })}">${referrer.userId}</a></td><td class="num">${formatNumber(referrer.hits)}</td><td class="num">${formatNumber(referrer.conversions)}</td></tr>`,
	);
	return html`<h1>Overview</h1>
<p class="sub">${periodText(stats)}</p>
${periods(page, "/", days)}
${statsBlock(stats)}
<h2>Top referrers</h2>
<div class="panel">${
		rows.length === 0
			? html`<p class="muted">No referrer has brought a visit in this period yet.</p>`
			: html`<table><thead><tr><th class="num">#</th><th>Referrer</th><th class="num">Hits</th><th class="num">Conversions</th></tr></thead><tbody>${rows}</tbody></table>`
	}</div>`;
}

function linkStatus(link: ReferralLink): Html {
	return link.disabled
		? html`<span class="tag off">disabled</span>`
		: html`<span class="tag ok">enabled</span>`;
}

function toggleForm(page: PageContext, link: ReferralLink, back: string): Html {
	const action = link.disabled ? "enable" : "disable";
	return html`<form class="inline" method="post" action="${page.base}/links/${link.identifier}/${action}">${csrfField(page)}<input type="hidden" name="back" value="${back}"><button type="submit" class="${link.disabled ? "secondary" : "danger"}">${link.disabled ? "Enable" : "Disable"}</button></form>`;
}

export interface LinksView {
	links: ReferralLink[];
	search: string;
	status: string;
	page: number;
	hasNext: boolean;
	notice: string | null;
	error: string | null;
	form: { identifier: string; userId: string; target: string };
}

/** Newer and older pages of a listing, keeping its filters. */
export function pager(
	page: PageContext,
	path: string,
	filters: Record<string, string>,
	current: number,
	hasNext: boolean,
): Html {
	if (current === 1 && !hasNext) return html``;
	return html`<nav class="pager" aria-label="Pages">${current > 1 ? html`<a href="${page.base}${path}${query({ ...filters, page: current > 2 ? current - 1 : null })}" rel="prev">← Newer</a>` : ""}<span class="muted">Page ${current}</span>${hasNext ? html`<a href="${page.base}${path}${query({ ...filters, page: current + 1 })}" rel="next">Older →</a>` : ""}</nav>`;
}

export function linksPage(page: PageContext, view: LinksView): Html {
	const back = `/links${query({ search: view.search, status: view.status, page: view.page > 1 ? view.page : null })}`;
	const rows = view.links.map(
		(link) =>
			html`<tr><td><a href="${page.base}/links/${link.identifier}"><code>${link.identifier}</code></a></td><td>${link.userId ?? html`<span class="muted">nobody</span>`}</td><td class="wrap">${link.target ?? html`<span class="muted">—</span>`}</td><td>${linkStatus(link)}</td><td>${formatTime(link.createdAt)}</td><td>${toggleForm(page, link, back)}</td></tr>`,
	);
	const selected = (value: string) => (view.status === value ? raw(" selected") : "");
	return html`<h1>Links</h1>
<p class="sub">Every referral link, newest first.</p>
${messages(view.notice, view.error)}
<form class="filters" method="get" action="${page.base}/links" role="search">
<label>Identifier or user <input type="search" name="search" value="${view.search}"></label>
<label>Status <select name="status"><option value="">All</option><option value="enabled"${selected("enabled")}>Enabled</option><option value="disabled"${selected("disabled")}>Disabled</option></select></label>
<button type="submit" class="secondary">Filter</button></form>
<div class="panel">${
		rows.length === 0
			? html`<p class="muted">No links match.</p>`
			: html`<table><thead><tr><th>Identifier</th><th>Owner</th><th>Target</th><th>Status</th><th>Created (UTC)</th><th><span class="muted">Action</span></th></tr></thead><tbody>${rows}</tbody></table>`
	}
${pager(page, "/links", { search: view.search, status: view.status }, view.page, view.hasNext)}</div>
<h2>Create a link</h2>
<form class="filters panel" method="post" action="${page.base}/links">${csrfField(page)}
<label>Identifier (empty: generated) <input name="identifier" value="${view.form.identifier}" pattern="[A-Za-z0-9_]{1,50}" maxlength="50"></label>
<label>Owner user id <input name="userId" value="${view.form.userId}" maxlength="255"></label>
<label>Target path <input name="target" value="${view.form.target}" placeholder="/pricing" maxlength="2048"></label>
<button type="submit">Create link</button></form>`;
}

/** The table of hits; `showLink` adds the link of each. */
export function hitRows(page: PageContext, hits: HitWithLink[], showLink: boolean): Html {
	return html`<table><thead><tr><th>Time (UTC)</th>${showLink ? html`<th>Link</th>` : ""}<th>User</th><th>Visitor</th><th>Source</th><th>IP</th><th>User-Agent</th><th>Referer</th><th>Next</th><th>Confirmed</th></tr></thead><tbody>${hits.map(
		(hit) =>
			html`<tr><td class="nowrap">${formatTime(hit.createdAt)}</td>${showLink ? html`<td><a href="${page.base}/links/${hit.identifier}"><code>${hit.identifier}</code></a></td>` : ""}<td>${hit.userId ?? html`<span class="muted">anonymous</span>`}${hit.authenticated ? html` <span class="tag">logged in</span>` : ""}</td><td>${hit.visitorId === null ? "" : html`<code title="${hit.visitorId}">${hit.visitorId.slice(0, 8)}</code>`}</td><td>${hit.source}</td><td class="nowrap">${hit.ip ?? ""}</td><td class="clip" title="${hit.userAgent ?? ""}">${hit.userAgent ?? ""}</td><td class="clip" title="${hit.referer ?? ""}">${hit.referer ?? ""}</td><td class="wrap">${hit.next ?? ""}</td><td class="nowrap">${formatTime(hit.confirmedAt)}</td></tr>`,
	)}</tbody></table>`;
}

/** The table of conversions, each with its reversal form that comes `back` here. */
export function conversionRows(page: PageContext, conversions: Conversion[], back: string): Html {
	return html`<table><thead><tr><th>Time (UTC)</th><th>Goal</th><th>Referred user</th><th>Referrer</th><th class="num">Value</th><th>Status</th><th>Delivered</th><th><span class="muted">Action</span></th></tr></thead><tbody>${conversions.map(
		(c) =>
			html`<tr id="conversion-${c.id}"><td class="nowrap">${formatTime(c.createdAt)}</td><td><span class="tag">${c.goal}</span></td><td>${c.referredUserId}</td><td>${c.referrerUserId ?? html`<span class="muted">nobody</span>`}</td><td class="num">${c.value === null ? "" : formatNumber(c.value)}</td><td>${
				c.reversedAt
					? html`<span class="tag off" title="${c.reversalReason ?? ""}">reversed</span> <span class="muted">${c.reversalReason ?? ""}</span>`
					: html`<span class="tag ok">active</span>`
			}</td><td>${c.deliveredAt ? formatTime(c.deliveredAt) : html`<span class="muted">pending</span>`}</td><td>${
				c.reversedAt
					? ""
					: html`<form class="inline" method="post" action="${page.base}/conversions/${c.id}/reverse">${csrfField(page)}<input type="hidden" name="back" value="${back}"><input name="reason" required maxlength="1000" placeholder="Reason" aria-label="Reason to reverse the ${c.goal} of ${c.referredUserId}"><button type="submit" class="danger">Reverse</button></form>`
			}</td></tr>`,
	)}</tbody></table>`;
}

export function linkPage(
	page: PageContext,
	view: {
		link: ReferralLink;
		stats: Stats;
		days: number;
		hits: HitWithLink[];
		conversions: Conversion[];
		notice: string | null;
		error: string | null;
	},
): Html {
	const { link } = view;
	const back = `/links/${link.identifier}${query({ days: view.days === 30 ? null : view.days })}`;
	return html`<p class="sub"><a href="${page.base}/links">← Links</a></p>
<h1>Link <code>${link.identifier}</code> ${linkStatus(link)}</h1>
<p class="sub">Owner: ${link.userId ?? "nobody"} · Target: ${link.target ?? "the success URL"} · Created ${formatTime(link.createdAt)} UTC ${toggleForm(page, link, back)}</p>
${messages(view.notice, view.error)}
${periods(page, `/links/${link.identifier}`, view.days)}
<p class="sub">${periodText(view.stats)}</p>
${statsBlock(view.stats)}
<h2>Latest hits <a class="muted" href="${page.base}/hits${query({ link: link.identifier })}">all →</a></h2>
${tablePanel("Latest hits", view.hits.length === 0 ? html`<p class="muted">No hits yet.</p>` : hitRows(page, view.hits, false))}
<h2>Latest conversions <a class="muted" href="${page.base}/conversions${query({ link: link.identifier })}">all →</a></h2>
${tablePanel("Latest conversions", view.conversions.length === 0 ? html`<p class="muted">No conversions yet.</p>` : conversionRows(page, view.conversions, back))}`;
}

/** The 403 page: who the dashboard is for, and the ways on (log in, or back to the site). */
export function forbiddenPage(loginUrl: string | null): Html {
	return html`<h1>Forbidden</h1><p>The referral dashboard is for administrators, and you are not logged in as one.</p>
<p class="actions">${loginUrl === null ? "" : html`<a href="${loginUrl}">Log in as an administrator</a> · `}<a href="/">Back to the site</a></p>`;
}

export function messagePage(title: string, message: string, base: string | null): Html {
	return html`<h1>${title}</h1><p>${message}</p>${base === null ? "" : html`<p><a href="${base}/">Back to the overview</a></p>`}`;
}
