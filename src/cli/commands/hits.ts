import type { Command } from "commander";
import type { HitWithLink } from "../../index.js";
import {
	CliError,
	cell,
	examples,
	type Io,
	json,
	parseLimit,
	parseNonEmpty,
	table,
	withRefkit,
} from "../shared.js";

interface ListOptions {
	link?: string;
	user?: string;
	limit?: number;
	json?: boolean;
}

function hitsTable(hits: HitWithLink[]): string {
	return table(
		["created", "link", "user", "authenticated", "visitor", "ip", "next", "confirmed"],
		hits.map((hit) => [
			cell(hit.createdAt),
			cell(hit.identifier),
			cell(hit.userId),
			hit.authenticated ? "yes" : "no",
			cell(hit.visitorId),
			cell(hit.ip),
			cell(hit.next),
			cell(hit.confirmedAt),
		]),
	);
}

/** Adds `refkit hits list` to `program`. */
export function registerHits(program: Command, io: Io): void {
	const hits = program
		.command("hits")
		.description("list the visits that followed referral links")
		.addHelpText("after", examples("$ refkit hits list --link spring_sale"));

	hits
		.command("list")
		.description("list hits, newest first")
		.option("--link <identifier>", "only the hits of this link")
		.option(
			"--user <id>",
			"only the hits credited to this user (the visitor, not the link's owner)",
			parseNonEmpty,
		)
		.option("--limit <n>", "at most this many hits, 1 to 1000 (default: 100)", parseLimit)
		.option("--json", "print the hits as a JSON array, with every field")
		.addHelpText(
			"after",
			examples(
				"$ refkit hits list",
				"$ refkit hits list --link spring_sale --limit 20",
				"$ refkit hits list --user 42 --json",
			),
		)
		.action(async (options: ListOptions, command: Command) => {
			const found = await withRefkit(command, io, async (refkit) => {
				const list = await refkit.listHits({
					link: options.link,
					userId: options.user,
					limit: options.limit,
				});
				// No hits for a link that does not exist is most likely a typo: say so rather than "no hits".
				if (
					list.length === 0 &&
					options.link !== undefined &&
					(await refkit.getLink(options.link)) === null
				) {
					throw new CliError(`no link has the identifier "${options.link}".`);
				}
				return list;
			});
			if (options.json) io.out(json(found));
			else io.out(found.length === 0 ? "no hits\n" : hitsTable(found));
		});
}
