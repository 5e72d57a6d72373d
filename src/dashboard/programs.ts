import type { DashboardResponse } from "../http/request.js";
import type { ReviewOptions } from "../programs/options.js";
import type { GoalRule, Liability, NamedRule, Program, SaleRule } from "../programs/types.js";
import { amount, Totals, total } from "./amounts.js";
import { type Html, html } from "./html.js";
import { formatNumber } from "./layout.js";
import { type PageContext, query } from "./pages.js";
import type { Route, RouteContext } from "./respond.js";

/**
 * The programs page: each program's terms as the application declares them, in plain words, and what the
 * ledger owes, per currency (`refkit.liabilities()`).
 */

type Kind = "pending" | "held" | "approved" | "paid" | "negative";

/** What the ledger owes, per currency: each state's sum over every beneficiary, and who is owed anything. */
export interface Liabilities {
	totals: Totals<Kind>;
	/** Beneficiaries per currency with any money in it. */
	beneficiaries: Map<string, number>;
	/** Beneficiaries per currency whose payable balance is negative (clawbacks beyond what was left). */
	negative: Map<string, number>;
}

export function liabilities(rows: Iterable<Liability>): Liabilities {
	const totals = new Totals<Kind>();
	const beneficiaries = new Map<string, number>();
	const negative = new Map<string, number>();
	for (const row of rows) {
		const { currency } = row;
		for (const kind of ["pending", "held", "approved", "paid"] as const)
			totals.add(currency, kind, row[kind]);
		totals.add(currency, "negative", row.negative.amount);
		beneficiaries.set(currency, row.beneficiaries);
		if (row.negative.beneficiaries > 0) negative.set(currency, row.negative.beneficiaries);
	}
	return { totals, beneficiaries, negative };
}

function plural(count: number, one: string, many = `${one}s`): string {
	return `${formatNumber(count)} ${count === 1 ? one : many}`;
}

function goalRule(rule: GoalRule, currency: string): Html {
	const sides = [
		rule.referrer ? html`${amount(rule.referrer, currency)} to the referrer` : null,
		rule.referred ? html`${amount(rule.referred, currency)} to the referred user` : null,
	].filter((side) => side !== null);
	const what =
		sides.length === 0 ? html`nothing` : html`${sides[0]}${sides[1] ? html` and ${sides[1]}` : ""}`;
	return html`When a referred user reaches the goal <code>${rule.goal}</code>: ${what}.`;
}

function saleRule(rule: SaleRule, currency: string): Html {
	const base =
		rule.percent !== undefined
			? html`${rule.percent} % of each sale`
			: html`${amount(rule.amount ?? 0, currency)} for each sale`;
	const limits = [
		rule.months !== undefined
			? html`for sales in the first ${plural(rule.months, "month")} after the referral`
			: null,
		rule.maxSales !== undefined ? html`on the referral's first ${plural(rule.maxSales, "sale")}` : null,
		rule.minimumSale !== undefined ? html`for sales of at least ${amount(rule.minimumSale, currency)}` : null,
		rule.capPerReferral !== undefined
			? html`at most ${amount(rule.capPerReferral, currency)} per referral`
			: null,
	].filter((limit) => limit !== null);
	return html`${base} to the referrer${limits.map((limit) => html`, ${limit}`)}.`;
}

/** A rule in plain words, with its name in the program (what commissions record as their `rule`). */
export function ruleText(rule: NamedRule, currency: string): Html {
	const text = rule.on === "goal" ? goalRule(rule, currency) : saleRule(rule, currency);
	return html`<li><code>${rule.name}</code>: ${text}</li>`;
}

function programCard(page: PageContext, program: Program): Html {
	const hold =
		program.holdDays === 0
			? "payable at once"
			: `payable ${plural(program.holdDays, "day")} after they are earned (the refund window)`;
	const minimum =
		program.minimumPayout === 0
			? html`none: any positive balance is paid`
			: html`${amount(program.minimumPayout, program.currency)}; a smaller balance waits for a later run`;
	return html`<section class="panel" id="program-${program.id}" aria-labelledby="program-${program.id}-title">
<h3 id="program-${program.id}-title"><code>${program.id}</code>${program.isDefault ? html` <span class="tag">default</span>` : ""}</h3>
<dl class="terms"><dt>Currency</dt><dd>${program.currency}</dd>
<dt>Commissions</dt><dd>${hold}</dd>
<dt>Minimum payout</dt><dd>${minimum}</dd>
<dt>Rules</dt><dd>${program.rules.length === 0 ? html`none: it earns nothing` : html`<ul class="rules">${program.rules.map((rule) => ruleText(rule, program.currency))}</ul>`}</dd></dl>
<p><a href="${page.base}/commissions${query({ program: program.id })}">Its commissions →</a></p>
</section>`;
}

