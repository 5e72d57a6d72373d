import { type Command, Option } from "commander";
import type { Payout, PayoutRun } from "../../index.js";
import {
	amountCell,
	amountText,
	everyRow,
	jsonArray,
	kept,
	parseUuid,
	printListing,
	stream,
} from "../ledger.js";
import {
	CliError,
	cell,
	examples,
	type Io,
	parseLimit,
	parseNonEmpty,
	plural,
	table,
	withRefkit,
	writeAll,
	writeFileAtomically,
} from "../shared.js";
import { parseSince } from "./export.js";

interface ListOptions {
	status?: Payout["status"];
	user?: string;
	run?: string;
	limit?: number;
	json?: boolean;
}

const STATUSES: readonly Payout["status"][] = ["created", "paid", "failed"];
const parsePayoutId = parseUuid("a payout's id");

function payoutsTable(payouts: Payout[]): string {
	return table(
		["id", "user", "currency", "amount", "commissions", "status", "reference or reason", "created", "run"],
		payouts.map((p) => [
			p.id,
			cell(p.userId),
			p.currency,
			amountCell(p.amount, p.currency),
			String(p.commissions),
			p.status,
			cell(p.reference ?? p.failureReason),
			cell(p.createdAt),
			p.runId,
		]),
	);
}

/** The run as JSON: its summary, then `payouts`, every payout it made, written as they are read. */
async function* runJson(run: PayoutRun, payouts: AsyncIterable<Payout>): AsyncGenerator<string> {
	const { runId, cutoff, totals, carriedForward } = run;
	// Ends with "\n}": the array is written in its place.
	const head = JSON.stringify({ runId, cutoff, totals, carriedForward }, null, 2);
	yield `${head.slice(0, -2)},\n  "payouts": `;
	yield* jsonArray(payouts, 1);
	yield "\n}\n";
}

/** What the run did, from its summary alone: printed first, so that its id is known whatever comes next. */
function runSummary(run: PayoutRun): string {
	const cutoff = run.cutoff.toISOString();
	const totals = Object.entries(run.totals)
		.map(([currency, amount]) => amountText(amount, currency))
		.join(", ");
	let text =
		run.payouts > 0
			? `payout run ${run.runId}: ${plural(run.payouts, "payout")}, ${totals}, cutoff ${cutoff}\n`
			: run.carriedForward > 0
				? `payout run ${run.runId}: no payouts, cutoff ${cutoff}\n`
				: `payout run ${run.runId}: no payouts, nothing payable by ${cutoff}\n`;
	if (run.carriedForward > 0) {
		text += `carried forward: ${plural(run.carriedForward, "balance")} below the program's minimum payout, or negative, left for a later run\n`;
	}
	return text;
}

/** Each line after the first (the header), counted once written. */
async function* countRows(lines: AsyncIterable<string>, onRow: () => void): AsyncGenerator<string> {
	let header = true;
	for await (const line of lines) {
		yield line;
		if (!header) onRow();
		header = false;
	}
}

