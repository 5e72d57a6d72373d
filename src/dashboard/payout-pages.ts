import type { Commission, Payout } from "../programs/types.js";
import { amount, payoutStatus } from "./amounts.js";
import { commissionRows, shortId } from "./commissions.js";
import { type Html, html, raw } from "./html.js";
import { formatNumber, formatTime } from "./layout.js";
import { csrfField, messages, type PageContext, pager, query } from "./pages.js";

/** The payouts pages: the list with its run form and filters, and one payout with its commissions. */

/** The list's filters, as the URL's query names them. */
export interface PayoutFilters {
	status: string;
	run: string;
	user: string;
}

/** The paid and failed forms of a payout still to pay, which come `back` to the page they are on. */
function closeForms(page: PageContext, payout: Payout, back: string): Html {
	if (payout.status !== "created") return html``;
	const who = `the payout of ${payout.userId}`;
	return html`<form class="inline" method="post" action="${page.base}/payouts/${payout.id}/paid">${csrfField(page)}<input type="hidden" name="back" value="${back}"><input name="reference" required maxlength="255" placeholder="Transfer reference" aria-label="Transfer reference of ${who}"><button type="submit">Mark paid</button></form>
<form class="inline" method="post" action="${page.base}/payouts/${payout.id}/failed">${csrfField(page)}<input type="hidden" name="back" value="${back}"><input name="reason" required maxlength="1000" placeholder="Reason" aria-label="Why ${who} failed"><button type="submit" class="danger">Mark failed</button></form>`;
}

/** What became of a payout: its reference once paid, its reason once failed. */
function outcome(payout: Payout): Html {
	if (payout.status === "paid")
		return html`${payout.reference ?? ""} <span class="muted">${formatTime(payout.paidAt)}</span>`;
	if (payout.status === "failed")
		return html`${payout.failureReason ?? ""} <span class="muted">${formatTime(payout.failedAt)}</span>`;
	return html``;
}

function payoutRows(page: PageContext, payouts: readonly Payout[], back: string): Html {
	return html`<table><thead><tr><th>Created (UTC)</th><th>Payout</th><th>Beneficiary</th><th class="num">Amount</th><th>Status</th><th><span class="muted">Action</span></th></tr></thead><tbody>${payouts.map(
		(p) =>
			html`<tr id="payout-${p.id}" data-status="${p.status}"><td class="nowrap">${formatTime(p.createdAt)}</td><td class="nowrap"><a href="${page.base}/payouts/${p.id}">${shortId(p.id)}</a> · <a href="${page.base}/payouts/${p.id}.csv">CSV</a><div class="muted">run <a class="in-text" href="${page.base}/payouts${query({ run: p.runId })}">${shortId(p.runId)}</a></div></td><td class="wrap"><a href="${page.base}/payouts${query({ user: p.userId })}">${p.userId}</a></td><td class="num">${amount(p.amount, p.currency)}<div class="muted">${formatNumber(p.commissions)} ${p.commissions === 1 ? "commission" : "commissions"}</div></td><td class="wrap">${payoutStatus(p.status)} ${outcome(p)}</td><td class="actions">${closeForms(page, p, back)}</td></tr>`,
	)}</tbody></table>`;
}

function select(name: string, label: string, value: string, options: readonly [string, string][]): Html {
	return html`<label>${label} <select name="${name}">${options.map(([option, text]) => html`<option value="${option}"${option !== "" && option === value ? raw(" selected") : ""}>${text}</option>`)}</select></label>`;
}

