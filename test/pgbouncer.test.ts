import pg from "pg";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createRefkit, type Refkit } from "../src/index.js";
import { DATABASES, freshDatabaseUrl, TEST_SECRET } from "./setup/databases.js";
import { visit } from "./setup/direct.js";
import { type Bouncer, startPgBouncer } from "./setup/pgbouncer.js";

/**
 * refkit behind PgBouncer in transaction pooling, the usual production set-up at scale: each transaction (or
 * statement outside one) may run on another server connection, so nothing may rely on a session.
 */

async function query<T>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
	const client = new pg.Client({ connectionString: url });
	await client.connect();
	try {
		return (await client.query(text, values)).rows as T[];
	} finally {
		await client.end();
	}
}

/** The advisory locks held on `url`'s database, by any connection. */
async function advisoryLocks(url: string): Promise<number> {
	const rows = await query<{ n: string }>(
		url,
		"select count(*) as n from pg_locks where locktype = 'advisory' and database = (select oid from pg_database where datname = current_database())",
	);
	return Number(rows[0]?.n);
}

function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
	return Promise.race([
		work,
		new Promise<never>((_, reject) =>
			setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms),
		),
	]);
}

describe.skipIf(!DATABASES.includes("postgres"))("behind PgBouncer in transaction pooling", () => {
	let bouncer: Bouncer;
	beforeAll(async () => {
		// Two server connections for every client: clients share them, as behind a busy pooler.
		bouncer = await startPgBouncer((await freshDatabaseUrl("postgres")).replace(/\/[^/]*$/, "/postgres"), {
			mode: "transaction",
			poolSize: 2,
		});
	});
	afterAll(async () => {
		await bouncer?.stop();
	});

	test("the pooler really shares server connections: a session's lock is released elsewhere", async () => {
		// What broke migrations: a session-level lock taken through the pooler stays with a server connection
		// that the next client's transaction gets, and the unlock lands on another one.
		const direct = await freshDatabaseUrl("postgres");
		const url = bouncer.through(direct);
		const a = new pg.Client({ connectionString: url });
		const b = new pg.Client({ connectionString: url });
		await a.connect();
		await b.connect();
		try {
			await a.query("select pg_advisory_lock(42)");
			await b.query("begin");
			await b.query("select 1");
			const { rows } = await a.query("select pg_advisory_unlock(42) as unlocked");
			await b.query("commit");
			expect(rows[0].unlocked).toBe(false);
		} finally {
			await a.end();
			await b.end();
			await query(
				direct,
				"select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()",
			);
		}
	});

	test("four processes migrating a new database at once all finish, and leave no lock behind", async () => {
		const direct = await freshDatabaseUrl("postgres");
		const url = bouncer.through(direct);
		const refkits: Refkit[] = Array.from({ length: 4 }, () =>
			createRefkit({ database: url, secret: TEST_SECRET }),
		);
		try {
			const results = await withTimeout(
				Promise.all(refkits.map((refkit) => refkit.migrate())),
				20_000,
				"four migrate() through PgBouncer",
			);
			// One of them applied every migration; the others found nothing left to do.
			const applied = results.map((result) => result.length);
			expect(applied.filter((n) => n > 0)).toHaveLength(1);
			expect(await advisoryLocks(direct)).toBe(0);

			// The application goes on through the same pooler: links, follows, hits, a second migrate().
			const [first] = refkits as [Refkit];
			await first.createLink({ identifier: "pooled", userId: "referrer" });
			for (let i = 0; i < 20; i++) {
				const followed = await visit(first, `/ref/pooled?next=/p${i}`);
				expect(followed.redirect).toEqual({ status: 302, location: `/p${i}` });
			}
			await expect(first.migrate()).resolves.toEqual([]);
			expect(await first.linkFor("owner")).toMatchObject({ userId: "owner" });
			const stats = await first.stats({ days: 2 });
			expect(stats.totals.hits).toBe(20);
			expect(await advisoryLocks(direct)).toBe(0);
		} finally {
			await Promise.all(refkits.map((refkit) => refkit.close()));
		}
	});

	test("migrating while the application's queries run through the same pooler never hangs", async () => {
		const direct = await freshDatabaseUrl("postgres");
		const url = bouncer.through(direct);
		const app = createRefkit({ database: url, secret: TEST_SECRET });
		await app.migrate();
		await app.createLink({ identifier: "busy", userId: "referrer" });
		let running = true;
		const traffic = (async () => {
			let n = 0;
			while (running) await visit(app, `/ref/busy?next=/t${n++}`);
			return n;
		})();
		try {
			for (let round = 0; round < 4; round++) {
				const others = Array.from({ length: 3 }, () => createRefkit({ database: url, secret: TEST_SECRET }));
				await withTimeout(Promise.all(others.map((refkit) => refkit.migrate())), 20_000, `round ${round}`);
				await Promise.all(others.map((refkit) => refkit.close()));
			}
		} finally {
			running = false;
		}
		expect(await traffic).toBeGreaterThan(0);
		expect(await advisoryLocks(direct)).toBe(0);
		await app.close();
	});
});
