import type { CsvColumns } from "../csv.js";
import type { Commission, CommissionStatus } from "../programs/types.js";
import type { Refkit } from "../refkit.js";
import { amount, commissionStatus } from "./amounts.js";
import { type Html, html } from "./html.js";
import { badInput } from "./input.js";
import { formatTime } from "./layout.js";
import { type Listing, listingRoutes } from "./listing.js";
import { type PageContext, query } from "./pages.js";

/** The commissions listing: the ledger's rows, filtered by beneficiary, status and program, and as CSV. */

/** A short form of a UUID for a table, the whole of it in the title. */
export function shortId(id: string): Html {
	return html`<code title="${id}">${id.slice(0, 8)}</code>`;
}

/** What a commission's status depends on: when it is payable, why it was held or voided, what it takes back. */
function details(page: PageContext, c: Commission): Html {
	const parts: Html[] = [];
	if (c.clawbackOf !== null)
		parts.push(html`<span class="tag off">clawback</span> takes back part of ${shortId(c.clawbackOf)}`);
	if (c.replaces !== null) parts.push(html`what a partial refund left of ${shortId(c.replaces)}`);
	if (c.status === "pending") parts.push(html`payable from ${formatTime(c.payableAt)}`);
	if (c.heldReason !== null) parts.push(html`<span class="muted">held:</span> ${c.heldReason}`);
	if (c.voidReason !== null) parts.push(html`<span class="muted">voided:</span> ${c.voidReason}`);
	if (c.payoutId !== null)
		parts.push(
			html`in payout <a class="in-text" href="${page.base}/payouts/${c.payoutId}">${shortId(c.payoutId)}</a>`,
		);
	return html`${parts.map((part, i) => html`${i === 0 ? "" : html`<br>`}${part}`)}`;
}

/**
 * The table of commissions. `actions`, when given, adds a column of forms for each row (the review queue's
 * Release and Reject).
 */
export function commissionRows(
	page: PageContext,
	rows: readonly Commission[],
	actions?: (commission: Commission) => Html,
): Html {
	return html`<table><thead><tr><th>Earned (UTC)</th><th>Beneficiary</th><th>Program · rule</th><th class="num">Amount</th><th>Status</th><th>Details</th>${actions ? html`<th><span class="muted">Action</span></th>` : ""}</tr></thead><tbody>${rows.map(
		(c) =>
			html`<tr id="commission-${c.id}" data-status="${c.status}"><td class="nowrap">${formatTime(c.createdAt)}</td><td class="wrap"><a href="${page.base}/commissions${query({ user: c.userId })}">${c.userId}</a><div class="muted">${c.role}</div></td><td><a class="in-text" href="${page.base}/commissions${query({ program: c.program })}">${c.program}</a> · <code>${c.rule}</code><div class="muted nowrap">${c.sourceType} ${shortId(c.sourceId)}</div></td><td class="num">${amount(c.amount, c.currency)}</td><td>${commissionStatus(c.status)}</td><td class="wrap details">${details(page, c)}</td>${actions ? html`<td class="actions">${actions(c)}</td>` : ""}</tr>`,
	)}</tbody></table>`;
}

/** The columns of the commissions' CSV: amounts in minor units, beside their currency. */
export const COMMISSION_COLUMNS: CsvColumns<Commission> = [
	["time", (c) => c.createdAt],
	["user_id", (c) => c.userId],
	["role", (c) => c.role],
	["program", (c) => c.program],
	["rule", (c) => c.rule],
	["source_type", (c) => c.sourceType],
	["source_id", (c) => c.sourceId],
	["amount_minor", (c) => c.amount],
	["currency", (c) => c.currency],
	["status", (c) => c.status],
	["payable_at", (c) => c.payableAt],
	["held_reason", (c) => c.heldReason],
	["void_reason", (c) => c.voidReason],
	["clawback_of", (c) => c.clawbackOf],
	["payout_id", (c) => c.payoutId],
	["id", (c) => c.id],
];

const PROGRAM_ID = /^[A-Za-z0-9_.-]{1,64}$/;

/** A program filter: empty, or a program's id. */
export function programFilter(value: string): string | undefined {
	if (value === "") return undefined;
	if (!PROGRAM_ID.test(value)) throw badInput("A program's id is 1 to 64 letters, digits, _, - or .");
	return value;
}

const COMMISSIONS: Listing<Commission, Parameters<Refkit["exportCommissions"]>[0]> = {
	name: "commissions",
	title: "Commissions",
	intro: html`The ledger, newest first: what each referral earned, and for whom. A negative amount is a clawback, which a refund after payout appends; the next payout nets it.`,
	fields: [
		{ name: "user", label: "Beneficiary", max: 255, attributes: ' maxlength="255"' },
		{
			name: "status",
			label: "Status",
			max: 200,
			options: [
				["", "Any"],
				["pending", "Pending"],
				["held", "Held"],
				["approved", "Payable (approved)"],
				["paid", "Paid"],
				["voided", "Voided"],
			],
			invalid: "The status must be pending, held, approved, paid or voided.",
		},
		{
			name: "program",
			label: "Program",
			max: 64,
			attributes: ' pattern="[A-Za-z0-9_.\\-]{1,64}" maxlength="64"',
		},
	],
	query: (f) => ({
		userId: f.user || undefined,
		status: (f.status || undefined) as CommissionStatus | undefined,
		program: programFilter(f.program ?? ""),
	}),
	list: (refkit, query) => refkit.listCommissions(query),
	export: (refkit, query) => refkit.exportCommissions(query),
	columns: COMMISSION_COLUMNS,
	table: (page, rows) => commissionRows(page, rows),
	notices: false,
};

/** The routes of the commissions listing: its pages and its CSV. */
export const COMMISSION_ROUTES = listingRoutes(COMMISSIONS);
