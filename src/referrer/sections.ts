import { barChart, type ChartLabels } from "../dashboard/chart.js";
import { type Html, html } from "../dashboard/html.js";
import type { Formats } from "./format.js";
import type { ReferrerMessages } from "./messages.js";
import { termsOf } from "./terms.js";
import type { ReferrerEarnings, ReferrerSummary } from "./types.js";

/**
 * The referrer page's sections below the link: the funnel over the period (cards, two charts, every day's
 * numbers in a table), the earnings by state (a bar and a table per currency), the payouts, the recent
 * referrals, the terms in words and the leaderboard. Each renders only what `referrerSummary()` answered.
 */

/** What every section is given: the summary, the page's texts and formats, and how to link to a period. */
export interface RenderContext {
	summary: ReferrerSummary;
	messages: ReferrerMessages;
	formats: Formats;
	/** Whether the application declares referral programs: only then are money and terms shown. */
	programs: boolean;
	/** The page's URL with these query parameters (the current link kept). */
	href(query: { days: number }): string;
}

/** The periods offered, in days: `?days=` takes only these. */
export const PERIODS = [7, 30, 90, 365] as const;

/** Money as the page shows it, its exact minor units beside it for scripts and tests. */
export function money(ctx: RenderContext, minor: number, currency: string): Html {
	return html`<span class="refkit-amount" data-minor="${minor}" data-currency="${currency}">${ctx.formats.money(minor, currency)}</span>`;
}

function count(ctx: RenderContext, value: number): Html {
	return html`<td class="refkit-num">${ctx.formats.number(value)}</td>`;
}

function section(id: string, heading: string, body: Html | Html[]): Html {
	return html`<section class="refkit-panel" id="refkit-${id}" aria-labelledby="refkit-${id}-heading">
<h2 id="refkit-${id}-heading">${heading}</h2>
${body}
</section>`;
}

/**
 * A table that scrolls sideways inside its panel on a narrow screen, reachable by keyboard: a region named
 * like its table, so that what takes the focus is announced.
 */
function scroll(label: string, table: Html): Html {
	return html`<div class="refkit-scroll" role="region" aria-label="${label}" tabindex="0">${table}</div>`;
}

/**
 * A section of one list as a table (scrolling inside its panel, a region named `label`), or, when the list is
 * empty, the message that says so.
 */
function listSection(
	id: string,
	heading: string,
	list: { empty: boolean; message: string; label?: string },
	table: () => Html,
): Html {
	return section(
		id,
		heading,
		list.empty ? html`<p class="refkit-muted">${list.message}</p>` : scroll(list.label ?? heading, table()),
	);
}

/** A goal's count in a record of counts by goal: its own property only (a goal may be named `constructor`). */
function countOf(counts: Record<string, number>, goal: string): number {
	return Object.hasOwn(counts, goal) ? (counts[goal] as number) : 0;
}

function chartLabels(ctx: RenderContext): ChartLabels {
	const { messages, formats } = ctx;
	return {
		axis: messages.dayAxis,
		date: formats.shortDay,
		number: formats.number,
		description: ({ total, unit, from, to, max }) =>
			messages.chartDescription({
				total: formats.number(total),
				unit,
				from,
				to,
				max: formats.number(max),
			}),
	};
}

function periods(ctx: RenderContext): Html {
	const { messages, formats, summary } = ctx;
	const items = PERIODS.map(
		(days) =>
			html`<li><a href="${ctx.href({ days })}"${days === summary.period.days ? html` aria-current="true"` : ""}>${messages.lastDays(days, formats.number(days))}</a></li>`,
	);
	return html`<nav aria-label="${messages.periodLabel}"><ul class="refkit-periods">${items}</ul></nav>`;
}

