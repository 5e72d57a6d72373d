import type { Command } from "commander";
import type { MigrationResult } from "../../index.js";
import { examples, type Io, withRefkit } from "../shared.js";

const STATUS: Record<MigrationResult["status"], string> = {
	Success: "applied",
	Error: "failed",
	NotExecuted: "not run",
};

/** Adds `refkit migrate` to `program`. */
export function registerMigrate(program: Command, io: Io): void {
	program
		.command("migrate")
		.description("create or update refkit's tables (other commands do this by themselves)")
		.addHelpText(
			"after",
			examples(
				"$ refkit migrate --database ./refkit.sqlite",
				"$ DATABASE_URL=postgres://localhost/app refkit migrate",
			),
		)
		.action(async (_options: unknown, command: Command) => {
			const results = await withRefkit(command, io, (refkit) => refkit.migrate());
			if (results.length === 0) {
				io.out("database is up to date\n");
				return;
			}
			const width = Math.max(...results.map((result) => result.migrationName.length));
			for (const result of results) {
				io.out(`${result.migrationName.padEnd(width)}  ${STATUS[result.status]}\n`);
			}
		});
}
