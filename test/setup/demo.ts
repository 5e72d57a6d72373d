import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterEach } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const running: ChildProcess[] = [];
afterEach(() => {
	for (const child of running.splice(0)) child.kill("SIGTERM");
});

/**
 * Starts the demo exactly as `npm start` does (after the build), on a free port, with `env` added to its
 * environment (such as `REFKIT_DEMO_HOLD_DAYS`); returns its base URL.
 */
export async function startDemo(
	databaseUrl: string,
	env: Record<string, string> = {},
): Promise<{ base: string; output: () => string }> {
	const child = spawn(
		fileURLToPath(new URL("../../node_modules/.bin/tsx", import.meta.url)),
		["examples/demo/server.ts"],
		{
			cwd: ROOT,
			env: {
				...process.env,
				PORT: "0",
				DEMO_DATABASE_URL: databaseUrl,
				REFKIT_SECRET: "",
				REFKIT_DEMO_HOLD_DAYS: "", // the default hold, whatever the shell says
				...env,
			},
		},
	);
	running.push(child);
	let output = "";
	const base = await new Promise<string>((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error(`demo did not start:\n${output}`)), 20_000);
		const collect = (chunk: Buffer) => {
			output += chunk.toString();
			const match = /listening on (http:\/\/localhost:\d+)/.exec(output);
			if (match?.[1]) {
				clearTimeout(timer);
				resolve(match[1].replace("localhost", "127.0.0.1"));
			}
		};
		child.stdout?.on("data", collect);
		child.stderr?.on("data", collect);
		child.once("exit", (code) => reject(new Error(`demo exited with ${code}:\n${output}`)));
	});
	return { base, output: () => output };
}
