#!/usr/bin/env node
import { realpathSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { Command, CommanderError } from "commander";
import { registerBalances } from "./commands/balances.js";
import { registerCommissions } from "./commands/commissions.js";
import { registerDemo } from "./commands/demo.js";
import { registerExport } from "./commands/export.js";
import { registerHits } from "./commands/hits.js";
import { registerLinks } from "./commands/links.js";
import { registerMigrate } from "./commands/migrate.js";
import { registerPayouts } from "./commands/payouts.js";
import { registerPrune } from "./commands/prune.js";
import { registerSales } from "./commands/sales.js";
import { registerStats } from "./commands/stats.js";
import { registerStripe } from "./commands/stripe.js";
import { registerUsers } from "./commands/users.js";
import { errorLine, examples, type Io, PROCESS_IO } from "./shared.js";

// dist/cli/main.js, like src/cli/main.ts, is two levels below the package root.
const { version } = createRequire(import.meta.url)("../../package.json") as { version: string };

/** The `refkit` program, writing to `io`. A new one for every run: commander keeps state between parses. */
export function buildProgram(io: Io = PROCESS_IO): Command {
	const program = new Command("refkit")
		.description(
			"Manage refkit's referral links, hits and statistics, exports, retention and erasure, and referral programs' commissions, sales, payouts and Stripe events from the command line.",
		)
		.version(version, "-V, --version", "print refkit's version")
		.option("--database <url>", "a postgres:// URL or a SQLite file path (default: $DATABASE_URL)")
		// Settings made before .command() are inherited by every subcommand.
		.exitOverride()
		.configureHelp({ showGlobalOptions: true })
		.configureOutput({
			writeOut: (text) => io.out(text),
			writeErr: (text) => io.err(text),
			// "error: unknown command 'x'" becomes "refkit: unknown command 'x'", like refkit's own errors.
			outputError: (text, write) => write(`refkit: ${text.replace(/^error:\s*/, "")}`),
		})
		.addHelpText(
			"after",
			examples(
				"$ refkit --database ./refkit.sqlite migrate",
				"$ export DATABASE_URL=postgres://localhost/app",
				"$ refkit links create --user 42",
				"$ refkit links list",
				"$ refkit hits list --link spring_sale",
				"$ refkit stats --days 7",
				"$ refkit export hits --since 2026-08-01 --output hits.csv",
				"$ refkit prune --older-than 180d --dry-run",
				"$ refkit users export 42",
				"$ refkit balances 42",
				"$ refkit payouts create --as-of 2026-08-01",
				"$ refkit stripe replay evt_1PQx.json --user 42",
			),
		);
	registerMigrate(program, io);
	registerLinks(program, io);
	registerHits(program, io);
	registerStats(program, io);
	registerExport(program, io);
	registerPrune(program, io);
	registerUsers(program, io);
	registerCommissions(program, io);
	registerBalances(program, io);
	registerSales(program, io);
	registerPayouts(program, io);
	registerStripe(program, io);
	registerDemo(program, io);
	return program;
}

/**
 * Runs the CLI on `args` (the arguments after `refkit`, e.g. `["links", "list", "--json"]`) and resolves to
 * the exit code: 0 on success, 1 on any error, which is reported as one `refkit: ...` line on stderr.
 */
export async function run(args: string[], io: Io = PROCESS_IO): Promise<number> {
	try {
		await buildProgram(io).parseAsync(args, { from: "user" });
		return 0;
	} catch (error) {
		// Commander has already printed its message (or the help, or the version, with exit code 0).
		if (error instanceof CommanderError) return error.exitCode;
		// A RefkitError or a CliError is expected, anything else is not; neither deserves a stack trace here.
		io.err(`${errorLine(error)}\n`);
		return 1;
	}
}

function isEntryPoint(): boolean {
	const script = process.argv[1];
	if (script === undefined) return false;
	try {
		// npm's bin is a symlink (or a shim) to this file.
		return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
	} catch {
		return false;
	}
}

if (isEntryPoint()) {
	// `refkit links list | head` closes stdout early; that is not an error worth a stack trace.
	process.stdout.on("error", (error: NodeJS.ErrnoException) => {
		if (error.code !== "EPIPE") throw error;
	});
	process.exitCode = await run(process.argv.slice(2));
}
