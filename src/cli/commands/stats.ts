import type { Command } from "commander";
import type { DailyStats, Stats } from "../../index.js";
import { cell, examples, type Io, json, parseWholeNumber, table, withRefkit } from "../shared.js";

interface StatsOptions {
	days?: number;
	json?: boolean;
}

/** Runs of days without activity become one row, `first..last`, so a quiet month stays short. */
function dailyRows(daily: DailyStats[]): string[][] {
	const rows: string[][] = [];
	let quiet: DailyStats[] = [];
	const flush = () => {
		const first = quiet[0];
		const last = quiet.at(-1);
		if (first !== undefined && last !== undefined) {
			rows.push([first === last ? first.date : `${first.date}..${last.date}`, "0", "0"]);
		}
		quiet = [];
	};
	for (const day of daily) {
		if (day.hits === 0 && day.conversions === 0) {
			quiet.push(day);
			continue;
		}
		flush();
		rows.push([day.date, String(day.hits), String(day.conversions)]);
	}
	flush();
	return rows;
}

/** The statistics as a person reads them: the totals, then the days, then the top referrers. */
function statsText(stats: Stats): string {
	const { totals } = stats;
	const about = (n: number) => (totals.estimated ? `~${n} (estimated)` : String(n));
	const goals = Object.entries(totals.conversionsByGoal)
		.map(([goal, n]) => `${cell(goal)} ${n}`)
		.join(", ");
	const lines = [
		`${stats.link === null ? "all links" : `link ${stats.link}`}, ${stats.daily.length} days: ${stats.from.toISOString()} to ${stats.to.toISOString()}`,
		"",
		...[
			["links", String(totals.links)],
			["hits", String(totals.hits)],
			["unique visitors", about(totals.uniqueVisitors)],
			["claimed users", about(totals.claimedUsers)],
			["conversions", goals === "" ? String(totals.conversions) : `${totals.conversions} (${goals})`],
			["reversed", String(totals.reversed)],
			["conversion rate", `${(totals.conversionRate * 100).toFixed(1)} %`],
		].map(([name, value]) => `${(name ?? "").padEnd(17)}${value}`),
		"",
	];
	let text = `${lines.join("\n")}\n${table(["day", "hits", "conversions"], dailyRows(stats.daily))}`;
	if (stats.link === null) {
		text +=
			stats.topReferrers.length === 0
				? "\nno referrers in this period\n"
				: `\n${table(
						["top referrer", "hits", "conversions"],
						stats.topReferrers.map((referrer) => [
							cell(referrer.userId),
							String(referrer.hits),
							String(referrer.conversions),
						]),
					)}`;
	}
	return text;
}

/** Adds `refkit stats` to `program`. */
export function registerStats(program: Command, io: Io): void {
	program
		.command("stats")
		.description("print the dashboard's numbers: totals, hits and conversions per day, and the top referrers")
		.argument("[identifier]", "only this link's numbers (default: all links)")
		.option(
			"--days <n>",
			"the last N UTC days, today included, 1 to 366 (default: 30)",
			parseWholeNumber(1, 366),
		)
		.option("--json", "print the statistics as JSON, with every field")
		.addHelpText(
			"after",
			examples(
				"$ refkit stats",
				"$ refkit stats spring_sale --days 7",
				"$ refkit stats --days 90 --json",
				"",
				"Days without hits or conversions are folded into one row: 2026-08-01..2026-08-05.",
			),
		)
		.action(async (identifier: string | undefined, options: StatsOptions, command: Command) => {
			const stats = await withRefkit(command, io, (refkit) =>
				refkit.stats({ link: identifier, days: options.days }),
			);
			io.out(options.json ? json(stats) : statsText(stats));
		});
}