/** Adds `refkit payouts create|list|export|mark-paid|fail` to `program`. */
export function registerPayouts(program: Command, io: Io): void {
	const payouts = program
		.command("payouts")
		.description(
			"pay the approved commissions: make a payout run, export it for the bank, mark each payout paid or failed",
		)
		.addHelpText(
			"after",
			examples(
				"$ refkit payouts create",
				"$ refkit payouts export <run-id> --output payouts.csv",
				"$ refkit payouts mark-paid <payout-id> --reference TR-2026-0042",
			),
		);

	payouts
		.command("create")
		.description(
			"make a payout run: one payout per user and currency of the approved commissions payable by the cutoff, netted, when it reaches the program's minimum",
		)
		.option(
			"--as-of <date>",
			"the cutoff: pay what was payable by this date (2026-08-01, midnight UTC) or time (2026-08-01T12:00:00Z); default now",
			parseSince,
		)
		.option("--json", "print the run as JSON: runId, cutoff, totals, carriedForward and its payouts")
		.addHelpText(
			"after",
			examples(
				"$ refkit payouts create",
				"$ refkit payouts create --as-of 2026-08-01 --json",
				"",
				"Runs may race (two operators, a cron job): no commission is ever in two payouts.",
				"Amounts are whole minor units (cents): 1234 USD is 12.34 USD.",
			),
		)
		.action(async (options: { asOf?: Date; json?: boolean }, command: Command) => {
			const { asOf } = options;
			if (asOf !== undefined && asOf.getTime() > Date.now()) {
				throw new CliError(
					`--as-of ${asOf.toISOString()} is in the future: a run pays what is payable by a time that has come.`,
				);
			}
			await withRefkit(command, io, async (refkit) => {
				const run = await refkit.createPayouts({ asOf });
				// A finished run's payouts: none is added to it any more.
				const made = everyRow((limit, offset) => refkit.listPayouts({ runId: run.runId, limit, offset }));
				if (options.json) {
					await stream(io, runJson(run, made));
					return;
				}
				io.out(runSummary(run));
				if (run.payouts === 0) return;
				const all: Payout[] = [];
				for await (const payout of made) all.push(payout);
				io.out(
					`${payoutsTable(all)}\nPay them (refkit payouts export ${run.runId} --output payouts.csv), then mark each paid or failed.\n`,
				);
			});
		});

	payouts
		.command("list")
		.description("list payouts, newest first: every one that matches, unless --limit says fewer")
		.addOption(new Option("--status <status>", "only the payouts in this status").choices(STATUSES))
		.option("--user <id>", "only the payouts to this user", parseNonEmpty)
		.option("--run <run-id>", "only the payouts of this run", parseUuid("a payout run's id"))
		.option("--limit <n>", "at most this many payouts, 1 to 1000 (default: all)", parseLimit)
		.option("--json", "print the payouts as a JSON array, with every field")
		.addHelpText(
			"after",
			examples(
				"$ refkit payouts list --status created",
				"$ refkit payouts list --user 42 --json",
				"$ refkit payouts list --run <run-id>",
			),
		)
		.action(async (options: ListOptions, command: Command) => {
			const { status } = options;
			await withRefkit(command, io, (refkit) =>
				printListing(
					io,
					kept(
						everyRow((limit, offset) =>
							refkit.listPayouts({ userId: options.user, runId: options.run, limit, offset }),
						),
						// The status is filtered here: one that changes while the pages are read must not shift them.
						{ keep: (payout) => status === undefined || payout.status === status, limit: options.limit },
					),
					options,
					payoutsTable,
					"no payouts",
				),
			);
		});

	payouts
		.command("export")
		.description(
			"write a payout run (or one payout) as CSV, for a bank's or a payment provider's mass-payment upload",
		)
		.argument(
			"<id>",
			"a payout run's id (as `payouts create` prints it) or one payout's id",
			parseUuid("a payout run's or a payout's id"),
		)
		.option(
			"--output <file>",
			"write to this file instead of stdout (through <file>.partial, renamed once complete)",
		)
		.addHelpText(
			"after",
			examples(
				"$ refkit payouts export <run-id> > payouts.csv",
				"$ refkit payouts export <run-id> --output payouts.csv",
				"",
				"Columns: payout_id, user_id, currency, amount_minor (cents), amount (12.34), then the",
				"payout's commissions, status, reference, dates and run (a header row names them all).",
			),
		)
		.action(async (id: string, options: { output?: string }, command: Command) => {
			const { output } = options;
			let written = 0;
			await withRefkit(command, io, async (refkit) => {
				// Throws PAYOUT_NOT_FOUND before a file is made.
				const lines = countRows(await refkit.exportPayouts(id), () => written++);
				if (output === undefined) await stream(io, lines);
				else await writeFileAtomically(output, (file) => writeAll(file, lines));
			});
			if (output !== undefined) io.out(`exported ${plural(written, "payout")} to ${output}\n`);
		});

	payouts
		.command("mark-paid")
		.description("mark a payout paid, once the transfer is made: its commissions are paid, for ever")
		.argument("<id>", "the payout's id", parsePayoutId)
		.requiredOption("--reference <text>", "the transfer's reference (1 to 255 characters)", parseNonEmpty)
		.addHelpText("after", examples("$ refkit payouts mark-paid <payout-id> --reference TR-2026-0042"))
		.action(async (id: string, options: { reference: string }, command: Command) => {
			const result = await withRefkit(command, io, (refkit) =>
				refkit.markPayoutPaid(id, { reference: options.reference }),
			);
			const { payout } = result;
			io.out(
				result.status === "paid"
					? `payout ${payout.id} paid: ${amountText(payout.amount, payout.currency)} to ${cell(payout.userId)}, reference ${cell(payout.reference)}; ${plural(payout.commissions, "commission")} paid for good\n`
					: `payout ${payout.id} was marked paid before (reference ${cell(payout.reference)}): nothing changed\n`,
			);
		});

	payouts
		.command("fail")
		.description(
			"mark a payout failed (the transfer bounced): its commissions are payable again at the next run",
		)
		.argument("<id>", "the payout's id", parsePayoutId)
		.requiredOption(
			"--reason <text>",
			'why, such as "bank account closed" (1 to 1000 characters)',
			parseNonEmpty,
		)
		.addHelpText("after", examples('$ refkit payouts fail <payout-id> --reason "bank account closed"'))
		.action(async (id: string, options: { reason: string }, command: Command) => {
			const result = await withRefkit(command, io, (refkit) =>
				refkit.failPayout(id, { reason: options.reason }),
			);
			const { payout } = result;
			io.out(
				result.status === "failed"
					? `payout ${payout.id} failed (${cell(payout.failureReason)}): ${plural(payout.commissions, "commission")} of ${cell(payout.userId)}, ${amountText(payout.amount, payout.currency)}, payable again at the next run\n`
					: `payout ${payout.id} was marked failed before (${cell(payout.failureReason)}): nothing changed\n`,
			);
		});
}
