import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import Database from "better-sqlite3";
import { Kysely, PostgresDialect, SqliteDialect, sql } from "kysely";
import pg from "pg";
import { describe, expect, test } from "vitest";
import { IDENTIFIER_ALPHABET } from "../src/core/identifiers.js";
import { createRefkit } from "../src/index.js";
import {
	createTestRefkit,
	DATABASES,
	freshDatabaseUrl,
	TEST_SECRET,
	twoTestRefkits,
} from "./setup/databases.js";
import { expectCode } from "./setup/direct.js";

describe.each(DATABASES)("links and storage on %s", (kind) => {
	test("a generated identifier is 8 characters without look-alikes", async () => {
		const refkit = await createTestRefkit(kind);
		const links = await Promise.all(Array.from({ length: 20 }, () => refkit.createLink({ userId: "u1" })));
		for (const link of links) {
			expect(link.identifier).toHaveLength(8);
			for (const char of link.identifier) expect(IDENTIFIER_ALPHABET).toContain(char);
			expect(link).toMatchObject({ userId: "u1", disabled: false, target: null });
			expect(link.createdAt).toBeInstanceOf(Date);
		}
		expect(new Set(links.map((link) => link.identifier)).size).toBe(20);
	});

	test("a chosen identifier is checked, case-sensitive and unique", async () => {
		const refkit = await createTestRefkit(kind);
		await refkit.createLink({ identifier: "Spring_Sale_2026", userId: "u1", target: "/sale" });
		await refkit.createLink({ identifier: "spring_sale_2026" });
		expect(
			await expectCode(refkit.createLink({ identifier: "Spring_Sale_2026" }), "IDENTIFIER_TAKEN"),
		).toMatch(/already exists/);
		for (const bad of ["", "has space", "a-b", "a".repeat(51), "é", "x;DROP TABLE refkit_link"]) {
			await expectCode(refkit.createLink({ identifier: bad }), "INVALID_IDENTIFIER");
		}
		expect(await refkit.listLinks()).toHaveLength(2);
		expect((await refkit.getLink("Spring_Sale_2026"))?.target).toBe("/sale");
		expect(await refkit.getLink("nope")).toBeNull();
	});

	test("a target must be a same-site path", async () => {
		const refkit = await createTestRefkit(kind);
		for (const target of ["https://evil.example", "//evil.example", "javascript:alert(1)"]) {
			expect(await expectCode(refkit.createLink({ target }), "INVALID_ARGUMENT")).toMatch(/same-site path/);
		}
		expect(await refkit.listLinks()).toHaveLength(0);
	});

	test("links are listed newest first, filtered and paginated", async () => {
		const refkit = await createTestRefkit(kind);
		for (let i = 0; i < 5; i++)
			await refkit.createLink({ identifier: `link${i}`, userId: i % 2 ? "odd" : "even" });
		await refkit.disableLink("link4");
		expect((await refkit.listLinks()).map((l) => l.identifier)).toEqual([
			"link4",
			"link3",
			"link2",
			"link1",
			"link0",
		]);
		expect((await refkit.listLinks({ userId: "odd" })).map((l) => l.identifier)).toEqual(["link3", "link1"]);
		expect((await refkit.listLinks({ disabled: true })).map((l) => l.identifier)).toEqual(["link4"]);
		expect(
			(await refkit.listLinks({ disabled: false, limit: 2, offset: 1 })).map((l) => l.identifier),
		).toEqual(["link2", "link1"]);
		await expectCode(refkit.listLinks({ limit: 0 }), "INVALID_ARGUMENT");
		await expectCode(refkit.listLinks({ limit: 5000 }), "INVALID_ARGUMENT");
		await expectCode(refkit.listLinks({ offset: -1 }), "INVALID_ARGUMENT");
	});

	test("disable and enable, and unknown links", async () => {
		const refkit = await createTestRefkit(kind);
		const created = await refkit.createLink({ identifier: "abc" });
		const disabled = await refkit.disableLink("abc");
		expect(disabled.disabled).toBe(true);
		expect(disabled.updatedAt.getTime()).toBeGreaterThanOrEqual(created.updatedAt.getTime());
		expect((await refkit.enableLink("abc")).disabled).toBe(false);
		expect(await expectCode(refkit.disableLink("missing"), "LINK_NOT_FOUND")).toMatch(
			/no link has the identifier/,
		);
	});

	test("migrate() records versions in refkit_migration and is idempotent", async () => {
		const url = await freshDatabaseUrl(kind);
		const refkit = createRefkit({ database: url, secret: TEST_SECRET });
		try {
			await expectCode(refkit.listLinks(), "NOT_MIGRATED");
			expect(await refkit.migrate()).toEqual([
				{ migrationName: "0001-initial", direction: "Up", status: "Success" },
				{ migrationName: "0002-conversions", direction: "Up", status: "Success" },
				{ migrationName: "0003-stats-indexes", direction: "Up", status: "Success" },
				{ migrationName: "0004-stats-days", direction: "Up", status: "Success" },
				{ migrationName: "0005-stats-partial-days", direction: "Up", status: "Success" },
				{ migrationName: "0006-stats-weeks", direction: "Up", status: "Success" },
				{ migrationName: "0007-partial-hit-indexes", direction: "Up", status: "Success" },
				{ migrationName: "0008-browser-ids", direction: "Up", status: "Success" },
				{ migrationName: "0009-programs", direction: "Up", status: "Success" },
				{ migrationName: "0010-billing", direction: "Up", status: "Success" },
			]);
			expect(await refkit.migrate()).toEqual([]);
		} finally {
			await refkit.close();
		}
	});

	test("concurrent migrate() calls from separate processes agree", async () => {
		const url = await freshDatabaseUrl(kind);
		const script = `
			import { createRefkit } from ${JSON.stringify(new URL("../dist/index.js", import.meta.url).href)};
			const refkit = createRefkit({ database: process.argv[1], secret: "${TEST_SECRET}" });
			const results = await refkit.migrate();
			await refkit.close();
			console.log(JSON.stringify(results));`;
		const outputs = await Promise.all(
			[1, 2, 3].map(
				() =>
					new Promise<string>((resolve, reject) =>
						execFile(process.execPath, ["--input-type=module", "-e", script, url], (error, stdout) =>
							error ? reject(error) : resolve(stdout),
						),
					),
			),
		);
		// One process applies every migration; the others wait for it and find nothing left to do.
		const perProcess = outputs.map((output) => JSON.parse(output) as { status: string }[]);
		expect(perProcess.map((results) => results.length).sort()).toEqual([0, 0, 10]);
		expect(perProcess.flat().every((result) => result.status === "Success")).toBe(true);
		const refkit = createRefkit({ database: url, secret: TEST_SECRET });
		await refkit.createLink({ identifier: "works" });
		await refkit.close();
	});

	test("an application's own Kysely instance is used and left open", async () => {
		const url = await freshDatabaseUrl(kind);
		const db =
			kind === "sqlite"
				? new Kysely<unknown>({ dialect: new SqliteDialect({ database: new Database(url) }) })
				: new Kysely<unknown>({
						dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url }) }),
					});
		try {
			const refkit = createRefkit({ database: db, secret: TEST_SECRET });
			expect(refkit.dialect).toBe(kind);
			await refkit.migrate();
			await refkit.createLink({ identifier: "own_db" });
			await refkit.close();
			const { rows } = await sql<{ identifier: string }>`select identifier from refkit_link`.execute(db);
			expect(rows).toEqual([{ identifier: "own_db" }]);
		} finally {
			await db.destroy();
		}
	});

	test("an unreachable database is a STORE_UNAVAILABLE error, not a crash", async () => {
		const refkit =
			kind === "sqlite"
				? null
				: createRefkit({
						database: "postgres://nobody@127.0.0.1:1/none",
						secret: TEST_SECRET,
						onError: () => {},
					});
		if (refkit === null) {
			// Opened on the first query, not by createRefkit(): a framework's build may create one unused.
			const unopened = createRefkit({ database: "/no/such/dir/refkit.sqlite", secret: TEST_SECRET });
			expect(await expectCode(unopened.migrate(), "STORE_UNAVAILABLE")).toMatch(
				/cannot open the SQLite database "\/no\/such\/dir\/refkit.sqlite"/,
			);
			await expectCode(unopened.listLinks(), "STORE_UNAVAILABLE");
			await unopened.close();
			return;
		}
		try {
			expect(await expectCode(refkit.migrate(), "STORE_UNAVAILABLE")).toMatch(
				/could not migrate the database/,
			);
			await expectCode(refkit.listLinks(), "STORE_UNAVAILABLE");
		} finally {
			await refkit.close();
		}
	});
});

