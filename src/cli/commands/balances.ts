import type { Command } from "commander";
import type { Balance } from "../../index.js";
import { amountCell } from "../ledger.js";
import { cell, examples, type Io, json, parseNonEmpty, table, withRefkit } from "../shared.js";

function balancesTable(balances: Balance[]): string {
	return table(
		["user", "currency", "pending", "held", "approved", "paid"],
		balances.map((b) => [
			cell(b.userId),
			b.currency,
			amountCell(b.pending, b.currency),
			amountCell(b.held, b.currency),
			amountCell(b.approved, b.currency),
			amountCell(b.paid, b.currency),
		]),
	);
}

/** Adds `refkit balances` to `program`. */
export function registerBalances(program: Command, io: Io): void {
	program
		.command("balances")
		.description(
			"print what each beneficiary has, per currency, as of now: pending (in its holding period), held (for review), approved (payable) and paid",
		)
		.argument("[user-id]", "only this user's balances (default: every beneficiary's)", parseNonEmpty)
		.option("--json", "print the balances as a JSON array")
		.addHelpText(
			"after",
			examples(
				"$ refkit balances",
				"$ refkit balances 42 --json",
				"",
				"Amounts are whole minor units (cents): 1234 USD is 12.34 USD. Approved is net of clawbacks, so it",
				"can be negative: the next payouts take it back before paying.",
			),
		)
		.action(async (userId: string | undefined, options: { json?: boolean }, command: Command) => {
			const found = await withRefkit(command, io, (refkit) => refkit.balances(userId));
			if (options.json) io.out(json(found));
			else io.out(found.length === 0 ? "no balances\n" : balancesTable(found));
		});
}
