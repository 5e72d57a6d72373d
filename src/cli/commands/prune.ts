import { type Command, InvalidArgumentError } from "commander";
import { examples, type Io, parseWholeNumber, plural, progressLine, withRefkit } from "../shared.js";

interface PruneOptions {
	olderThan: number;
	dryRun?: boolean;
	batchSize?: number;
}

const UNITS: Record<string, number> = {
	s: 1000,
	m: 60 * 1000,
	h: 60 * 60 * 1000,
	d: 24 * 60 * 60 * 1000,
	w: 7 * 24 * 60 * 60 * 1000,
};

/** Parses a duration such as `90d`: a whole number above 0 and a unit, s, m, h, d or w; in milliseconds. */
export function parseDuration(value: string): number {
	const match = /^(\d{1,6})([smhdw])$/.exec(value);
	const amount = Number(match?.[1]);
	const unit = UNITS[match?.[2] ?? ""];
	if (match === null || unit === undefined) {
		throw new InvalidArgumentError(
			"Give a whole number and a unit, s, m, h, d or w (seconds to weeks), such as 90d or 12h.",
		);
	}
	if (amount === 0) throw new InvalidArgumentError("It must be more than 0, such as 90d.");
	return amount * unit;
}

/** Adds `refkit prune` to `program`. */
export function registerPrune(program: Command, io: Io): void {
	program
		.command("prune")
		.description(
			"delete old hits that were never confirmed and that no conversion credits (conversions are kept)",
		)
		.requiredOption(
			"--older-than <duration>",
			"hits made more than this long ago, such as 90d: a number and s, m, h, d or w",
			parseDuration,
		)
		.option("--dry-run", "count the hits that would be deleted, and delete nothing")
		.option(
			"--batch-size <n>",
			"hits deleted per statement, 1 to 100000 (default: 1000); smaller batches hold locks more briefly",
			parseWholeNumber(1, 100_000),
		)
		.addHelpText(
			"after",
			examples(
				"$ refkit prune --older-than 180d --dry-run",
				"$ refkit prune --older-than 180d",
				"$ refkit prune --older-than 26w --batch-size 500",
				"",
				"Keep the duration above your attributionWindow (90 days by default): a younger hit may still",
				"earn a conversion. When stderr is a terminal, a progress line counts the hits deleted.",
			),
		)
		.action(async (options: PruneOptions, command: Command) => {
			const progress = progressLine(io);
			const result = await withRefkit(command, io, async (refkit) => {
				try {
					return await refkit.prune({
						olderThan: options.olderThan,
						dryRun: options.dryRun === true,
						batchSize: options.batchSize,
						onProgress: (deleted) => progress.update(`deleted ${plural(deleted, "hit")}`),
					});
				} finally {
					progress.done();
				}
			});
			const what = `${plural(result.deleted, "hit")} older than ${result.cutoff.toISOString()} (never confirmed)`;
			io.out(result.dryRun ? `would delete ${what}\n` : `deleted ${what}\n`);
		});
}
