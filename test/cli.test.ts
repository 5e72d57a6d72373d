import { execFile, execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, test } from "vitest";
import { createRefkit, type HitWithLink, type ReferralLink } from "../src/index.js";
import { DATABASES, freshDatabaseUrl, TEST_SECRET } from "./setup/databases.js";
import { BROWSER_AGENT } from "./setup/http.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const CLI = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));

interface Result {
	code: number;
	stdout: string;
	stderr: string;
}

/** Runs the built CLI with `args`; `env` is added to an environment free of DATABASE_URL and REFKIT_SECRET. */
function cli(args: string[], env: Record<string, string> = {}): Promise<Result> {
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
function expectOneLineError(result: Result, pattern: RegExp): void {
	expect(result.code).toBe(1);
	expect(result.stdout).toBe("");
	expect(result.stderr).toMatch(/^refkit: [^\n]+\n$/);
	expect(result.stderr).not.toMatch(/^refkit: refkit:/);
	expect(result.stderr).toMatch(pattern);
}

beforeAll(() => {
	// `npm test` builds first; a bare `vitest run` may not have.
	if (!existsSync(CLI)) execFileSync("npm", ["run", "build", "--silent"], { cwd: ROOT, stdio: "inherit" });
}, 120_000);

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
			/^refkit: could not migrate the database: .*ECONNREFUSED/,
		);
	});

	test("a short REFKIT_SECRET in the shell does not stop a command (the CLI signs no cookies)", async () => {
		const result = await cli(["--database", ":memory:", "links", "list"], { REFKIT_SECRET: "short" });
		expect(result).toMatchObject({ code: 0, stdout: "no links\n" });
	});

	test("usage errors exit 1 with commander's one-line message", async () => {
		expectOneLineError(await cli(["frobnicate"]), /^refkit: unknown command 'frobnicate'/);
		expectOneLineError(await cli(["links", "list", "--frob"]), /unknown option '--frob'/);
		expectOneLineError(await cli(["links", "disable"]), /missing required argument 'identifier'/);
		expectOneLineError(await cli(["links", "create", "--user"]), /argument missing/);
		expectOneLineError(await cli(["links", "create", "--user", ""]), /must not be empty/);
		expectOneLineError(await cli(["links", "list", "--disabled", "--enabled"]), /cannot be used with/);
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
	async function fresh(): Promise<(...args: string[]) => Promise<Result>> {
		const database = await freshDatabaseUrl(kind);
		return (...args: string[]) => cli(["--database", database, ...args]);
	}

	async function listLinks(run: (...args: string[]) => Promise<Result>, ...args: string[]) {
		const result = await run("links", "list", "--json", ...args);
		expect(result.code).toBe(0);
		expect(result.stderr).toBe("");
		return JSON.parse(result.stdout) as ReferralLink[];
	}

	test("migrate applies every migration on a new database, then finds it up to date", async () => {
		const run = await fresh();
		expect(await run("migrate")).toEqual({
			code: 0,
			stdout: "0001-initial        applied\n0002-conversions    applied\n0003-stats-indexes  applied\n",
			stderr: "",
		});
		expect(await run("migrate")).toEqual({ code: 0, stdout: "database is up to date\n", stderr: "" });
	});

	test("other commands migrate a new database first, silently", async () => {
		const run = await fresh();
		expect(await run("links", "list")).toEqual({ code: 0, stdout: "no links\n", stderr: "" });
		expect(await run("hits", "list")).toEqual({ code: 0, stdout: "no hits\n", stderr: "" });
		expect((await run("migrate")).stdout).toBe("database is up to date\n");
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
	});

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
		expectOneLineError(await run("hits", "list", "--link", "nope"), /no link has the identifier "nope"/);
		expectOneLineError(await run("hits", "list", "--link", "bad-id"), /identifier must be/);
	});
});
