import type { Writable } from "node:stream";
import { type Command, InvalidArgumentError, Option } from "commander";
import { CONVERSION_COLUMNS, csvLines, HIT_COLUMNS } from "../../csv.js";
import type { Conversion, HitWithLink, Refkit } from "../../index.js";
import {
	examples,
	type Io,
	isBrokenPipe,
	plural,
	progressLine,
	withRefkit,
	writeAll,
	writeFileAtomically,
} from "../shared.js";

interface ExportOptions {
	format: "csv" | "jsonl";
	since?: Date;
	output?: string;
}

type Column<T> = readonly [string, (row: T) => string | number | boolean | Date | null];

/** What `refkit export` can export: where the rows come from, and their CSV columns. */
interface Exportable<T> {
	noun: string;
	rows(refkit: Refkit, from: Date | undefined): AsyncIterable<T>;
	columns: readonly Column<T>[];
}

const HITS: Exportable<HitWithLink> = {
	noun: "hit",
	rows: (refkit, from) => refkit.exportHits({ from }),
	columns: HIT_COLUMNS,
};

const CONVERSIONS: Exportable<Conversion> = {
	noun: "conversion",
	rows: (refkit, from) => refkit.exportConversions({ from }),
	columns: CONVERSION_COLUMNS,
};

const DATE = /^(\d{4})-(\d{2})-(\d{2})/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/i;

/** Parses `--since`: `YYYY-MM-DD` (midnight UTC) or an ISO time with its zone. */
export function parseSince(value: string): Date {
	const problem = new InvalidArgumentError(
		"Give a date such as 2026-08-01 (midnight UTC) or an ISO time with its zone such as 2026-08-01T12:00:00Z.",
	);
	const day = DATE.exec(value);
	if (day === null || (value.length !== 10 && !ISO_TIME.test(value))) throw problem;
	const [year, month, date] = [Number(day[1]), Number(day[2]), Number(day[3])];
	// A day that does not exist (2026-02-30), which Date would roll over into the next month.
	const calendar = new Date(Date.UTC(year, month - 1, date));
	if (calendar.getUTCMonth() !== month - 1 || calendar.getUTCDate() !== date) throw problem;
	const since = value.length === 10 ? calendar : new Date(value);
	if (Number.isNaN(since.getTime())) throw problem;
	return since;
}

/** Each row, counted once the consumer has taken it. */
async function* counted<T>(rows: AsyncIterable<T>, onRow: () => void): AsyncGenerator<T> {
	for await (const row of rows) {
		yield row;
		onRow();
	}
}

async function* jsonLines(rows: AsyncIterable<unknown>): AsyncGenerator<string> {
	for await (const row of rows) yield `${JSON.stringify(row)}\n`;
}

/** Writes every row to `stream` as CSV or JSON lines; resolves to how many rows were written. */
async function writeRows<T>(
	what: Exportable<T>,
	refkit: Refkit,
	options: ExportOptions,
	stream: Writable,
	io: Io,
): Promise<number> {
	const progress = progressLine(io);
	let written = 0;
	const rows = counted(what.rows(refkit, options.since), () => {
		written++;
		progress.update(`exported ${plural(written, what.noun)}`);
	});
	try {
		await writeAll(stream, options.format === "csv" ? csvLines(what.columns, rows) : jsonLines(rows));
	} finally {
		progress.done();
	}
	return written;
}

function addExport<T>(parent: Command, io: Io, name: string, what: Exportable<T>): void {
	parent
		.command(name)
		.description(`write every ${what.noun}, newest first, as CSV or JSON lines`)
		.addOption(
			new Option(
				"--format <format>",
				"csv (a header row, then one row each) or jsonl (one JSON object a line)",
			)
				.choices(["csv", "jsonl"])
				.default("csv"),
		)
		.option(
			"--since <date>",
			`only the ${what.noun}s made at or after this date (2026-08-01, UTC) or time (2026-08-01T12:00:00Z)`,
			parseSince,
		)
		.option(
			"--output <file>",
			"write to this file instead of stdout (through <file>.partial, renamed once complete)",
		)
		.addHelpText(
			"after",
			examples(
				`$ refkit export ${name} > ${name}.csv`,
				`$ refkit export ${name} --format jsonl --since 2026-08-01 --output ${name}.jsonl`,
				"",
				"CSV fields a spreadsheet would run as a formula are prefixed with ', as in the dashboard.",
				"When stderr is a terminal, a progress line counts the rows written.",
			),
		)
		.action(async (options: ExportOptions, command: Command) => {
			const { output } = options;
			const written = await withRefkit(command, io, async (refkit) => {
				if (output !== undefined) {
					let count = 0;
					await writeFileAtomically(output, async (stream) => {
						count = await writeRows(what, refkit, options, stream, io);
					});
					return count;
				}
				try {
					return await writeRows(what, refkit, options, io.stdout, io);
				} catch (error) {
					// `refkit export hits | head` closes stdout early: the reader has what it wanted.
					if (isBrokenPipe(error)) return 0;
					throw error;
				}
			});
			if (output !== undefined) io.out(`exported ${plural(written, what.noun)} to ${output}\n`);
		});
}

/** Adds `refkit export hits|conversions` to `program`. */
export function registerExport(program: Command, io: Io): void {
	const exports = program
		.command("export")
		.description("stream every hit or conversion to a CSV or JSON-lines file")
		.addHelpText(
			"after",
			examples("$ refkit export hits --output hits.csv", "$ refkit export conversions --format jsonl"),
		);
	addExport(exports, io, "hits", HITS);
	addExport(exports, io, "conversions", CONVERSIONS);
}
