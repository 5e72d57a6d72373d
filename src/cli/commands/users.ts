import type { Command } from "commander";
import {
	applicationSecret,
	CliError,
	cell,
	examples,
	type Io,
	json,
	plural,
	withRefkit,
	writeFileAtomically,
} from "../shared.js";

/** Adds `refkit users export|erase` to `program`. */
export function registerUsers(program: Command, io: Io): void {
	const users = program
		.command("users")
		.description("export or erase everything refkit holds about a person (data access and erasure requests)")
		.addHelpText(
			"after",
			examples("$ refkit users export 42 --output 42.json", "$ refkit users erase 42 --yes"),
		);

	users
		.command("export")
		.description(
			"print, as JSON, the links, hits (with the visitor ids claimed), anonymous hits of those visitor ids and conversions of a user",
		)
		.argument("<user-id>", "the user's id, as your application gives it to refkit")
		.option("--output <file>", "write to this file instead of stdout (through <file>.partial)")
		.addHelpText(
			"after",
			examples("$ refkit users export 42", "$ refkit users export 42 --output refkit-user-42.json"),
		)
		.action(async (userId: string, options: { output?: string }, command: Command) => {
			const data = await withRefkit(command, io, (refkit) => refkit.exportUser(userId));
			const { output } = options;
			if (output === undefined) {
				io.out(json(data));
				return;
			}
			await writeFileAtomically(output, async (stream) => {
				stream.write(json(data));
			});
			io.out(`exported what refkit holds about user ${cell(userId)} to ${output}\n`);
		});

	users
		.command("erase")
		.description(
			"erase a user: delete their hits (anonymise those conversions credit), detach their links, and keep their conversions under a pseudonym",
		)
		.argument("<user-id>", "the user's id, as your application gives it to refkit")
		.option("--yes", "erase without asking again: erasure cannot be undone")
		.addHelpText(
			"after",
			examples(
				"$ refkit users erase 42 --yes",
				"",
				"Set REFKIT_SECRET to your application's secret: the pseudonym that keeps the user's",
				"conversions (so that a new account with the same id is not credited twice) is derived from it.",
			),
		)
		.action(async (userId: string, options: { yes?: boolean }, command: Command) => {
			if (options.yes !== true) {
				throw new CliError(
					`erasing user ${JSON.stringify(cell(userId))} cannot be undone: add --yes to erase it`,
				);
			}
			const secret = applicationSecret("users erase");
			const erased = await withRefkit(command, io, (refkit) => refkit.eraseUser(userId), { secret });
			const total =
				erased.hitsDeleted + erased.hitsAnonymised + erased.linksDetached + erased.conversionsAnonymised;
			if (total === 0) {
				io.out(`nothing to erase: refkit holds nothing about user ${cell(userId)} (or erased it before)\n`);
				return;
			}
			io.out(
				`erased user ${cell(userId)}: deleted ${plural(erased.hitsDeleted, "hit")}, anonymised ${plural(erased.hitsAnonymised, "hit")} that conversions credit, detached ${plural(erased.linksDetached, "link")}, anonymised ${plural(erased.conversionsAnonymised, "conversion")}\n`,
			);
		});
}
