import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, inject, onTestFinished, type TestContext } from "vitest";
import { createRefkit, type Refkit, type RefkitOptions } from "../../src/index.js";
import { type DatabaseKind, wantedDatabases } from "./database-list.js";

export type { DatabaseKind };

/** The databases to run each database-backed test on, e.g. `describe.each(DATABASES)("%s", ...)`. */
export const DATABASES: DatabaseKind[] = wantedDatabases();

/** A secret for tests: 64 hex characters. */
export const TEST_SECRET = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

const tempDirs: string[] = [];
afterAll(() => {
	for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

let counter = 0;

/** A new, empty database of `kind`, as a `DATABASE_URL`-style string. */
export async function freshDatabaseUrl(kind: DatabaseKind): Promise<string> {
	if (kind === "sqlite") {
		const dir = mkdtempSync(join(tmpdir(), "refkit-test-"));
		tempDirs.push(dir);
		return join(dir, "refkit.sqlite");
	}
	const adminUrl = inject("postgresUrl");
	if (!adminUrl) throw new Error("PostgreSQL is not part of this run (see DATABASES)");
	const name = `refkit_t_${process.pid}_${Date.now().toString(36)}_${counter++}`;
	const client = new pg.Client({ connectionString: adminUrl });
	await client.connect();
	try {
		await client.query(`CREATE DATABASE "${name}" TEMPLATE template0`);
	} finally {
		await client.end();
	}
	const url = new URL(adminUrl);
	url.pathname = `/${name}`;
	return url.toString();
}

/**
 * A migrated refkit on a new, empty database of `kind`, closed when the current test ends. Unless the test
 * passes its own `onError`, any error refkit reports fails the test: an absorbed error is still a bug.
 */
export async function createTestRefkit(
	kind: DatabaseKind,
	options: Partial<RefkitOptions> = {},
	/**
	 * The test's own context, in a concurrent test: vitest's global `onTestFinished` may attach the closing to
	 * another test running at the same time, which then closes this refkit when it ends.
	 */
	test: Pick<TestContext, "onTestFinished"> = { onTestFinished },
): Promise<Refkit> {
	const reported: unknown[] = [];
	const refkit = createRefkit({
		database: await freshDatabaseUrl(kind),
		secret: TEST_SECRET,
		onError: (error) => reported.push(error),
		...options,
	});
	test.onTestFinished(async () => {
		await refkit.close();
		if (reported.length > 0)
			throw new Error("refkit reported an error during the test", { cause: reported[0] });
	});
	await refkit.migrate();
	return refkit;
}

/**
 * Two refkits (two pools) on one new, migrated database of `kind`, as two application servers would be,
 * closed when the current test ends: for racing a call across processes.
 */
export async function twoTestRefkits(kind: DatabaseKind): Promise<[Refkit, Refkit]> {
	const database = await freshDatabaseUrl(kind);
	const first = createRefkit({ database, secret: TEST_SECRET });
	const second = createRefkit({ database, secret: TEST_SECRET });
	onTestFinished(async () => {
		await Promise.all([first.close(), second.close()]);
	});
	await first.migrate();
	return [first, second];
}
