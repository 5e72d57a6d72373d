import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, test } from "vitest";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
	exports: Record<string, string | { types: string; default: string }>;
	bin: Record<string, string>;
};
const run = promisify(execFile);

/** Imports `code` in a fresh Node process inside the package and lists the third-party packages it loaded. */
async function loadedPackages(code: string): Promise<string[]> {
	const script = `
		import { createRequire } from "node:module";
		${code}
		const cache = createRequire(import.meta.url).cache;
		const names = new Set(Object.keys(cache).map((f) => /node_modules\\/((?:@[^/]+\\/)?[^/]+)/.exec(f)?.[1]).filter(Boolean));
		console.log(JSON.stringify([...names]));`;
	const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script], { cwd: ROOT });
	return JSON.parse(stdout) as string[];
}

describe("the built package", () => {
	test.each(Object.entries(pkg.exports))(
		"exports %s resolves to built files with types",
		(_entry, target) => {
			const files = typeof target === "string" ? [target] : [target.default, target.types];
			for (const file of files) expect(existsSync(new URL(`../${file}`, import.meta.url)), file).toBe(true);
		},
	);

	test("the bin is built and starts with a shebang", () => {
		const bin = readFileSync(new URL(`../${pkg.bin.refkit}`, import.meta.url), "utf8");
		expect(bin.startsWith("#!/usr/bin/env node")).toBe(true);
	});

	test("importing refkit loads no framework and no database driver", async () => {
		const loaded = await loadedPackages(`await import("refkit");`);
		expect(loaded).not.toContain("express");
		expect(loaded).not.toContain("pg");
		expect(loaded).not.toContain("better-sqlite3");
	});

	test.each(["express", "fastify", "hono", "web"])(
		"importing refkit/%s loads no framework and no database driver",
		async (adapter) => {
			const loaded = await loadedPackages(`await import("refkit/${adapter}");`);
			for (const other of ["express", "fastify", "hono", "@hono/node-server", "pg", "better-sqlite3"]) {
				expect(loaded).not.toContain(other);
			}
		},
	);

	test("a SQLite refkit loads better-sqlite3 and not pg; a PostgreSQL one loads pg and not better-sqlite3", async () => {
		const sqlite = await loadedPackages(`
			const { createRefkit } = await import("refkit");
			createRefkit({ database: ":memory:", secret: "x".repeat(32) });`);
		expect(sqlite).toContain("better-sqlite3");
		expect(sqlite).not.toContain("pg");
		const postgres = await loadedPackages(`
			const { createRefkit } = await import("refkit");
			await createRefkit({ database: "postgres://localhost:1/x", secret: "x".repeat(32) }).close();`);
		expect(postgres).toContain("pg");
		expect(postgres).not.toContain("better-sqlite3");
	});

	test("the published files hold the build and no tests", async () => {
		const { stdout } = await run("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: ROOT });
		const files = (JSON.parse(stdout) as [{ files: { path: string }[] }])[0].files.map((f) => f.path);
		expect(files).toContain("dist/index.js");
		for (const entry of ["adapters/express", "adapters/fastify", "adapters/hono", "http/web"]) {
			expect(files).toContain(`dist/${entry}.js`);
			expect(files).toContain(`dist/${entry}.d.ts`);
		}
		expect(files).toContain("README.md");
		expect(files.some((file) => file.includes(".test."))).toBe(false);
		expect(files.some((file) => file.startsWith("src/") || file.startsWith("test/"))).toBe(false);
	});
});
