import { execFile, execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect } from "vitest";

/** Helpers of the tests that run the built `refkit` CLI as a user would: a process, its output, its exit code. */

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const CLI = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));

/** What a run of the CLI gave: its exit code and everything it printed. */
export interface CliResult {
	code: number;
	stdout: string;
	stderr: string;
}

/** Runs the built CLI with `args`; `env` is added to an environment free of DATABASE_URL and REFKIT_SECRET. */
export function cli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
	const { DATABASE_URL: _url, REFKIT_SECRET: _secret, ...inherited } = process.env;
	return new Promise((resolve, reject) => {
		execFile(
			process.execPath,
			[CLI, ...args],
			{ cwd: ROOT, env: { ...inherited, ...env }, timeout: 20_000 },
			(error, stdout, stderr) => {
				if (error && typeof error.code !== "number") reject(error);
				else resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
			},
		);
	});
}

/** Asserts a failure: exit code 1, nothing on stdout and exactly one `refkit: ...` line on stderr. */
export function expectOneLineError(result: CliResult, pattern: RegExp): void {
	expect(result.code).toBe(1);
	expect(result.stdout).toBe("");
	expect(result.stderr).toMatch(/^refkit: [^\n]+\n$/);
	expect(result.stderr).not.toMatch(/^refkit: refkit:/);
	expect(result.stderr).toMatch(pattern);
}

/** The fields of one CSV line written by refkit (quoted fields with commas or quotes are joined back). */
export function csvFields(line: string): string[] {
	const fields: string[] = [];
	const pattern = /("(?:[^"]|"")*"|[^,]*)(,|$)/g;
	for (const match of line.matchAll(pattern)) {
		const field = match[1] ?? "";
		fields.push(field.startsWith('"') ? field.slice(1, -1).replace(/""/g, '"') : field);
		if (match[2] === "") break;
	}
	return fields;
}

const tempDirs: string[] = [];
afterAll(() => {
	for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A new empty directory, removed after the file's tests. */
export function tempDir(): string {
	const dir = mkdtempSync(join(tmpdir(), "refkit-cli-"));
	tempDirs.push(dir);
	return dir;
}

beforeAll(() => {
	// `npm test` builds first; a bare `vitest run` may not have.
	if (!existsSync(CLI)) execFileSync("npm", ["run", "build", "--silent"], { cwd: ROOT, stdio: "inherit" });
}, 120_000);

/** The output of a run that succeeded and printed nothing on stderr. */
export async function ok(result: Promise<CliResult>): Promise<string> {
	const done = await result;
	expect(done.stderr).toBe("");
	expect(done.code).toBe(0);
	return done.stdout;
}

/** The JSON printed by a run that succeeded (see {@link ok}). */
export async function jsonOf<T>(result: Promise<CliResult>): Promise<T> {
	return JSON.parse(await ok(result)) as T;
}