function reviewText(review: Readonly<ReviewOptions>): Html {
	const checks = [
		review.sameIp ? "the referred user's visit came from an IP address the referrer used" : null,
		review.sameBrowser ? "that visit's browser (User-Agent) is one the referrer used" : null,
		review.maxPerHour !== undefined
			? `the referrer earned more than ${plural(review.maxPerHour, "commission")} in an hour`
			: null,
		review.hook !== undefined ? "the application's review hook says so" : null,
	].filter((check) => check !== null);
	if (checks.length === 0)
		return html`<p class="sub">No review: every commission waits out its holding period, then is payable.</p>`;
	return html`<p class="sub">A commission is held for review when ${checks.join("; or when ")}.</p>`;
}

function liabilitiesTable(page: PageContext, owed: Liabilities): Html {
	const currencies = owed.totals.currencies();
	if (currencies.length === 0) return html`<p class="muted">The ledger is empty: no commission yet.</p>`;
	const rows = currencies.map((currency) => {
		const sum = (kind: Kind) => total(owed.totals.get(currency, kind), currency);
		const negative = owed.negative.get(currency) ?? 0;
		return html`<tr><th scope="row">${currency}</th><td class="num">${sum("pending")}</td><td class="num"><a href="${page.base}/review">${sum("held")}</a></td><td class="num">${sum("approved")}${
			negative > 0
				? html`<div class="muted">of which ${sum("negative")} owed back by ${plural(negative, "beneficiary", "beneficiaries")}</div>`
				: ""
		}</td><td class="num">${sum("paid")}</td><td class="num">${formatNumber(owed.beneficiaries.get(currency) ?? 0)}</td></tr>`;
	});
	return html`<table><caption class="muted">Sums over every beneficiary's balance, as of now</caption>
<thead><tr><th scope="col">Currency</th><th scope="col" class="num">Pending</th><th scope="col" class="num">Held</th><th scope="col" class="num">Payable (approved)</th><th scope="col" class="num">Paid</th><th scope="col" class="num">Beneficiaries</th></tr></thead>
<tbody>${rows}</tbody></table>`;
}

export function programsPage(
	page: PageContext,
	view: { programs: Program[]; review: Readonly<ReviewOptions>; owed: Liabilities },
): Html {
	return html`<h1>Programs</h1>
<p class="sub">The referral programs this application declares (option <code>programs</code>), and what the ledger owes.</p>
<h2>Liabilities</h2>
<p class="sub">Pending commissions wait out their holding period; held ones wait for <a href="${page.base}/review">review</a>; payable ones go into the next <a href="${page.base}/payouts">payout run</a> (including those in payouts made but not yet marked paid); paid ones were transferred. Every program paying in a currency counts in its row.</p>
<div class="panel">${liabilitiesTable(page, view.owed)}</div>
<h2>Review</h2>
${reviewText(view.review)}
<h2>Terms</h2>
${
	view.programs.length === 0
		? html`<p class="muted">This application declares no referral programs: give <code>createRefkit()</code> the option <code>programs</code>.</p>`
		: view.programs.map((program) => programCard(page, program))
}`;
}

async function programs(ctx: RouteContext): Promise<DashboardResponse> {
	const declared = ctx.refkit.options.programs;
	const owed = liabilities(await ctx.refkit.liabilities());
	const list = [...declared.byId.values()].sort(
		(a, b) => Number(b.isDefault) - Number(a.isDefault) || a.id.localeCompare(b.id),
	);
	const body = programsPage(ctx.page, { programs: list, review: declared.review, owed });
	return ctx.show(200, "Programs", "programs", body);
}

/** The programs page's route. */
export const PROGRAM_ROUTES: readonly Route[] = [{ method: "GET", path: "/programs", handle: programs }];