describe.each(DATABASES)("linkFor() on %s", (kind) => {
	test("one link per user, however many calls race, with a generated identifier", async () => {
		const refkit = await createTestRefkit(kind);
		const links = await Promise.all(Array.from({ length: 30 }, () => refkit.linkFor("alice")));
		expect(new Set(links.map((link) => link.identifier)).size).toBe(1);
		expect(links[0]).toMatchObject({ userId: "alice", disabled: false, target: null });
		expect(links[0]?.identifier).toMatch(/^[A-Za-z0-9]{8}$/);
		expect((await refkit.linkFor("alice")).id).toBe(links[0]?.id);
		expect(await refkit.listLinks({ userId: "alice" })).toHaveLength(1);
		// A number is the same user as its string, as getUserId has it.
		expect((await refkit.linkFor(42)).identifier).toBe((await refkit.linkFor("42")).identifier);
		// The link works at once (an "unknown" answer may have been cached for its identifier).
		expect((await refkit.getLink(links[0]?.identifier as string))?.userId).toBe("alice");
	});

	test("a user's existing link is theirs: the oldest enabled one, else the oldest", async () => {
		const refkit = await createTestRefkit(kind);
		await refkit.createLink({ identifier: "old_one", userId: "bob" });
		await refkit.createLink({ identifier: "newer_one", userId: "bob" });
		expect((await refkit.linkFor("bob")).identifier).toBe("old_one");
		await refkit.disableLink("old_one");
		expect((await refkit.linkFor("bob")).identifier).toBe("newer_one");
		await refkit.disableLink("newer_one");
		// Every link disabled (by an administrator, say): still theirs, never a fresh one around the ban.
		expect(await refkit.linkFor("bob")).toMatchObject({ identifier: "old_one", disabled: true });
		expect(await refkit.listLinks({ userId: "bob" })).toHaveLength(2);
	});

	test("a malformed user id is INVALID_ARGUMENT", async () => {
		const refkit = await createTestRefkit(kind);
		for (const bad of ["", null, undefined, 1.5, Number.NaN, {}]) {
			expect(await expectCode(refkit.linkFor(bad as never), "INVALID_ARGUMENT")).toMatch(
				/linkFor\(\) needs a user id/,
			);
		}
		expect(await refkit.listLinks()).toEqual([]);
	});

	// (SQLite: two instances in one process would wait for each other's write lock; BEGIN IMMEDIATE orders
	// processes as it orders the calls of one instance.)
	if (kind === "postgres")
		test("two instances (two pools) racing make one link", async () => {
			const [first, second] = await twoTestRefkits(kind);
			for (const user of ["u1", "u2", "u3"]) {
				const links = await Promise.all(
					Array.from({ length: 20 }, (_, i) => (i % 2 ? first : second).linkFor(user)),
				);
				expect(new Set(links.map((link) => link.identifier)).size, user).toBe(1);
			}
			expect(await first.listLinks()).toHaveLength(3);
		});
});