export function payoutsPage(
	page: PageContext,
	view: {
		payouts: Payout[];
		filters: PayoutFilters;
		page: number;
		hasNext: boolean;
		notice: string | null;
		error: string | null;
		/** The run form's cutoff, as typed. */
		cutoff: string;
	},
): Html {
	const f = view.filters;
	const back = `/payouts${query({ ...f, page: view.page > 1 ? view.page : null })}`;
	const filters = { status: f.status, run: f.run, user: f.user };
	return html`<h1>Payouts</h1>
<p class="sub">A payout run gathers each beneficiary's payable commissions up to its cutoff, nets their clawbacks, and makes one payout per beneficiary and currency that reaches the program's minimum; a smaller or negative balance is carried forward. Transfer each payout (its CSV suits a bank's or a provider's mass-payment upload), then mark it paid with the transfer's reference, or failed: its commissions are then payable again.</p>
${messages(view.notice, view.error)}
<form class="filters panel" method="post" action="${page.base}/payouts">${csrfField(page)}
<label>Pay what is payable by the end of (UTC; empty: now) <input type="date" name="cutoff" value="${view.cutoff}"></label>
<button type="submit">Create a payout run</button></form>
<h2>Payouts</h2>
<form class="filters" method="get" action="${page.base}/payouts" role="search">
${select("status", "Status", f.status, [
	["", "Any"],
	["created", "To pay (created)"],
	["paid", "Paid"],
	["failed", "Failed"],
])}
<label>Run <input name="run" value="${f.run}" size="36" maxlength="36" pattern="[0-9a-fA-F\\-]{36}" placeholder="run id"></label>
<label>Beneficiary <input name="user" value="${f.user}" maxlength="255"></label>
<button type="submit" class="secondary">Filter</button>${
		f.run === "" || view.payouts.length === 0
			? ""
			: html`
<a href="${page.base}/payouts/${f.run}.csv">Download the run as CSV</a>`
	}</form>
<div class="panel">${view.payouts.length === 0 ? html`<p class="muted">No payouts match.</p>` : payoutRows(page, view.payouts, back)}
${pager(page, "/payouts", filters, view.page, view.hasNext)}</div>`;
}

export function payoutPage(
	page: PageContext,
	view: {
		payout: Payout;
		commissions: Commission[];
		page: number;
		hasNext: boolean;
		notice: string | null;
		error: string | null;
	},
): Html {
	const p = view.payout;
	const back = `/payouts/${p.id}`;
	const listed =
		view.commissions.length === 0
			? html`<p class="muted">${p.status === "failed" ? "Its commissions were released when it failed: the next run pays them again." : "No commissions."}</p>`
			: commissionRows(page, view.commissions);
	return html`<p class="sub"><a href="${page.base}/payouts">← Payouts</a></p>
<h1>Payout <code>${p.id}</code> ${payoutStatus(p.status)}</h1>
${messages(view.notice, view.error)}
<div class="panel"><dl class="terms"><dt>Beneficiary</dt><dd><a href="${page.base}/commissions${query({ user: p.userId })}">${p.userId}</a></dd>
<dt>Amount</dt><dd>${amount(p.amount, p.currency)}</dd>
<dt>Commissions</dt><dd>${formatNumber(p.commissions)}, payable by the cutoff ${formatTime(p.cutoff)} UTC</dd>
<dt>Run</dt><dd><a href="${page.base}/payouts${query({ run: p.runId })}"><code>${p.runId}</code></a> · <a href="${page.base}/payouts/${p.runId}.csv">the run as CSV</a></dd>
<dt>Created</dt><dd>${formatTime(p.createdAt)} UTC</dd>
${p.status === "paid" ? html`<dt>Paid</dt><dd>${formatTime(p.paidAt)} UTC, reference ${p.reference ?? ""}</dd>` : ""}
${p.status === "failed" ? html`<dt>Failed</dt><dd>${formatTime(p.failedAt)} UTC: ${p.failureReason ?? ""}</dd>` : ""}
</dl>
<p><a href="${page.base}/payouts/${p.id}.csv">Download this payout as CSV</a></p>
${p.status === "created" ? html`<div class="actions">${closeForms(page, p, back)}</div>` : ""}</div>
<h2>Its commissions</h2>
<div class="panel">${listed}
${pager(page, back, {}, view.page, view.hasNext)}</div>`;
}
