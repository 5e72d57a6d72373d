import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Command } from "commander";
import { CliError, examples, type Io, parseWholeNumber } from "../shared.js";

// dist/cli/commands/demo.js, like src/cli/commands/demo.ts, is three levels below the package root.
const ROOT = new URL("../../../", import.meta.url);
const SERVER = "examples/demo/server.ts";

/** The file URL of tsx's loader, from the package's own dependencies, or `null` when it is not installed. */
function tsxLoader(): string | null {
	try {
		return pathToFileURL(createRequire(new URL("package.json", ROOT)).resolve("tsx")).href;
	} catch {
		return null;
	}
}

/**
 * Runs the demo (examples/demo/server.ts, as `npm start` does) until it stops, passing its output on and
 * SIGINT and SIGTERM to it. Resolves when it exits after such a signal or by itself without an error.
 */
function runDemo(io: Io, env: NodeJS.ProcessEnv): Promise<void> {
	const root = fileURLToPath(ROOT);
	if (!existsSync(fileURLToPath(new URL(SERVER, ROOT)))) {
		throw new CliError(
			"the demo ships with refkit's source repository, not with the npm package: run `npm install && npm start` in a clone of it",
		);
	}
	const loader = tsxLoader();
	if (loader === null) {
		throw new CliError(
			"the demo runs TypeScript with tsx, a development dependency: run `npm install` first",
		);
	}
	const child = spawn(process.execPath, ["--import", loader, SERVER], {
		cwd: root,
		env,
		stdio: ["ignore", "pipe", "pipe"],
	});
	child.stdout.on("data", (chunk: Buffer) => io.out(chunk.toString()));
	child.stderr.on("data", (chunk: Buffer) => io.err(chunk.toString()));
	let stopping = false;
	const forward = (signal: NodeJS.Signals) => {
		stopping = true;
		child.kill(signal);
	};
	process.on("SIGINT", forward);
	process.on("SIGTERM", forward);
	return new Promise((resolve, reject) => {
		const done = () => {
			process.off("SIGINT", forward);
			process.off("SIGTERM", forward);
		};
		child.once("error", (error) => {
			done();
			reject(error);
		});
		child.once("close", (code, signal) => {
			done();
			if (code === 0 || stopping) resolve();
			else
				reject(
					new CliError(`the demo stopped with ${code === null ? `signal ${signal}` : `exit code ${code}`}`),
				);
		});
	});
}

/** Adds `refkit demo` to `program`. */
export function registerDemo(program: Command, io: Io): void {
	program
		.command("demo")
		.description(
			"start the demo application (from a clone of refkit's repository, after npm install): log in, share your link, follow it, buy",
		)
		.option(
			"--port <n>",
			"the port to listen on, 0 for any free one (default: $PORT, else 3000)",
			parseWholeNumber(0, 65_535),
		)
		.addHelpText(
			"after",
			examples(
				"$ refkit demo",
				"$ refkit demo --port 8080 --database postgres://localhost/refkit_demo",
				"",
				"Without --database, the demo keeps its data in demo.sqlite in the repository; it never uses DATABASE_URL.",
				"It listens on 127.0.0.1 only; set HOST (HOST=0.0.0.0) to show it to your network.",
				"REFKIT_SECRET is read as by your application; without it, a development secret is used.",
			),
		)
		.action(async (options: { port?: number }, command: Command) => {
			// Only --database: an exported DATABASE_URL may be a real database, which the demo (anyone may log in
			// as "admin") must never expose.
			const database = command.optsWithGlobals<{ database?: string }>().database;
			const { DATABASE_URL: _ignored, ...env } = process.env;
			if (options.port !== undefined) env.PORT = String(options.port);
			if (database !== undefined) env.DEMO_DATABASE_URL = database;
			await runDemo(io, env);
		});
}
