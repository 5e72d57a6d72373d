import { type Command, Option } from "commander";
import type { Commission, CommissionStatus } from "../../index.js";
import { amountCell, amountText, kept, parseUuid, printListing } from "../ledger.js";
import { cell, examples, type Io, parseLimit, parseNonEmpty, table, withRefkit } from "../shared.js";

interface ListOptions {
	user?: string;
	status?: CommissionStatus;
	program?: string;
	payout?: string;
	limit?: number;
	json?: boolean;
}

const STATUSES: readonly CommissionStatus[] = ["pending", "held", "approved", "paid", "voided"];
const parseCommissionId = parseUuid("a commission's id");

/** Why a commission is held, voided, or what it takes back: the one note a row of the table has room for. */
function note(commission: Commission): string | null {
	if (commission.status === "held") return commission.heldReason;
	if (commission.status === "voided") return commission.voidReason;
	if (commission.clawbackOf !== null) return `takes back ${commission.clawbackOf}`;
	if (commission.replaces !== null) return `replaces ${commission.replaces}`;
	return null;
}

function commissionsTable(commissions: Commission[]): string {
	return table(
		[
			"id",
			"user",
			"role",
			"program",
			"rule",
			"source",
			"amount",
			"currency",
			"status",
			"payable",
			"payout",
			"note",
		],
		commissions.map((c) => [
			c.id,
			cell(c.userId),
			c.role,
			cell(c.program),
			cell(c.rule),
			c.sourceType,
			amountCell(c.amount, c.currency),
			c.currency,
			c.status,
			cell(c.payableAt),
			cell(c.payoutId),
			cell(note(c)),
		]),
	);
}

/** `500 USD (5.00) to alice (referrer, program main, rule signup)`. */
function about(commission: Commission): string {
	return `${amountText(commission.amount, commission.currency)} to ${cell(commission.userId)} (${commission.role}, program ${cell(commission.program)}, rule ${cell(commission.rule)})`;
}

/** Adds `refkit commissions list|release|reject` to `program`. */
export function registerCommissions(program: Command, io: Io): void {
	const commissions = program
		.command("commissions")
		.description("list the commission ledger, and release or reject the commissions held for review")
		.addHelpText(
			"after",
			examples("$ refkit commissions list --status held", "$ refkit commissions release <commission-id>"),
		);

	commissions
		.command("list")
		.description("list commissions, newest first: every one that matches, unless --limit says fewer")
		.option("--user <id>", "only the commissions owed to this user (the beneficiary)", parseNonEmpty)
		.addOption(
			new Option(
				"--status <status>",
				"only those in this status, as of now (a pending one past its holding period is approved)",
			).choices(STATUSES),
		)
		.option("--program <id>", "only those of this program", parseNonEmpty)
		.option(
			"--payout <id>",
			"only those this payout pays (its clawbacks included)",
			parseUuid("a payout's id"),
		)
		.option("--limit <n>", "at most this many commissions, 1 to 1000 (default: all)", parseLimit)
		.option("--json", "print the commissions as a JSON array, with every field")
		.addHelpText(
			"after",
			examples(
				"$ refkit commissions list --status held",
				"$ refkit commissions list --user 42 --json",
				"$ refkit commissions list --payout <payout-id>",
				"",
				"Amounts are whole minor units (cents) of the currency beside them: 1234 USD is 12.34 USD.",
				"A clawback (what a refund takes back after a payout) has a negative amount.",
			),
		)
		.action(async (options: ListOptions, command: Command) => {
			await withRefkit(command, io, (refkit) =>
				printListing(
					io,
					kept(
						refkit.exportCommissions({
							userId: options.user,
							status: options.status,
							program: options.program,
							payoutId: options.payout,
						}),
						{ limit: options.limit },
					),
					options,
					commissionsTable,
					"no commissions",
				),
			);
		});

	commissions
		.command("release")
		.description("release a commission held for review: it becomes payable once its holding period is over")
		.argument("<id>", "the commission's id (see `refkit commissions list --status held`)", parseCommissionId)
		.addHelpText("after", examples("$ refkit commissions release 0b7c3c9e-8f0a-4c3d-9b1e-2f4a5d6c7e8f"))
		.action(async (id: string, _options: unknown, command: Command) => {
			const released = await withRefkit(command, io, (refkit) => refkit.releaseCommission(id));
			const when =
				released.status === "approved"
					? "payable now"
					: `pending, payable from ${released.payableAt.toISOString()}`;
			io.out(`released commission ${released.id}: ${about(released)}, ${when}\n`);
		});

	commissions
		.command("reject")
		.description("reject a commission held for review: it is voided, with the reason, and never paid")
		.argument("<id>", "the commission's id (see `refkit commissions list --status held`)", parseCommissionId)
		.requiredOption("--reason <text>", "why, kept with the commission (1 to 1000 characters)", parseNonEmpty)
		.addHelpText(
			"after",
			examples('$ refkit commissions reject 0b7c3c9e-8f0a-4c3d-9b1e-2f4a5d6c7e8f --reason "same household"'),
		)
		.action(async (id: string, options: { reason: string }, command: Command) => {
			const rejected = await withRefkit(command, io, (refkit) =>
				refkit.rejectCommission(id, { reason: options.reason }),
			);
			io.out(
				`rejected commission ${rejected.id}: ${about(rejected)}, voided (${cell(rejected.voidReason)})\n`,
			);
		});
}
