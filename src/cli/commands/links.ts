import { type Command, Option } from "commander";
import type { ReferralLink } from "../../index.js";
import { cell, examples, type Io, json, parseLimit, parseNonEmpty, table, withRefkit } from "../shared.js";

interface CreateOptions {
	user?: string;
	target?: string;
	json?: boolean;
}

interface ListOptions {
	user?: string;
	disabled?: boolean;
	enabled?: boolean;
	limit?: number;
	json?: boolean;
}

function linksTable(links: ReferralLink[]): string {
	return table(
		["identifier", "user", "status", "target", "created"],
		links.map((link) => [
			cell(link.identifier),
			cell(link.userId),
			link.disabled ? "disabled" : "enabled",
			cell(link.target),
			cell(link.createdAt),
		]),
	);
}

function addSetDisabled(links: Command, io: Io, name: "disable" | "enable"): void {
	const disabled = name === "disable";
	links
		.command(name)
		.description(
			disabled
				? "disable a link: following it records nothing and redirects to the success URL"
				: "enable a disabled link again",
		)
		.argument("<identifier>", "the link's identifier")
		.addHelpText("after", examples(`$ refkit links ${name} spring_sale`))
		.action(async (identifier: string, _options: unknown, command: Command) => {
			const link = await withRefkit(command, io, (refkit) =>
				disabled ? refkit.disableLink(identifier) : refkit.enableLink(identifier),
			);
			io.out(`${disabled ? "disabled" : "enabled"} ${link.identifier}\n`);
		});
}

/** Adds `refkit links create|list|disable|enable` to `program`. */
export function registerLinks(program: Command, io: Io): void {
	const links = program
		.command("links")
		.description("create, list, disable and enable referral links")
		.addHelpText("after", examples("$ refkit links create --user 42", "$ refkit links list --user 42"));

	links
		.command("create")
		.description("create a referral link, shared as /ref/<identifier>")
		.argument("[identifier]", "1 to 50 letters, digits or underscores (default: 8 random characters)")
		.option(
			"--user <id>",
			"the user who owns the link, credited with its referrals (optional: a link may belong to nobody)",
			parseNonEmpty,
		)
		.option(
			"--target <path>",
			'where the link sends visitors, a same-site path such as "/pricing" (default: the success URL)',
		)
		.option("--json", "print the link as JSON")
		.addHelpText(
			"after",
			examples(
				"$ refkit links create --user 42",
				"$ refkit links create spring_sale --target /pricing",
				"$ refkit links create --user 42 --json",
				"",
				"The path shown assumes the default mount path /ref.",
			),
		)
		.action(async (identifier: string | undefined, options: CreateOptions, command: Command) => {
			const link = await withRefkit(
				command,
				io,
				(refkit) => refkit.createLink({ identifier, userId: options.user, target: options.target }),
				// The first command of a new database.
				{ migrate: true },
			);
			if (options.json) {
				io.out(json(link));
				return;
			}
			io.out(`created ${link.identifier}\n`);
			io.out(`link    /ref/${link.identifier}\n`);
			if (link.userId !== null) io.out(`user    ${cell(link.userId)}\n`);
			if (link.target !== null) io.out(`target  ${cell(link.target)}\n`);
		});

	links
		.command("list")
		.description("list links, newest first")
		.option("--user <id>", "only the links of this user", parseNonEmpty)
		.addOption(new Option("--disabled", "only disabled links").conflicts("enabled"))
		.addOption(new Option("--enabled", "only enabled links").conflicts("disabled"))
		.option("--limit <n>", "at most this many links, 1 to 1000 (default: 100)", parseLimit)
		.option("--json", "print the links as a JSON array")
		.addHelpText(
			"after",
			examples(
				"$ refkit links list",
				"$ refkit links list --user 42 --enabled",
				"$ refkit links list --disabled --limit 10 --json",
			),
		)
		.action(async (options: ListOptions, command: Command) => {
			const disabled = options.disabled ? true : options.enabled ? false : undefined;
			const found = await withRefkit(command, io, (refkit) =>
				refkit.listLinks({ userId: options.user, disabled, limit: options.limit }),
			);
			if (options.json) io.out(json(found));
			else io.out(found.length === 0 ? "no links\n" : linksTable(found));
		});

	addSetDisabled(links, io, "disable");
	addSetDisabled(links, io, "enable");
}