/** The funnel: clicks and each goal's conversions over the period, as cards, charts and a table. */
export function funnelSection(ctx: RenderContext): Html {
	const { messages, formats, summary } = ctx;
	const { funnel, period } = summary;
	const last = funnel.daily.at(-1)?.date ?? period.to.toISOString().slice(0, 10);
	const first = funnel.daily[0]?.date ?? last;
	const rate = (conversions: number) =>
		// At most 100 %: a conversion of the period may follow a click made before it.
		funnel.totals.clicks === 0 ? null : formats.percent(Math.min(1, conversions / funnel.totals.clicks));
	const cards = [
		html`<div class="refkit-card"><dt>${messages.clicks}</dt><dd>${formats.number(funnel.totals.clicks)}</dd></div>`,
		...funnel.goals.map((goal) => {
			const value = countOf(funnel.totals.conversions, goal);
			const share = rate(value);
			return html`<div class="refkit-card"><dt>${messages.goal(goal)}</dt><dd>${formats.number(value)}${share === null ? "" : html`<small>${messages.ofClicks(share)}</small>`}</dd></div>`;
		}),
	];
	const conversionsOf = (day: (typeof funnel.daily)[number]) =>
		Object.values(day.conversions).reduce((sum, value) => sum + value, 0);
	const labels = chartLabels(ctx);
	const clicksChart = barChart(
		{
			title: messages.clicksPerDay,
			unit: messages.clicksUnit,
			points: funnel.daily.map((day) => ({ date: day.date, value: day.clicks })),
			color: "#3446c4",
		},
		labels,
	);
	const conversionsChart = barChart(
		{
			title: messages.conversionsPerDay,
			unit: messages.conversionsUnit,
			points: funnel.daily.map((day) => ({ date: day.date, value: conversionsOf(day) })),
			color: "#1f2933",
		},
		labels,
	);
	const head = html`<tr><th scope="col">${messages.day}</th><th scope="col" class="refkit-num">${messages.clicks}</th>${funnel.goals.map((goal) => html`<th scope="col" class="refkit-num">${messages.goal(goal)}</th>`)}</tr>`;
	const rows = [...funnel.daily]
		.reverse()
		.map(
			(day) =>
				html`<tr><th scope="row">${formats.day(day.date)}</th>${count(ctx, day.clicks)}${funnel.goals.map((goal) => count(ctx, countOf(day.conversions, goal)))}</tr>`,
		);
	const totals = html`<tr><th scope="row">${messages.total}</th>${count(ctx, funnel.totals.clicks)}${funnel.goals.map((goal) => count(ctx, countOf(funnel.totals.conversions, goal)))}</tr>`;
	return section(
		"funnel",
		messages.funnelHeading,
		html`${periods(ctx)}
<p class="refkit-sub">${messages.periodRange(formats.day(first), formats.day(last))}</p>
<dl class="refkit-cards">${cards}</dl>
${funnel.totals.reversed > 0 ? html`<p class="refkit-muted">${messages.reversedSince(funnel.totals.reversed, formats.number(funnel.totals.reversed))}</p>` : ""}
<div class="refkit-charts"><div class="refkit-clicks">${clicksChart}</div><div class="refkit-conversions">${conversionsChart}</div></div>
<details><summary>${messages.dailyTable}</summary>
${scroll(messages.funnelCaption, html`<table class="refkit-daily"><caption>${messages.funnelCaption}</caption><thead>${head}</thead><tbody>${rows}</tbody><tfoot>${totals}</tfoot></table>`)}
</details>`,
	);
}

const STATES = ["pending", "held", "payable", "paid"] as const;