describe("database option", () => {
	test.each(["mysql://localhost/db", "   ", "sqlite:", "redis://x"])(
		"%j is refused with INVALID_OPTION",
		(database) => {
			expect(() => createRefkit({ database, secret: TEST_SECRET })).toThrow(
				/postgres:\/\/ or postgresql:\/\/ URL|database/,
			);
		},
	);

	test.each(DATABASES)(
		"a refkit closed before its first query opens nothing afterwards (%s)",
		async (kind) => {
			const url = await freshDatabaseUrl(kind);
			const refkit = createRefkit({ database: url, secret: TEST_SECRET, onError: () => {} });
			await refkit.close();
			expect(await expectCode(refkit.migrate(), "STORE_UNAVAILABLE")).toMatch(/this refkit was closed/);
			await expectCode(refkit.listLinks(), "STORE_UNAVAILABLE");
			if (kind === "sqlite") expect(existsSync(url)).toBe(false);
		},
	);

	test("a refused database URL is named without its password", () => {
		expect(() =>
			createRefkit({ database: "mysql://admin:hunter2secret@db.example/app", secret: TEST_SECRET }),
		).toThrow('refkit: cannot use the database "mysql://admin:***@db.example/app"');
	});

	test("sqlite: and file: prefixes name a SQLite file", async () => {
		for (const prefix of ["sqlite:", "file:"]) {
			const refkit = createRefkit({ database: `${prefix}:memory:`, secret: TEST_SECRET });
			expect(refkit.dialect).toBe("sqlite");
			await refkit.migrate();
			await refkit.close();
		}
	});
});
