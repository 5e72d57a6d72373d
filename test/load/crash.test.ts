import Database from "better-sqlite3";
import { describe, expect, test } from "vitest";
import { createRefkit } from "../../src/index.js";
import { DATABASES, freshDatabaseUrl, TEST_SECRET } from "../setup/databases.js";
import { runSql, visit } from "../setup/direct.js";
import { LoadClient, pool } from "./client.js";
import { startAppServer } from "./server.js";
import { CONCURRENCY, FOLLOWS, report, TIMEOUT } from "./sizes.js";

/**
 * docs/storage.md's promise: "a hit whose redirect was sent survives a crash of the application". The app (one
 * process, refkit's default settings) is killed with SIGKILL while CONCURRENCY follows are in flight; every
 * follow whose 302 the client received must be in the database, which opens cleanly and takes new hits.
 */
describe.each(DATABASES)("a crash on %s", (kind) => {
	test(
		"SIGKILL in the middle of the load: the database opens cleanly and holds every hit that was redirected",
		async () => {
			const url = await freshDatabaseUrl(kind);
			const setup = createRefkit({ database: url, secret: TEST_SECRET });
			await setup.migrate();
			await setup.createLink({ identifier: "crash", userId: "alice" });
			await setup.close();

			const server = await startAppServer(url);
			const client = new LoadClient(server.base, CONCURRENCY);
			const redirected: string[] = [];
			const wrong: string[] = [];
			let unanswered = 0;
			let killed: Promise<void> | undefined;
			await pool(FOLLOWS, CONCURRENCY, async (i) => {
				if (killed) return;
				const next = `/p/${i}`;
				const sent = client.send(`/ref/crash?next=${encodeURIComponent(next)}`);
				// Killed once half the follows are redirected, right after a request is sent: at least that one
				// is in flight (the others may all have been answered by one group commit a moment before).
				if (!killed && redirected.length >= FOLLOWS / 2) killed = server.kill("SIGKILL");
				try {
					const reply = await sent;
					if (reply.status === 302 && reply.location === next) redirected.push(next);
					else wrong.push(`${next}: ${reply.status} to ${reply.location}`);
				} catch {
					unanswered++;
				}
			});
			client.close();
			await killed;
			expect(wrong).toEqual([]);
			expect(unanswered, "follows were in flight when the app died").toBeGreaterThan(0);

			if (kind === "sqlite") {
				const db = new Database(url);
				try {
					expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
				} finally {
					db.close();
				}
			}
			const stored = ((await runSql(kind, url, "select next from refkit_hit")) as { next: string }[]).map(
				(hit) => hit.next,
			);
			const storedSet = new Set(stored);
			expect(storedSet.size, "no hit stored twice").toBe(stored.length);
			expect(
				redirected.filter((next) => !storedSet.has(next)),
				"every redirected follow is stored",
			).toEqual([]);
			// The hits stored without an answer are among the follows in flight when the app died.
			expect(stored.length - redirected.length).toBeLessThanOrEqual(unanswered);
			report(
				`${kind} crash: ${redirected.length} follows redirected before SIGKILL, all stored; ` +
					`${unanswered} in flight, of which ${stored.length - redirected.length} stored`,
			);

			// A fresh refkit opens the database and records again.
			const after = createRefkit({
				database: url,
				secret: TEST_SECRET,
				onError: (error) => wrong.push(String(error)),
			});
			try {
				await after.migrate();
				const outcome = await visit(after, "/ref/crash?next=/after");
				expect(outcome.redirect).toEqual({ status: 302, location: "/after" });
				expect((await after.listHits({ link: "crash", search: "" })).length).toBeGreaterThan(0);
				const rows = (await runSql(kind, url, "select count(*) as n from refkit_hit")) as {
					n: number | string;
				}[];
				expect(Number(rows[0]?.n)).toBe(stored.length + 1);
				expect(wrong).toEqual([]);
			} finally {
				await after.close();
			}
		},
		TIMEOUT,
	);
});
