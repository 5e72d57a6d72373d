import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { createServer } from "node:net";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, test } from "vitest";
import {
	type Conversion,
	createRefkit,
	type HitWithLink,
	type ReferralLink,
	type Refkit,
	type Stats,
	type UserExport,
} from "../src/index.js";
import { CLI, type CliResult, cli, csvFields, expectOneLineError, ROOT, tempDir } from "./setup/cli.js";
import { DATABASES, type DatabaseKind, freshDatabaseUrl, TEST_SECRET } from "./setup/databases.js";
import { insertRows, visit, visitorCookie } from "./setup/direct.js";
import { BROWSER_AGENT } from "./setup/http.js";

const exec = promisify(execFile);

const DAY = 24 * 60 * 60 * 1000;
const UNREACHABLE = "postgres://nobody@127.0.0.1:1/none";

/** Waits for the demo's "listening on" line; returns its base URL and everything it printed. */
function listening(child: ChildProcess): Promise<{ base: string; output: () => string }> {
	let output = "";
	return new Promise((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error(`the demo did not start:\n${output}`)), 20_000);
		const collect = (chunk: Buffer) => {
			output += chunk.toString();
			const match = /listening on (http:\/\/localhost:\d+)/.exec(output);
			if (match?.[1]) {
				clearTimeout(timer);
				resolve({ base: match[1].replace("localhost", "127.0.0.1"), output: () => output });
			}
		};
		child.stdout?.on("data", collect);
		child.stderr?.on("data", collect);
		child.once("exit", (code) => reject(new Error(`the demo exited with ${code}:\n${output}`)));
	});
}

interface SeedHit {
	linkId: number;
	at: Date;
	userId?: string | null;
	userAgent?: string;
	confirmed?: boolean;
}

/** Inserts hits straight into the table, in batches of 500 rows; returns their ids. */
async function insertHits(kind: DatabaseKind, url: string, hits: SeedHit[]): Promise<string[]> {
	const ids = hits.map(() => randomUUID());
	for (let start = 0; start < hits.length; start += 500) {
		const rows = hits.slice(start, start + 500).map((hit, i) => ({
			id: ids[start + i],
			link_id: hit.linkId,
			authenticated: kind === "sqlite" ? Number(hit.userId != null) : hit.userId != null,
			user_id: hit.userId ?? null,
			visitor_id: hit.userId == null ? randomUUID() : null,
			ip: "203.0.113.9",
			user_agent: hit.userAgent ?? BROWSER_AGENT,
			confirmed_at: hit.confirmed ? hit.at.toISOString() : null,
			created_at: hit.at.toISOString(),
			updated_at: hit.at.toISOString(),
		}));
		await insertRows(kind, url, "refkit_hit", rows);
	}
	return ids;
}

/** A refkit on `url` for the test to seed or check what the CLI did; closed by `use`'s end. */
async function withTestRefkit<T>(url: string, use: (refkit: Refkit) => Promise<T>): Promise<T> {
	const refkit = createRefkit({
		database: url,
		secret: TEST_SECRET,
		onError: (error) => console.error(error),
	});
	try {
		await refkit.migrate();
		return await use(refkit);
	} finally {
		await refkit.close();
	}
}

async function countHits(url: string): Promise<number> {
	return withTestRefkit(url, async (refkit) => {
		let n = 0;
		for await (const _ of refkit.exportHits()) n++;
		return n;
	});
}

