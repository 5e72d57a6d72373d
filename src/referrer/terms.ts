import type { GoalRule, Program, SaleRule } from "../programs/types.js";
import type { Formats } from "./format.js";
import type { ReferrerMessages } from "./messages.js";

/**
 * A program's terms in plain words, for the referrer who earns under it: what each rule pays (to them, and to
 * the friend they refer), how long earnings wait before they are payable, and the smallest payout. The words
 * are the page's messages, so that they translate with it; amounts are in the page's locale.
 */

type TermMessages = Pick<
	ReferrerMessages,
	"goalAction" | "goalRule" | "saleRule" | "holdingPeriod" | "minimumPayout"
>;

function goalText(rule: GoalRule, currency: string, messages: TermMessages, formats: Formats): string {
	const side = (amount: number | undefined) =>
		amount === undefined || amount === 0 ? null : formats.money(amount, currency);
	return messages.goalRule({
		goal: rule.goal,
		action: messages.goalAction(rule.goal),
		referrer: side(rule.referrer),
		referred: side(rule.referred),
	});
}

function saleText(rule: SaleRule, currency: string, messages: TermMessages, formats: Formats): string {
	const money = (amount: number | undefined) =>
		amount === undefined ? null : formats.money(amount, currency);
	return messages.saleRule({
		percent: rule.percent === undefined ? null : formats.share(rule.percent),
		amount: rule.percent === undefined ? formats.money(rule.amount ?? 0, currency) : null,
		months: rule.months ?? null,
		maxSales: rule.maxSales ?? null,
		minimumSale: money(rule.minimumSale),
		capPerReferral: money(rule.capPerReferral),
	});
}

/** What `program` pays, in sentences: one per rule, then its holding period and its minimum payout. */
export function termsOf(program: Program, messages: TermMessages, formats: Formats): string[] {
	const rules = program.rules.map((rule) =>
		rule.on === "goal"
			? goalText(rule, program.currency, messages, formats)
			: saleText(rule, program.currency, messages, formats),
	);
	return [
		...rules,
		messages.holdingPeriod(program.holdDays, formats.number(program.holdDays)),
		messages.minimumPayout(
			program.minimumPayout === 0 ? null : formats.money(program.minimumPayout, program.currency),
		),
	];
}