/** One currency's earnings as a bar of its four states (the negative payable of a clawback counts as none). */
function earningsBar(ctx: RenderContext, earnings: ReferrerEarnings): Html {
	const { messages } = ctx;
	const order = ["paid", "payable", "held", "pending"] as const;
	const total = order.reduce((sum, state) => sum + Math.max(0, earnings[state]), 0);
	let x = 0;
	const segments = order.map((state) => {
		const width = total === 0 ? 0 : (Math.max(0, earnings[state]) / total) * 100;
		const rect = html`<rect class="refkit-state-${state}" x="${x.toFixed(2)}" y="0" width="${width.toFixed(2)}" height="10"/>`;
		x += width;
		return rect;
	});
	const label = `${messages.earningsChart(earnings.currency)}: ${STATES.map(
		(state) => `${messages[state]} ${ctx.formats.money(earnings[state], earnings.currency)}`,
	).join(", ")}`;
	return html`<svg class="refkit-bar" viewBox="0 0 100 10" preserveAspectRatio="none" role="img" aria-label="${label}"><rect class="refkit-back" width="100" height="10"/>${segments}</svg>`;
}

/** The earnings per currency by state, the days pending ones become payable. */
export function earningsSection(ctx: RenderContext): Html {
	const { messages, formats, summary } = ctx;
	if (summary.earnings.length === 0) {
		return section(
			"earnings",
			messages.earningsHeading,
			html`<p class="refkit-muted">${messages.noEarnings}</p>`,
		);
	}
	const swatch = (state: (typeof STATES)[number]) =>
		html`<span class="refkit-swatch refkit-state-${state}" aria-hidden="true"></span>`;
	const bars = summary.earnings.map(
		(earnings) =>
			html`<div class="refkit-earnings-bar" data-currency="${earnings.currency}">${earningsBar(ctx, earnings)}</div>`,
	);
	const rows = summary.earnings.map(
		(earnings) =>
			html`<tr data-currency="${earnings.currency}"><th scope="row">${earnings.currency}</th>${STATES.map(
				(state) => html`<td class="refkit-num">${money(ctx, earnings[state], earnings.currency)}</td>`,
			)}</tr>`,
	);
	const negative = summary.earnings
		.filter((earnings) => earnings.payable < 0)
		.map(
			(earnings) =>
				html`<p class="refkit-notice">${messages.negativePayable(formats.money(-earnings.payable, earnings.currency))}</p>`,
		);
	const upcoming =
		summary.upcoming.length === 0
			? ""
			: html`<h3 id="refkit-upcoming-heading">${messages.upcomingHeading}</h3>
${scroll(
	messages.upcomingHeading,
	html`<table class="refkit-upcoming" aria-labelledby="refkit-upcoming-heading"><thead><tr><th scope="col">${messages.date}</th><th scope="col" class="refkit-num">${messages.amount}</th></tr></thead>
<tbody>${summary.upcoming.map((row) => html`<tr><td>${formats.day(row.date)}</td><td class="refkit-num">${money(ctx, row.amount, row.currency)}</td></tr>`)}</tbody></table>`,
)}`;
	return section(
		"earnings",
		messages.earningsHeading,
		html`${bars}
${scroll(
	messages.earningsCaption,
	html`<table class="refkit-earnings"><caption>${messages.earningsCaption}</caption><thead><tr><th scope="col">${messages.currency}</th>${STATES.map((state) => html`<th scope="col" class="refkit-num">${swatch(state)}${messages[state]}</th>`)}</tr></thead>
<tbody>${rows}</tbody></table>`,
)}
<ul class="refkit-legend">${STATES.map((state) => html`<li>${swatch(state)}<strong>${messages[state]}</strong>: ${messages[`${state}Help`]}</li>`)}</ul>
${negative}
${upcoming}`,
	);
}

/** The recent payouts. */
export function payoutsSection(ctx: RenderContext): Html {
	const { messages, formats, summary } = ctx;
	const rows = summary.payouts.map(
		(payout) =>
			html`<tr><td>${formats.day(payout.createdAt)}</td><td class="refkit-num">${money(ctx, payout.amount, payout.currency)}</td><td>${messages.payoutStatus(payout.status)}</td><td>${payout.paidAt === null ? "" : formats.day(payout.paidAt)}</td><td>${payout.reference ?? ""}</td></tr>`,
	);
	return listSection(
		"payouts",
		messages.payoutsHeading,
		{ empty: summary.payouts.length === 0, message: messages.noPayouts },
		() =>
			html`<table class="refkit-payouts" aria-labelledby="refkit-payouts-heading"><thead><tr><th scope="col">${messages.date}</th><th scope="col" class="refkit-num">${messages.amount}</th><th scope="col">${messages.status}</th><th scope="col">${messages.paidOn}</th><th scope="col">${messages.reference}</th></tr></thead>
<tbody>${rows}</tbody></table>`,
	);
}

