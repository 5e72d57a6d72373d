import type { Balance, Commission, Conversion, Program, Refkit, Sale } from "refkit";
import { escapeHtml, table, when } from "./html.js";
import { money } from "./program.js";

/**
 * "Your earnings" on a user's page: what the ledger owes them, by status (pending with when it becomes
 * payable, held for review, payable, paid), and their latest commissions one by one. Read through the public
 * API only: `balances()`, `listCommissions()` and `listSales()`.
 */

/** What the program pays, in a sentence, from the program refkit was given. */
function terms(program: Program): string {
	const parts = program.rules.map((rule) => {
		if (rule.on === "goal") {
			const sides = [
				rule.referrer ? `${money(rule.referrer, program.currency)} to the referrer` : "",
				rule.referred ? `${money(rule.referred, program.currency)} to the new user` : "",
			].filter(Boolean);
			return `${sides.join(" and ")} at ${escapeHtml(rule.goal)}`;
		}
		const share = rule.percent !== undefined ? `${rule.percent}%` : money(rule.amount ?? 0, program.currency);
		return `${share} of every purchase to the referrer${rule.months ? ` for ${rule.months} months` : ""}`;
	});
	return `${parts.join("; ")}. Earnings wait ${program.holdDays} day${program.holdDays === 1 ? "" : "s"} (the refund window) before they are payable; a payout is made from ${money(program.minimumPayout, program.currency)}.`;
}

/** What a commission was earned for, in words. */
function source(commission: Commission, conversions: Map<string, Conversion>, sales: Map<string, Sale>) {
	if (commission.clawbackOf !== null) return "taken back (a refund after payout)";
	if (commission.role === "referred") return `your ${escapeHtml(commission.rule)} through a friend's link`;
	if (commission.sourceType === "sale") {
		const sale = sales.get(commission.sourceId);
		const buyer = sale ? escapeHtml(sale.userId) : "a friend";
		const price = typeof commission.terms.saleAmount === "number" ? commission.terms.saleAmount : null;
		const share = typeof commission.terms.percent === "number" ? `${commission.terms.percent}% of ` : "";
		return `${share}${buyer}'s purchase${price === null ? "" : ` of ${money(price, commission.currency)}`}`;
	}
	const conversion = conversions.get(commission.sourceId);
	return `${conversion ? escapeHtml(conversion.referredUserId) : "a friend"}'s ${escapeHtml(commission.rule)}`;
}

function state(commission: Commission): string {
	switch (commission.status) {
		case "pending":
			return `pending until ${when(commission.payableAt)}`;
		case "held":
			return `held for review: ${escapeHtml(commission.heldReason ?? "")}`;
		case "approved":
			return "payable";
		case "paid":
			return "paid";
		case "voided":
			return `voided: ${escapeHtml(commission.voidReason ?? "")}`;
	}
}

/** The rows of the by-status table for one currency. */
function statusRows(balance: Balance, pending: Commission[], minimum: number | null): string[][] {
	const { currency } = balance;
	const mine = pending.filter((c) => c.currency === currency).sort((a, b) => +a.payableAt - +b.payableAt);
	const due = mine
		.slice(0, 5)
		.map((c) => `${money(c.amount, currency)} on ${when(c.payableAt)}`)
		.join(", ");
	const more = mine.length > 5 ? `, and ${mine.length - 5} more` : "";
	return [
		["Pending", money(balance.pending, currency), due === "" ? "" : `payable: ${due}${more}`],
		["Held", money(balance.held, currency), balance.held === 0 ? "" : "waiting for an admin's review"],
		[
			"Payable",
			money(balance.approved, currency),
			minimum === null ? "" : `paid out by the next payout run once it reaches ${money(minimum, currency)}`,
		],
		["Paid", money(balance.paid, currency), ""],
	];
}

/** The section's HTML, from its `<h2>`. `conversions` are those credited to the user (for their names). */
export async function earningsSection(
	refkit: Refkit,
	userId: string,
	conversions: readonly Conversion[],
): Promise<string> {
	const program = refkit.options.programs.default;
	if (program === null) return "";
	const [balances, pending, latest, sales] = await Promise.all([
		refkit.balances(userId),
		refkit.listCommissions({ userId, status: "pending", limit: 100 }),
		refkit.listCommissions({ userId, limit: 20 }),
		refkit.listSales({ referrerUserId: userId, limit: 100 }),
	]);
	const minimum = (currency: string) => (currency === program.currency ? program.minimumPayout : null);
	const rows = balances.flatMap((balance) => statusRows(balance, pending, minimum(balance.currency)));
	const byId = <T extends { id: string }>(items: readonly T[]) =>
		new Map(items.map((item) => [item.id, item]));
	const conversionsById = byId(conversions);
	const salesById = byId(sales);
	const commissionRows = latest.map((c) => [
		when(c.createdAt),
		source(c, conversionsById, salesById),
		money(c.amount, c.currency),
		state(c),
	]);
	return `<h2>Your earnings</h2>
<p class="muted">The program: ${terms(program)}</p>
${table(["Status", "Amount", ""], rows, "No earnings yet: share your link.", "earnings")}
${commissionRows.length === 0 ? "" : `<h3>Your latest commissions</h3>\n${table(["When (UTC)", "For", "Amount", "Status"], commissionRows, "", "commissions")}`}`;
}
