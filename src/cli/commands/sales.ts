import { randomUUID } from "node:crypto";
import type { Command } from "commander";
import type { RefundSaleResult, Sale } from "../../index.js";
import { amountCell, amountText, everyRow, kept, parseMinorUnits, printListing } from "../ledger.js";
import {
	cell,
	examples,
	type Io,
	json,
	parseLimit,
	parseNonEmpty,
	plural,
	table,
	withRefkit,
} from "../shared.js";

interface ListOptions {
	user?: string;
	referrer?: string;
	limit?: number;
	json?: boolean;
}

interface RefundOptions {
	amount?: number;
	reason: string;
	id?: string;
	json?: boolean;
}

function salesTable(sales: Sale[]): string {
	return table(
		["external id", "user", "referrer", "program", "amount", "refunded", "currency", "sale no.", "time"],
		sales.map((sale) => [
			cell(sale.externalId),
			cell(sale.userId),
			cell(sale.referrerUserId),
			cell(sale.program),
			amountCell(sale.amount, sale.currency),
			amountCell(sale.refunded, sale.currency),
			sale.currency,
			String(sale.sequence),
			cell(sale.createdAt),
		]),
	);
}

/** What a refund did, a line each: the refund, then what it took back of the sale's commissions. */
function refundText(result: RefundSaleResult): string {
	const { sale, refund } = result;
	const left = amountText(sale.amount - sale.refunded, sale.currency);
	if (result.status === "duplicate") {
		return `refund ${cell(refund.externalId)} was recorded before (${amountText(refund.amount, sale.currency)} of sale ${cell(sale.externalId)}): nothing changed; ${left} left to refund\n`;
	}
	const lines = [
		`refunded ${amountText(refund.amount, sale.currency)} of sale ${cell(sale.externalId)} (refund ${cell(refund.externalId)}); ${left} left to refund`,
	];
	if (result.voided.length > 0) {
		const kept = result.replacements.length;
		lines.push(
			`voided ${plural(result.voided.length, "commission")} not paid out yet${kept > 0 ? `; ${kept === 1 ? "1 new commission keeps" : `${kept} new commissions keep`} what is left of ${result.voided.length === 1 ? "it" : "them"}` : ""}`,
		);
	}
	for (const clawback of result.clawbacks) {
		lines.push(
			`clawed back ${amountText(-clawback.amount, clawback.currency)} from ${cell(clawback.userId)}, already in a payout: the next payout takes it back`,
		);
	}
	if (result.voided.length === 0 && result.clawbacks.length === 0) lines.push("no commission to take back");
	return `${lines.join("\n")}\n`;
}

/** Adds `refkit sales list|refund` to `program`. */
export function registerSales(program: Command, io: Io): void {
	const sales = program
		.command("sales")
		.description("list the sales of referred users, and refund them")
		.addHelpText(
			"after",
			examples(
				"$ refkit sales list --user 42",
				'$ refkit sales refund inv_1001 --reason "requested by customer"',
			),
		);

	sales
		.command("list")
		.description("list sales, newest first: every one that matches, unless --limit says fewer")
		.option("--user <id>", "only the sales of this (referred) user", parseNonEmpty)
		.option("--referrer <id>", "only the sales credited to this referrer", parseNonEmpty)
		.option("--limit <n>", "at most this many sales, 1 to 1000 (default: all)", parseLimit)
		.option("--json", "print the sales as a JSON array, with every field")
		.addHelpText(
			"after",
			examples(
				"$ refkit sales list",
				"$ refkit sales list --user 42 --json",
				"$ refkit sales list --referrer 7 --limit 20",
				"",
				"Amounts are whole minor units (cents): 1234 USD is 12.34 USD.",
			),
		)
		.action(async (options: ListOptions, command: Command) => {
			await withRefkit(command, io, (refkit) =>
				printListing(
					io,
					kept(
						everyRow((limit, offset) =>
							refkit.listSales({ userId: options.user, referrerUserId: options.referrer, limit, offset }),
						),
						{ limit: options.limit },
					),
					options,
					salesTable,
					"no sales",
				),
			);
		});

	sales
		.command("refund")
		.description(
			"refund a sale, all or part of it: takes back the same share of its commissions (voided if not paid out yet, else clawed back from the next payout)",
		)
		.argument("<external-id>", "the sale's id in your billing system (its invoice or order id)")
		.option(
			"--amount <n>",
			"minor units (cents) to refund, such as 1250 for 12.50 USD (default: all that is left)",
			parseMinorUnits,
		)
		.requiredOption(
			"--reason <text>",
			'why, such as "requested by customer" (1 to 1000 characters)',
			parseNonEmpty,
		)
		.option(
			"--id <refund-id>",
			"the refund's id in your billing system (default: a new random one). Passing it makes a retry safe: a refund whose id was recorded before is not recorded again",
			parseNonEmpty,
		)
		.option(
			"--json",
			"print what the refund did as JSON: the sale, the refund, the commissions voided, replaced and clawed back",
		)
		.addHelpText(
			"after",
			examples(
				'$ refkit sales refund inv_1001 --reason "requested by customer"',
				'$ refkit sales refund inv_1001 --amount 500 --reason "partial refund" --id re_3PQx1',
				"",
				"Without --id, each run is a new refund: run it again only with the id it printed.",
			),
		)
		.action(async (externalId: string, options: RefundOptions, command: Command) => {
			const result = await withRefkit(command, io, (refkit) =>
				refkit.refundSale({
					externalId,
					refundId: options.id ?? randomUUID(),
					amount: options.amount,
					reason: options.reason,
				}),
			);
			io.out(options.json ? json(result) : refundText(result));
		});
}