/** The recent referrals, named by `displayName` or masked by their alias. */
export function referralsSection(ctx: RenderContext): Html {
	const { messages, formats, summary } = ctx;
	const rows = summary.referrals.map(
		(referral) =>
			html`<tr${referral.reversed ? html` class="refkit-reversed"` : ""}><td>${formats.time(referral.createdAt)}</td><td>${referral.name ?? messages.referralName(referral.alias)}</td><td>${messages.referralGoal(referral.goal)}</td><td>${referral.reversed ? messages.reversed : messages.counted}</td></tr>`,
	);
	return listSection(
		"referrals",
		messages.referralsHeading,
		{ empty: summary.referrals.length === 0, message: messages.noReferrals },
		() =>
			html`<table class="refkit-referrals" aria-labelledby="refkit-referrals-heading"><thead><tr><th scope="col">${messages.when}</th><th scope="col">${messages.who}</th><th scope="col">${messages.goalColumn}</th><th scope="col">${messages.status}</th></tr></thead>
<tbody>${rows}</tbody></table>`,
	);
}

/** The terms of the programs the user's links earn under, in words. */
export function termsSection(ctx: RenderContext): Html {
	const { messages, formats, summary } = ctx;
	const several = summary.programs.length > 1;
	// A payout gathers a currency's earnings of every program, and waits for the highest of their minimums
	// (createPayouts): each program's terms say that one.
	const minimums = new Map<string, number>();
	for (const { currency, minimumPayout } of summary.programs)
		minimums.set(currency, Math.max(minimums.get(currency) ?? 0, minimumPayout));
	const programs = summary.programs.map((program) => {
		const terms = termsOf(
			{ ...program, minimumPayout: minimums.get(program.currency) ?? 0 },
			messages,
			formats,
		);
		return html`${several ? html`<h3>${messages.programHeading(program.id)}</h3>` : ""}<ul class="refkit-terms" data-program="${program.id}">${terms.map((sentence) => html`<li>${sentence}</li>`)}</ul>`;
	});
	return section("terms", messages.termsHeading, programs);
}

/** The period's top referrers, the user's own row marked; nobody's user id, only names and aliases. */
export function leaderboardSection(ctx: RenderContext): Html {
	const { messages, formats, summary } = ctx;
	const board = summary.leaderboard ?? [];
	const rows = board.map(
		(entry) =>
			html`<tr${entry.you ? html` class="refkit-you"` : ""}><td class="refkit-num">${formats.number(entry.rank)}</td><td>${entry.name ?? messages.referrerName(entry.alias)}${entry.you ? html` <span class="refkit-tag">${messages.you}</span>` : ""}</td>${count(ctx, entry.conversions)}${count(ctx, entry.clicks)}</tr>`,
	);
	return listSection(
		"leaderboard",
		messages.leaderboardHeading,
		{ empty: board.length === 0, message: messages.noLeaderboard, label: messages.leaderboardCaption },
		() =>
			html`<table class="refkit-leaderboard"><caption>${messages.leaderboardCaption}</caption><thead><tr><th scope="col" class="refkit-num">${messages.rank}</th><th scope="col">${messages.name}</th><th scope="col" class="refkit-num">${messages.conversions}</th><th scope="col" class="refkit-num">${messages.clicks}</th></tr></thead>
<tbody>${rows}</tbody></table>`,
	);
}
