import { describe, expect, test } from "vitest";
import { DATABASES, freshDatabaseUrl } from "../setup/databases.js";
import { startDemo } from "../setup/demo.js";
import { runSql } from "../setup/direct.js";
import { cookiePair, LoadClient, latencySummary, pool } from "./client.js";
import { CONCURRENCY, FOLLOWS, perSecond, report, TIMEOUT } from "./sizes.js";

/**
 * The issue: "every redirected hit is stored". FOLLOWS anonymous browsers, CONCURRENCY at a time, each
 * follow a link of the demo application (a real HTTP server in its own process) with a unique `next`:
 * every one is redirected where it asked, and the database holds each of them exactly once.
 */
describe.each(DATABASES)("load on %s", (kind) => {
	test(
		`${FOLLOWS} follows at concurrency ${CONCURRENCY} through the demo: each redirected and stored once`,
		async () => {
			const url = await freshDatabaseUrl(kind);
			const { base, output } = await startDemo(url);
			const client = new LoadClient(base, CONCURRENCY);
			try {
				const login = await client.send("/login", {
					method: "POST",
					headers: { "content-type": "application/x-www-form-urlencoded" },
					body: "username=alice",
				});
				expect(login.status).toBe(303);
				const home = await client.send("/", { headers: { cookie: cookiePair(login, "demo_user") } });
				const identifier = /\/ref\/([A-Za-z0-9_]{8})/.exec(home.body)?.[1];
				expect(identifier, "alice's page shows her link").toBeDefined();

				const wrong: string[] = [];
				const { elapsedMs, errors } = await pool(FOLLOWS, CONCURRENCY, async (i) => {
					const reply = await client.send(`/ref/${identifier}?next=${encodeURIComponent(`/p/${i}`)}`);
					if (reply.status !== 302 || reply.location !== `/p/${i}` || !cookiePair(reply, "refkit_visitor")) {
						wrong.push(`follow ${i}: ${reply.status} to ${reply.location}, cookies ${reply.cookies}`);
					}
				});
				report(
					`${kind}: ${FOLLOWS} follows at concurrency ${CONCURRENCY} through the demo in ` +
						`${(elapsedMs / 1000).toFixed(1)} s, ${perSecond(FOLLOWS, elapsedMs)} follows/s ` +
						`(${latencySummary(client.latencies)})`,
				);
				expect(errors.slice(0, 3)).toEqual([]);
				expect(wrong.slice(0, 3)).toEqual([]);

				const hits = (await runSql(
					kind,
					url,
					"select h.next, h.user_id, h.visitor_id, l.identifier from refkit_hit h join refkit_link l on l.id = h.link_id",
				)) as { next: string; user_id: string | null; visitor_id: string | null; identifier: string }[];
				expect(hits).toHaveLength(FOLLOWS);
				const nexts = new Set(hits.map((hit) => hit.next));
				expect(nexts.size, "no follow is stored twice").toBe(FOLLOWS);
				const missing = Array.from({ length: FOLLOWS }, (_, i) => `/p/${i}`).filter(
					(next) => !nexts.has(next),
				);
				expect(missing.slice(0, 5), "no follow is lost").toEqual([]);
				expect(hits.every((hit) => hit.identifier === identifier && hit.user_id === null)).toBe(true);
				expect(new Set(hits.map((hit) => hit.visitor_id)).size, "one visitor id per browser").toBe(FOLLOWS);
				expect(output()).not.toMatch(/refkit: \w+ failed/);
			} finally {
				client.close();
			}
		},
		TIMEOUT,
	);
});