describe.concurrent("refkit CLI without a database", () => {
	test("no --database and no DATABASE_URL: one line, exit 1", async () => {
		expectOneLineError(await cli(["links", "list"]), /^refkit: no database: pass --database/);
		expectOneLineError(await cli(["migrate"], { DATABASE_URL: "" }), /no database/);
	});

	test("an unsupported database URL: one line, exit 1", async () => {
		expectOneLineError(
			await cli(["--database", "mysql://x", "links", "list"]),
			/cannot use the database "mysql:\/\/x"/,
		);
		expectOneLineError(await cli(["migrate"], { DATABASE_URL: "mysql://x" }), /mysql/);
	});

	test("an unreachable PostgreSQL server: one line, exit 1", async () => {
		expectOneLineError(
			await cli(["--database", "postgres://postgres@127.0.0.1:1/none", "links", "list"]),
			/^refkit: could not list links: .*ECONNREFUSED/,
		);
	});

	test("a short REFKIT_SECRET in the shell does not stop a command (the CLI signs no cookies)", async () => {
		const result = await cli(["--database", ":memory:", "links", "create", "abc123"], {
			REFKIT_SECRET: "short",
		});
		expect(result).toMatchObject({ code: 0, stdout: expect.stringMatching(/^created abc123\n/) });
	});

	test("usage errors exit 1 with commander's one-line message", async () => {
		expectOneLineError(await cli(["frobnicate"]), /^refkit: unknown command 'frobnicate'/);
		expectOneLineError(await cli(["links", "list", "--frob"]), /unknown option '--frob'/);
		expectOneLineError(await cli(["links", "disable"]), /missing required argument 'identifier'/);
		expectOneLineError(await cli(["links", "create", "--user"]), /argument missing/);
		expectOneLineError(await cli(["links", "create", "--user", ""]), /must not be empty/);
		expectOneLineError(await cli(["links", "list", "--disabled", "--enabled"]), /cannot be used with/);
	});

	test("usage errors of the new commands exit 1 with one line, before any database is opened", async () => {
		// A database that cannot be opened: only argument checks can have produced these messages.
		const env = { DATABASE_URL: "/nonexistent/refkit.sqlite" };
		expectOneLineError(await cli(["export", "frobs"], env), /^refkit: unknown command 'frobs'/);
		expectOneLineError(await cli(["stats", "--frob"], env), /unknown option '--frob'/);
		expectOneLineError(await cli(["prune"], env), /required option '--older-than <duration>' not specified/);
		expectOneLineError(
			await cli(["export", "hits", "--format", "xml"], env),
			/argument 'xml' is invalid\. Allowed choices are csv, jsonl\./,
		);
		for (const days of ["0", "367", "x"]) {
			expectOneLineError(await cli(["stats", "--days", days], env), /--days <n>.*from 1 to 366/);
		}
		for (const size of ["0", "100001", "1e3"]) {
			expectOneLineError(
				await cli(["prune", "--older-than", "90d", "--batch-size", size], env),
				/--batch-size <n>.*from 1 to 100000/,
			);
		}
		expectOneLineError(await cli(["demo", "--port", "65536"], env), /--port <n>.*from 0 to 65535/);
		expectOneLineError(await cli(["users", "erase"], env), /missing required argument 'user-id'/);
	});

	test.each(["banana", "0d", "-5d", "5", "5x", "1.5d", "d", "90 d", "1234567d"])(
		"prune --older-than %j exits 1 with one line",
		async (duration) => {
			expectOneLineError(
				await cli(["prune", "--older-than", duration], { DATABASE_URL: "/nonexistent/refkit.sqlite" }),
				duration === "0d"
					? /argument '0d' is invalid\. It must be more than 0, such as 90d\./
					: /^refkit: option '--older-than <duration>' argument '.*' is invalid\. Give a whole number and a unit, s, m, h, d or w/,
			);
		},
	);

	test.each([
		"yesterday",
		"2026-02-30",
		"2026-13-01",
		"2026-08-01T12:00:00",
		"2026-08-01 12:00Z",
		"1754006400",
	])("export --since %j exits 1 with one line", async (since) => {
		expectOneLineError(
			await cli(["export", "hits", "--since", since], { DATABASE_URL: "/nonexistent/refkit.sqlite" }),
			/^refkit: option '--since <date>' argument '.*' is invalid\. Give a date such as 2026-08-01/,
		);
	});

	test("the new commands need a database: one line, exit 1", async () => {
		for (const args of [
			["stats"],
			["export", "hits"],
			["prune", "--older-than", "90d"],
			["users", "export", "42"],
		]) {
			expectOneLineError(await cli(args), /^refkit: no database: pass --database/);
		}
		expectOneLineError(
			await cli(["users", "erase", "42", "--yes"], { REFKIT_SECRET: TEST_SECRET }),
			/^refkit: no database/,
		);
	});

	test("the new commands on an unreachable PostgreSQL server: one line, exit 1, no file written", async () => {
		const dir = tempDir();
		for (const args of [
			["stats"],
			["export", "conversions", "--output", join(dir, "out.csv")],
			["prune", "--older-than", "90d"],
			["users", "export", "42", "--output", join(dir, "42.json")],
		]) {
			expectOneLineError(
				await cli(["--database", UNREACHABLE, ...args]),
				/^refkit: could not .*ECONNREFUSED/,
			);
		}
		expectOneLineError(
			await cli(["--database", UNREACHABLE, "users", "erase", "42", "--yes"], { REFKIT_SECRET: TEST_SECRET }),
			/ECONNREFUSED/,
		);
		expect(readdirSync(dir)).toEqual([]);
	});

	test("users erase refuses without --yes, and without the application's secret", async () => {
		expectOneLineError(
			await cli(["users", "erase", "42"], { DATABASE_URL: "/nonexistent/refkit.sqlite" }),
			/^refkit: erasing user "42" cannot be undone: add --yes to erase it$/m,
		);
		expectOneLineError(
			await cli(["users", "erase", "42", "--yes"], { DATABASE_URL: "/nonexistent/refkit.sqlite" }),
			/^refkit: users erase needs the application's secret: set REFKIT_SECRET/,
		);
		expectOneLineError(
			await cli(["users", "erase", "42", "--yes"], {
				DATABASE_URL: "/nonexistent/refkit.sqlite",
				REFKIT_SECRET: "short",
			}),
			/REFKIT_SECRET .*at least 32 characters/,
		);
	});

	test("demo starts the demo application, and stops with the CLI", async () => {
		const database = join(tempDir(), "demo.sqlite");
		const child = spawn(process.execPath, [CLI, "--database", database, "demo", "--port", "0"], {
			cwd: tmpdir(),
			env: { ...process.env, REFKIT_SECRET: "" },
		});
		const { base, output } = await listening(child);
		expect(output()).toContain(`(database: ${database})`);
		const home = await fetch(`${base}/`);
		expect(home.status).toBe(200);
		expect(await home.text()).toContain('name="username"');
		child.kill("SIGTERM");
		const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
		expect(code).toBe(0);
		await expect(fetch(`${base}/`)).rejects.toThrow();
	});

	test("demo never uses an exported DATABASE_URL, and listens on this machine only", async () => {
		const exported = join(tempDir(), "production.sqlite");
		const named = join(tempDir(), "named.sqlite");
		const child = spawn(process.execPath, [CLI, "--database", named, "demo", "--port", "0"], {
			cwd: tmpdir(),
			env: { ...process.env, DATABASE_URL: exported, REFKIT_SECRET: "" },
		});
		const { base, output } = await listening(child);
		expect(output()).toContain(`(database: ${named})`);
		expect((await fetch(`${base}/`)).status).toBe(200);
		// Reachable on loopback, refused on the machine's other addresses.
		const port = new URL(base).port;
		const outside = Object.values(networkInterfaces())
			.flat()
			.find((address) => address?.family === "IPv4" && !address.internal)?.address;
		if (outside !== undefined) await expect(fetch(`http://${outside}:${port}/`)).rejects.toThrow();
		child.kill("SIGTERM");
		await once(child, "exit");
		expect(existsSync(exported)).toBe(false);
		// Without --database, the repository's demo.sqlite, whatever DATABASE_URL says.
		const again = spawn(process.execPath, [CLI, "demo", "--port", "0"], {
			cwd: tmpdir(),
			env: { ...process.env, DATABASE_URL: exported, REFKIT_SECRET: "" },
		});
		const second = await listening(again);
		expect(second.output()).toContain(`(database: ${join(ROOT, "demo.sqlite")})`);
		again.kill("SIGTERM");
		await once(again, "exit");
		expect(existsSync(exported)).toBe(false);
	});

	test("demo on a port in use says to choose another, without a stack trace", async () => {
		const taken = createServer().listen(0, "127.0.0.1");
		await once(taken, "listening");
		const { port } = taken.address() as AddressInfo;
		try {
			const result = await cli([
				"--database",
				join(tempDir(), "demo.sqlite"),
				"demo",
				"--port",
				String(port),
			]);
			expect(result.code).toBe(1);
			expect(result.stderr).toContain(
				`refkit demo: port ${port} is in use by another program. Choose another: PORT=3001`,
			);
			expect(result.stderr).not.toMatch(/EADDRINUSE|\n\s+at /);
		} finally {
			taken.close();
		}
	});

	test("the built CLI is executable, so `npx refkit` runs it in a clone and from the package", async () => {
		expect(statSync(CLI).mode & 0o111).toBe(0o111);
		const { stdout } = await exec("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: ROOT });
		const [packed] = JSON.parse(stdout) as { files: { path: string; mode: number }[] }[];
		const main = packed?.files.find((file) => file.path === "dist/cli/main.js");
		expect(main && main.mode & 0o111).toBe(0o111);
		expect(packed?.files.some((file) => file.path === "dist/index.d.ts")).toBe(true);
		// A fresh clone has no dist: packing builds it first.
		const manifest = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
		expect(manifest.scripts.prepack).toMatch(/npm run build/);
		// What `npx refkit` runs in a clone: the package's own bin, executed directly.
		const { stdout: version } = await exec("npx", ["--no-install", "refkit", "--version"], { cwd: ROOT });
		expect(version.trim()).toBe(manifest.version);
	});

	test("demo outside the repository (the npm package has no examples/): one line, exit 1", async () => {
		const installed = join(tempDir(), "refkit");
		mkdirSync(installed);
		cpSync(join(ROOT, "dist"), join(installed, "dist"), { recursive: true });
		cpSync(join(ROOT, "package.json"), join(installed, "package.json"));
		symlinkSync(join(ROOT, "node_modules"), join(installed, "node_modules"));
		const result = await new Promise<CliResult>((resolve) => {
			execFile(
				process.execPath,
				[join(installed, "dist/cli/main.js"), "demo"],
				{ cwd: installed },
				(error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
			);
		});
		expectOneLineError(
			result,
			/^refkit: the demo ships with refkit's source repository, not with the npm package/,
		);
	});

	test.each(["0", "1001", "abc", "1.5", "-3", ""])("--limit %j exits 1", async (limit) => {
		expectOneLineError(
			await cli(["links", "list", "--limit", limit], { DATABASE_URL: "/nonexistent/refkit.sqlite" }),
			/--limit|option/,
		);
	});

	test("refkit with no command shows the help on stderr and exits 1", async () => {
		const result = await cli([]);
		expect(result.code).toBe(1);
		expect(result.stderr).toMatch(/Usage: refkit/);
	});

	test("--version prints the package's version", async () => {
		const { version } = (await import("../package.json", { with: { type: "json" } })).default;
		const result = await cli(["--version"]);
		expect(result).toEqual({ code: 0, stdout: `${version}\n`, stderr: "" });
	});

	test.each([
		[[]],
		[["migrate"]],
		[["links"]],
		[["links", "create"]],
		[["links", "list"]],
		[["links", "disable"]],
		[["links", "enable"]],
		[["hits"]],
		[["hits", "list"]],
		[["stats"]],
		[["export"]],
		[["export", "hits"]],
		[["export", "conversions"]],
		[["prune"]],
		[["users"]],
		[["users", "export"]],
		[["users", "erase"]],
		[["demo"]],
	])("%j --help shows a description and an example, exit 0", async (command) => {
		const result = await cli([...command, "--help"]);
		expect(result.code).toBe(0);
		expect(result.stderr).toBe("");
		expect(result.stdout).toMatch(/^Usage: refkit/);
		expect(result.stdout).toMatch(/\nExamples:\n {2}\$ refkit /);
		expect(result.stdout).toContain("--database <url>");
	});
});

describe.concurrent.each(DATABASES)("refkit CLI on %s", (kind) => {
	async function fresh(): Promise<(...args: string[]) => Promise<CliResult>> {
		const database = await freshDatabaseUrl(kind);
		return (...args: string[]) => cli(["--database", database, ...args]);
	}

	async function listLinks(run: (...args: string[]) => Promise<CliResult>, ...args: string[]) {
		const result = await run("links", "list", "--json", ...args);
		expect(result.code).toBe(0);
		expect(result.stderr).toBe("");
		return JSON.parse(result.stdout) as ReferralLink[];
	}

	test("migrate applies every migration on a new database, then finds it up to date", async () => {
		const run = await fresh();
		expect(await run("migrate")).toEqual({
			code: 0,
			stdout:
				"0001-initial              applied\n0002-conversions          applied\n0003-stats-indexes        applied\n0004-stats-days           applied\n0005-stats-partial-days   applied\n0006-stats-weeks          applied\n0007-partial-hit-indexes  applied\n0008-browser-ids          applied\n0009-programs             applied\n0010-billing              applied\n",
			stderr: "",
		});
		expect(await run("migrate")).toEqual({ code: 0, stdout: "database is up to date\n", stderr: "" });
	});

	test("only links create migrates a new database first; reading never migrates", async () => {
		const run = await fresh();
		// An operator's read must not take the migration lock or change the schema under an application.
		for (const args of [["links", "list"], ["hits", "list"], ["stats"], ["users", "export", "42"]]) {
			expectOneLineError(await run(...args), /no refkit tables yet.*refkit migrate/);
		}
		expect((await run("migrate")).stdout).toMatch(/0001-initial +applied/);

		const other = await fresh();
		expect((await other("links", "create", "first")).code).toBe(0);
		expect(await other("links", "list")).toMatchObject({ code: 0, stdout: expect.stringContaining("first") });
		expect((await other("migrate")).stdout).toBe("database is up to date\n");
	});

	test("links create with an identifier, a user and a target", async () => {
		const run = await fresh();
		const result = await run("links", "create", "spring_sale", "--user", "alice", "--target", "/pricing");
		expect(result).toEqual({
			code: 0,
			stdout: "created spring_sale\nlink    /ref/spring_sale\nuser    alice\ntarget  /pricing\n",
			stderr: "",
		});
		expect(await listLinks(run)).toMatchObject([
			{ identifier: "spring_sale", userId: "alice", target: "/pricing", disabled: false },
		]);
	});

	test("links create without an identifier generates one; a link may belong to nobody", async () => {
		const run = await fresh();
		const result = await run("links", "create");
		expect(result.code).toBe(0);
		expect(result.stderr).toBe("");
		const identifier = /^created ([A-Za-z0-9_]{8})\n/.exec(result.stdout)?.[1];
		expect(identifier).toBeDefined();
		expect(result.stdout).toBe(`created ${identifier}\nlink    /ref/${identifier}\n`);
		expect(await listLinks(run)).toMatchObject([{ identifier, userId: null, target: null }]);
	});

	test("links create --json prints the link", async () => {
		const run = await fresh();
		const result = await run("links", "create", "--user", "42", "--json");
		expect(result.code).toBe(0);
		const link = JSON.parse(result.stdout) as ReferralLink;
		expect(link).toMatchObject({ userId: "42", disabled: false, target: null });
		expect(link.identifier).toMatch(/^[A-Za-z0-9]{8}$/);
		expect(new Date(link.createdAt as unknown as string).toISOString()).toBe(link.createdAt);
	});

	test("a duplicate identifier fails with one line and changes nothing", async () => {
		const run = await fresh();
		expect((await run("links", "create", "taken", "--user", "alice")).code).toBe(0);
		expectOneLineError(await run("links", "create", "taken", "--user", "bob"), /already exists/);
		expect(await listLinks(run)).toMatchObject([{ identifier: "taken", userId: "alice" }]);
	});

	test("an invalid identifier or target fails with one line and creates nothing", async () => {
		const run = await fresh();
		expectOneLineError(await run("links", "create", "no-dashes"), /identifier must be 1 to 50/);
		expectOneLineError(await run("links", "create", "x".repeat(51)), /identifier/);
		expectOneLineError(
			await run("links", "create", "ok", "--target", "https://evil.example/"),
			/target must be a same-site path/,
		);
		expect(await listLinks(run)).toEqual([]);
	});

	test("links list prints an aligned table, newest first", async () => {
		const run = await fresh();
		await run("links", "create", "first", "--user", "alice", "--target", "/pricing");
		await run("links", "create", "second_link");
		const result = await run("links", "list");
		expect(result.code).toBe(0);
		expect(result.stderr).toBe("");
		const lines = result.stdout.trimEnd().split("\n");
		expect(lines).toHaveLength(3);
		expect(lines[0]).toMatch(/^IDENTIFIER\s+USER\s+STATUS\s+TARGET\s+CREATED$/);
		expect(lines[1]).toMatch(/^second_link\s+-\s+enabled\s+-\s+\d{4}-\d\d-\d\dT[\d:.]+Z$/);
		expect(lines[2]).toMatch(/^first\s+alice\s+enabled\s+\/pricing\s+\d{4}-\d\d-\d\dT[\d:.]+Z$/);
		// Aligned: every column starts at the same offset on every line.
		for (const header of ["USER", "STATUS", "TARGET", "CREATED"]) {
			const at = lines[0]?.indexOf(header) ?? -1;
			for (const line of lines.slice(1)) expect(line[at - 1]).toBe(" ");
			for (const line of lines.slice(1)) expect(line[at]).not.toBe(" ");
		}
	});

	test("links list --json and its filters", async () => {
		const run = await fresh();
		await run("links", "create", "a1", "--user", "alice");
		await run("links", "create", "a2", "--user", "alice");
		await run("links", "create", "b1", "--user", "bob");
		await run("links", "disable", "a1");

		const all = await listLinks(run);
		expect(all.map((link) => link.identifier)).toEqual(["b1", "a2", "a1"]);
		expect(typeof all[0]?.createdAt).toBe("string");
		expect((await listLinks(run, "--user", "alice")).map((link) => link.identifier)).toEqual(["a2", "a1"]);
		expect((await listLinks(run, "--disabled")).map((link) => link.identifier)).toEqual(["a1"]);
		expect((await listLinks(run, "--enabled")).map((link) => link.identifier)).toEqual(["b1", "a2"]);
		expect((await listLinks(run, "--enabled", "--user", "alice")).map((link) => link.identifier)).toEqual([
			"a2",
		]);
		expect((await listLinks(run, "--limit", "1")).map((link) => link.identifier)).toEqual(["b1"]);
		expect(await listLinks(run, "--user", "nobody")).toEqual([]);
		expect((await run("links", "list", "--user", "nobody")).stdout).toBe("no links\n");
	}, 90_000); // a dozen CLI processes in turn, while the other tests of this file run theirs

	test("links disable and enable", async () => {
		const run = await fresh();
		await run("links", "create", "abc123");
		expect(await run("links", "disable", "abc123")).toEqual({
			code: 0,
			stdout: "disabled abc123\n",
			stderr: "",
		});
		expect(await listLinks(run)).toMatchObject([{ identifier: "abc123", disabled: true }]);
		expect((await run("links", "list")).stdout).toMatch(/\nabc123\s+-\s+disabled\s/);
		expect(await run("links", "enable", "abc123")).toEqual({
			code: 0,
			stdout: "enabled abc123\n",
			stderr: "",
		});
		expect(await listLinks(run)).toMatchObject([{ identifier: "abc123", disabled: false }]);
	});

	test("disabling or enabling an unknown or invalid identifier fails with one line", async () => {
		const run = await fresh();
		await run("links", "create", "abc123");
		expectOneLineError(await run("links", "disable", "nope"), /no link has the identifier "nope"/);
		expectOneLineError(await run("links", "enable", "nope"), /no link/);
		expectOneLineError(await run("links", "disable", "bad!id"), /identifier must be/);
		expect(await listLinks(run)).toMatchObject([{ identifier: "abc123", disabled: false }]);
	});

	test("DATABASE_URL is used without --database, and --database wins over it", async () => {
		const database = await freshDatabaseUrl(kind);
		expect((await cli(["links", "create", "from_env"], { DATABASE_URL: database })).code).toBe(0);
		const result = await cli(["links", "list", "--json", "--database", database], {
			DATABASE_URL: "mysql://x",
		});
		expect(result.code).toBe(0);
		expect((JSON.parse(result.stdout) as ReferralLink[]).map((link) => link.identifier)).toEqual([
			"from_env",
		]);
	});

	test("hits list shows the hits recorded by following links", async () => {
		const database = await freshDatabaseUrl(kind);
		const run = (...args: string[]) => cli(["--database", database, ...args]);
		await run("links", "create", "abc123", "--user", "referrer");
		await run("links", "create", "other");

		const refkit = createRefkit({ database, secret: TEST_SECRET, onError: (error) => console.error(error) });
		try {
			const follow = (url: string, user: string | null) =>
				refkit.handle({
					method: "GET",
					url,
					header: (name: string) => (name === "user-agent" ? BROWSER_AGENT : undefined),
					remoteAddress: "127.0.0.1",
					getUserId: () => user,
				});
			await follow("/ref/abc123?next=/pricing", null);
			await follow("/ref/abc123", "bob");
			// A visitor's `next` is stored as given: it must not reach the terminal raw.
			await follow("/ref/other?next=%1B%5B31mred", null);
		} finally {
			await refkit.close();
		}

		const table = await run("hits", "list");
		expect(table.code).toBe(0);
		expect(table.stderr).toBe("");
		const lines = table.stdout.trimEnd().split("\n");
		expect(lines).toHaveLength(4);
		expect(lines[0]).toMatch(/^CREATED\s+LINK\s+USER\s+AUTHENTICATED\s+VISITOR\s+IP\s+NEXT\s+CONFIRMED$/);
		expect(table.stdout).not.toContain("\x1b");
		expect(table.stdout).toContain("\\u001b[31mred");
		expect(table.stdout).toMatch(/\sabc123\s+bob\s+yes\s+-\s+127\.0\.0\.1\s+-\s+-\n/);
		expect(table.stdout).toMatch(/\sabc123\s+-\s+no\s+[0-9a-f-]{36}\s+127\.0\.0\.1\s+\/pricing\s+-\n/);

		const json = await run("hits", "list", "--json", "--link", "abc123");
		expect(json.code).toBe(0);
		const hits = JSON.parse(json.stdout) as HitWithLink[];
		expect(hits).toHaveLength(2);
		expect(hits.every((hit) => hit.identifier === "abc123" && hit.ip === "127.0.0.1")).toBe(true);
		expect(hits.find((hit) => hit.authenticated)).toMatchObject({ userId: "bob", visitorId: null });
		expect(hits.find((hit) => !hit.authenticated)).toMatchObject({ userId: null, next: "/pricing" });
		expect(typeof hits[0]?.createdAt).toBe("string");

		const byUser = JSON.parse((await run("hits", "list", "--json", "--user", "bob")).stdout) as HitWithLink[];
		expect(byUser.map((hit) => hit.userId)).toEqual(["bob"]);
		const limited = JSON.parse((await run("hits", "list", "--json", "--limit", "1")).stdout) as HitWithLink[];
		expect(limited).toHaveLength(1);
		expect((await run("hits", "list", "--user", "nobody")).stdout).toBe("no hits\n");
		expect((await run("hits", "list", "--link", "abc123", "--user", "nobody")).stdout).toBe("no hits\n");
	});

	test("hits list --link with an unknown or invalid link fails with one line", async () => {
		const run = await fresh();
		await run("migrate");
		expectOneLineError(await run("hits", "list", "--link", "nope"), /no link has the identifier "nope"/);
		expectOneLineError(await run("hits", "list", "--link", "bad-id"), /identifier must be/);
	});

	/** A database with alice's and bob's links, bob's hits (one claimed, one logged in) and bob's signup. */
	async function seedPeople(): Promise<{ database: string; run: (...args: string[]) => Promise<CliResult> }> {
		const database = await freshDatabaseUrl(kind);
		await withTestRefkit(database, async (refkit) => {
			await refkit.createLink({ identifier: "alice_link", userId: "alice" });
			await refkit.createLink({ identifier: "bob_link", userId: "bob" });
			const cookie = visitorCookie(await visit(refkit, "/ref/alice_link"));
			expect(await refkit.claim(cookie.split("=")[1], "bob")).toBe(1);
			await visit(refkit, "/ref/alice_link", { user: "bob" });
			expect((await refkit.confirm({ userId: "bob", goal: "signup" })).status).toBe("converted");
		});
		return { database, run: (...args: string[]) => cli(["--database", database, ...args]) };
	}

	test("stats prints the totals, the days and the top referrers; --json prints the Stats object", async () => {
		const { database, run } = await seedPeople();
		const today = new Date().toISOString().slice(0, 10);

		const result = await run("stats");
		expect(result.code).toBe(0);
		expect(result.stderr).toBe("");
		const lines = result.stdout.split("\n");
		expect(lines[0]).toMatch(/^all links, 30 days: \d{4}-\d\d-\d\dT00:00:00\.000Z to \d{4}-.*Z$/);
		expect(lines).toContain("links            2");
		expect(lines).toContain("hits             2");
		expect(lines).toContain("unique visitors  1");
		expect(lines).toContain("conversions      1 (signup 1)");
		expect(lines).toContain("conversion rate  100.0 %");
		expect(result.stdout).toMatch(/\nDAY\s+HITS\s+CONVERSIONS\n\d{4}-\d\d-\d\d\.\.\d{4}-\d\d-\d\d\s+0\s+0\n/);
		expect(result.stdout).toMatch(new RegExp(`\\n${today}\\s+2\\s+1\\n`));
		expect(result.stdout).toMatch(/\nTOP REFERRER\s+HITS\s+CONVERSIONS\nalice\s+2\s+1\n$/);

		const one = await run("stats", "bob_link", "--days", "7");
		expect(one.code).toBe(0);
		expect(one.stdout).toMatch(/^link bob_link, 7 days: /);
		expect(one.stdout).toContain("hits             0\n");
		expect(one.stdout).not.toContain("TOP REFERRER");

		const json = await run("stats", "--days", "7", "--json");
		expect(json.code).toBe(0);
		const parsed = JSON.parse(json.stdout) as Stats & { from: string; to: string };
		const expected = await withTestRefkit(database, (refkit) => refkit.stats({ days: 7 }));
		expect(parsed.from).toBe(expected.from.toISOString());
		expect({ ...parsed, from: undefined, to: undefined }).toEqual({
			...expected,
			from: undefined,
			to: undefined,
		});
	});

	test("stats marks estimated counts", async () => {
		const database = await freshDatabaseUrl(kind);
		const link = await withTestRefkit(database, (refkit) => refkit.createLink({ identifier: "viral" }));
		const at = new Date(Date.now() - 2 * 24 * 60 * 60 * 1000);
		await insertHits(
			kind,
			database,
			Array.from({ length: 2_500 }, () => ({ linkId: link.id, at })),
		);
		const result = await cli(["--database", database, "stats", "--days", "7"]);
		expect(result.code).toBe(0);
		expect(result.stdout).toContain("hits             2500\n");
		expect(result.stdout).toMatch(/\nunique visitors {2}~2[45]\d\d \(estimated\)\n/);
	});

	test("stats of an unknown or invalid link fails with one line", async () => {
		const { run } = await seedPeople();
		expectOneLineError(await run("stats", "nope"), /^refkit: no link has the identifier "nope"\.$/m);
		expectOneLineError(await run("stats", "bad-id"), /identifier must be/);
	});

	test("export writes every hit and conversion once, across export batches, as CSV and JSON lines", async () => {
		const database = await freshDatabaseUrl(kind);
		const now = Date.now();
		const { ids, since } = await withTestRefkit(database, async (refkit) => {
			const link = await refkit.createLink({ identifier: "busy", userId: "owner" });
			// More than two export batches (500 rows each), a minute apart, the newest an hour ago.
			const hits: SeedHit[] = Array.from({ length: 1234 }, (_, i) => ({
				linkId: link.id,
				at: new Date(now - 60 * 60 * 1000 - i * 60 * 1000),
			}));
			hits[3] = { ...(hits[3] as SeedHit), userAgent: '=HYPERLINK("https://evil.example")' };
			for (const user of ["u1", "u2", "u3"])
				hits.push({ linkId: link.id, at: new Date(now - DAY), userId: user });
			const seeded = await insertHits(kind, database, hits);
			for (const user of ["u1", "u2", "u3"]) await refkit.confirm({ userId: user, goal: "signup" });
			return { ids: seeded, since: hits[700]?.at as Date };
		});

		const csv = await run(database, "export", "hits");
		expect(csv.code).toBe(0);
		expect(csv.stderr).toBe("");
		const lines = csv.stdout.split("\r\n");
		expect(lines.pop()).toBe("");
		expect(lines[0]).toBe(
			"time,link,source,authenticated,user_id,visitor_id,ip,user_agent,referer,next,confirmed_at,id",
		);
		const rows = lines.slice(1).map(csvFields);
		expect(rows).toHaveLength(ids.length);
		expect(rows.map((row) => row[11]).sort()).toEqual([...ids].sort());
		expect(rows.every((row) => row.length === 12 && row[1] === "busy")).toBe(true);
		// A formula a visitor wrote is defused, as in the dashboard's CSV.
		expect(rows.find((row) => row[11] === ids[3])?.[7]).toBe(`'=HYPERLINK("https://evil.example")`);

		const jsonl = await run(database, "export", "hits", "--format", "jsonl");
		expect(jsonl.code).toBe(0);
		const objects = jsonl.stdout
			.trimEnd()
			.split("\n")
			.map((line) => JSON.parse(line) as HitWithLink);
		expect(objects).toHaveLength(ids.length);
		expect(new Set(objects.map((hit) => hit.id))).toEqual(new Set(ids));
		expect(objects[0]).toMatchObject({ identifier: "busy", source: "link", ip: "203.0.113.9" });

		// --since: a full time keeps the rows made at or after it; tomorrow's date keeps none.
		const recent = await run(database, "export", "hits", "--format", "jsonl", "--since", since.toISOString());
		// The 700 newer ones and hits[700] itself; u1 to u3's, a day old, are older.
		expect(recent.stdout.trimEnd().split("\n")).toHaveLength(701);
		const tomorrow = new Date(now + DAY).toISOString().slice(0, 10);
		expect((await run(database, "export", "hits", "--since", tomorrow)).stdout.split("\r\n")).toHaveLength(2);

		const conversions = await run(database, "export", "conversions");
		expect(conversions.code).toBe(0);
		const conversionLines = conversions.stdout.trimEnd().split("\r\n");
		expect(conversionLines[0]).toMatch(/^time,goal,referred_user_id,referrer_user_id,value,hit_id,/);
		expect(
			conversionLines
				.slice(1)
				.map((line) => csvFields(line)[2])
				.sort(),
		).toEqual(["u1", "u2", "u3"]);
		const conversionObjects = (await run(database, "export", "conversions", "--format", "jsonl")).stdout
			.trimEnd()
			.split("\n")
			.map((line) => JSON.parse(line) as Conversion);
		expect(conversionObjects.map((c) => c.referrerUserId)).toEqual(["owner", "owner", "owner"]);
	});

	test("export --output writes the file through a .partial file and leaves nothing on failure", async () => {
		const { database, run: onDatabase } = await seedPeople();
		const dir = tempDir();
		const file = join(dir, "hits.csv");
		const written = await onDatabase("export", "hits", "--output", file);
		expect(written).toEqual({ code: 0, stdout: `exported 2 hits to ${file}\n`, stderr: "" });
		expect(readFileSync(file, "utf8")).toBe((await onDatabase("export", "hits")).stdout);
		expect(readdirSync(dir)).toEqual(["hits.csv"]);

		// The rows are all written, then the rename onto a directory fails: the partial file is removed.
		const taken = join(dir, "taken");
		mkdirSync(taken);
		expectOneLineError(await onDatabase("export", "hits", "--output", taken), /^refkit: .*taken/);
		expect(readdirSync(dir).sort()).toEqual(["hits.csv", "taken"]);
		expect(readdirSync(taken)).toEqual([]);
		expectOneLineError(
			await onDatabase("export", "conversions", "--output", join(dir, "missing", "c.csv")),
			/ENOENT/,
		);
		expect(readdirSync(dir).sort()).toEqual(["hits.csv", "taken"]);
		expect(await countHits(database)).toBe(2);
	});

	test.skipIf(!existsSync("/usr/bin/script"))(
		"a progress line goes to stderr only when it is a terminal",
		async () => {
			const { database } = await seedPeople();
			const file = join(tempDir(), "hits.csv");
			const quote = (text: string) => `'${text.replace(/'/g, "'\\''")}'`;
			const command = [process.execPath, CLI, "--database", database, "export", "hits", "--output", file]
				.map(quote)
				.join(" ");
			// `script` gives the command a terminal: what it shows there is what a person would see.
			const terminal = await new Promise<string>((resolve, reject) =>
				execFile("/usr/bin/script", ["-qec", command, "/dev/null"], { timeout: 20_000 }, (error, stdout) =>
					error ? reject(error) : resolve(stdout),
				),
			);
			expect(terminal).toContain("\rexported 1 hit\x1b[K");
			expect(terminal).toContain("\r\x1b[K");
			expect(terminal).toContain(`exported 2 hits to ${file}`);
			// Without a terminal (every other test), stderr stays empty.
			expect((await run(database, "export", "hits", "--output", `${file}.2`)).stderr).toBe("");
		},
	);

	test("prune: a dry run counts, a real run deletes old hits never confirmed, in batches", async () => {
		const database = await freshDatabaseUrl(kind);
		const now = Date.now();
		await withTestRefkit(database, async (refkit) => {
			const link = await refkit.createLink({ identifier: "old_link" });
			await insertHits(kind, database, [
				...Array.from({ length: 5 }, (_, i) => ({ linkId: link.id, at: new Date(now - (100 + i) * DAY) })),
				{ linkId: link.id, at: new Date(now - 100 * DAY), userId: "kept", confirmed: true },
				{ linkId: link.id, at: new Date(now - DAY) },
				{ linkId: link.id, at: new Date(now - 80 * DAY) },
			]);
		});
		const cutoff = /^(?:would delete|deleted) \d+ hits? older than (\S+) \(never confirmed\)\n$/;

		const dry = await run(database, "prune", "--older-than", "90d", "--dry-run");
		expect(dry.code).toBe(0);
		expect(dry.stderr).toBe("");
		expect(dry.stdout).toMatch(/^would delete 5 hits older than \S+ \(never confirmed\)\n$/);
		const at = new Date(cutoff.exec(dry.stdout)?.[1] as string).getTime();
		expect(Math.abs(at - (now - 90 * DAY))).toBeLessThan(60_000);
		expect(await countHits(database)).toBe(8);

		// A malformed duration changes nothing.
		expectOneLineError(await run(database, "prune", "--older-than", "90"), /--older-than/);
		expect(await countHits(database)).toBe(8);

		const real = await run(database, "prune", "--older-than", "90d", "--batch-size", "2");
		expect(real).toMatchObject({ code: 0, stderr: "" });
		expect(real.stdout).toMatch(/^deleted 5 hits older than \S+ \(never confirmed\)\n$/);
		expect(await countHits(database)).toBe(3);
		expect((await run(database, "prune", "--older-than", "12w")).stdout).toMatch(
			/^deleted 0 hits older than /,
		);
		expect((await run(database, "prune", "--older-than", "1h")).stdout).toMatch(
			/^deleted 2 hits older than /,
		);
		expect(await countHits(database)).toBe(1);
	});

	test("users export prints everything refkit holds about a user as JSON; --output writes it to a file", async () => {
		const { database, run: onDatabase } = await seedPeople();
		const expected = await withTestRefkit(database, (refkit) => refkit.exportUser("bob"));
		const result = await onDatabase("users", "export", "bob");
		expect(result.code).toBe(0);
		expect(result.stderr).toBe("");
		expect(result.stdout).toMatch(/^\{\n {2}"userId": "bob",\n/);
		const parsed = JSON.parse(result.stdout) as UserExport;
		expect(parsed.hits).toHaveLength(2);
		expect(parsed.links.map((link) => link.identifier)).toEqual(["bob_link"]);
		const plain = JSON.parse(JSON.stringify(expected)) as UserExport;
		expect({ ...parsed, exportedAt: plain.exportedAt }).toEqual(plain);

		const file = join(tempDir(), "bob.json");
		expect(await onDatabase("users", "export", "bob", "--output", file)).toEqual({
			code: 0,
			stdout: `exported what refkit holds about user bob to ${file}\n`,
			stderr: "",
		});
		expect({
			...(JSON.parse(readFileSync(file, "utf8")) as UserExport),
			exportedAt: plain.exportedAt,
		}).toEqual(plain);
		expect(JSON.parse((await onDatabase("users", "export", "nobody")).stdout)).toMatchObject({
			links: [],
			hits: [],
			hitsAsVisitor: [],
			conversionsAsReferred: [],
		});
	});

	test("users erase needs --yes, erases with the application's secret, and finds nothing the second time", async () => {
		const { database, run: onDatabase } = await seedPeople();
		const before = await withTestRefkit(database, (refkit) => refkit.exportUser("bob"));
		expectOneLineError(await onDatabase("users", "erase", "bob"), /add --yes/);
		const unchanged = await withTestRefkit(database, (refkit) => refkit.exportUser("bob"));
		expect({ ...unchanged, exportedAt: before.exportedAt }).toEqual(before);

		const erase = () =>
			cli(["--database", database, "users", "erase", "bob", "--yes"], { REFKIT_SECRET: TEST_SECRET });
		expect(await erase()).toEqual({
			code: 0,
			stdout:
				"erased user bob: deleted 1 hit, anonymised 1 hit that conversions credit, detached 1 link, anonymised 1 conversion\n",
			stderr: "",
		});
		expect(await erase()).toEqual({
			code: 0,
			stdout: "nothing to erase: refkit holds nothing about user bob (or erased it before)\n",
			stderr: "",
		});
		await withTestRefkit(database, async (refkit) => {
			expect(await refkit.exportUser("bob")).toMatchObject({
				hits: [],
				links: [],
				conversionsAsReferred: [],
			});
			// The pseudonym came from the application's secret: a new "bob" is already converted.
			await visit(refkit, "/ref/alice_link", { user: "bob" });
			expect((await refkit.confirm({ userId: "bob", goal: "signup" })).status).toBe("already-converted");
		});
	});
});

/** Runs the CLI on `database`. */
function run(database: string, ...args: string[]): Promise<CliResult> {
	return cli(["--database", database, ...args]);
}
