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

	test("createRefkit() loads no driver; the first query loads its database's and not the other", async () => {
		const created = await loadedPackages(`
			const { createRefkit } = await import("refkit");
			createRefkit({ database: "./never-opened.sqlite", secret: "x".repeat(32) });
			createRefkit({ database: "postgres://localhost:1/x", secret: "x".repeat(32) });`);
		expect(created).not.toContain("better-sqlite3");
		expect(created).not.toContain("pg");
		expect(existsSync(new URL("../never-opened.sqlite", import.meta.url))).toBe(false);
		const sqlite = await loadedPackages(`
			const { createRefkit } = await import("refkit");
			const refkit = createRefkit({ database: ":memory:", secret: "x".repeat(32) });
			await refkit.migrate();
			await refkit.close();`);
		expect(sqlite).toContain("better-sqlite3");
		expect(sqlite).not.toContain("pg");
		const postgres = await loadedPackages(`
			const { createRefkit } = await import("refkit");
			const refkit = createRefkit({ database: "postgres://localhost:1/x", secret: "x".repeat(32), onError() {} });
			await refkit.listLinks().catch(() => {});
			await refkit.close();`);
		expect(postgres).toContain("pg");
		expect(postgres).not.toContain("better-sqlite3");
	});

	test("CommonJS can require() every entry point (Node.js 20.19 and newer)", async () => {
		const script = `
			const { createRefkit, RefkitError } = require("refkit");
			for (const entry of ["refkit/express", "refkit/fastify", "refkit/hono", "refkit/web"]) require(entry);
			const refkit = createRefkit({ database: ":memory:", secret: "x".repeat(32) });
			refkit.migrate().then(() => refkit.linkFor("42")).then(async (link) => {
				console.log(typeof RefkitError, link.userId);
				await refkit.close();
			});`;
		const { stdout, stderr } = await run(process.execPath, ["--input-type=commonjs", "-e", script], {
			cwd: ROOT,
		});
		expect(stdout.trim()).toBe("function 42");
		// No warning a user would have to silence (require(esm) warns only where it is still experimental).
		expect(stderr).toBe("");
	});

	test("the published files hold the build and no tests", async () => {
		const { stdout } = await run("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: ROOT });
		const files = (JSON.parse(stdout) as [{ files: { path: string }[] }])[0].files.map((f) => f.path);
		expect(files).toContain("dist/index.js");
		for (const entry of ["adapters/express", "adapters/fastify", "adapters/hono", "adapters/web"]) {
			expect(files).toContain(`dist/${entry}.js`);
			expect(files).toContain(`dist/${entry}.d.ts`);
		}
		expect(files).toContain("README.md");
		expect(files.some((file) => file.includes(".test."))).toBe(false);
		expect(files.some((file) => file.startsWith("src/") || file.startsWith("test/"))).toBe(false);
	});
});
