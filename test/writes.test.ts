import type { KyselyPlugin } from "kysely";
import { describe, expect, test } from "vitest";
import { createRefkit } from "../src/index.js";
import { kyselyStore } from "../src/store/kysely-store.js";
import { openDatabase } from "../src/store/open.js";
import { DATABASES, freshDatabaseUrl, TEST_SECRET } from "./setup/databases.js";
import { visit } from "./setup/direct.js";

/** How hits are written (group commit, `hitWrites`) and how links are looked up (the link cache). */
describe.each(DATABASES)("%s", (kind) => {
	test("hits followed together are all stored, each before its redirect (durable)", async () => {
		const url = await freshDatabaseUrl(kind);
		const refkit = createRefkit({
			database: url,
			secret: TEST_SECRET,
			onError: (error) => expect.fail(String(error)),
		});
		await refkit.migrate();
		await refkit.createLink({ identifier: "batch" });
		const stored: number[] = [];
		// Each redirect resolves only after its hit is committed: count the rows as each one arrives.
		await Promise.all(
			Array.from({ length: 200 }, async (_, i) => {
				await visit(refkit, `/ref/batch?next=/n${i}`);
				stored.push((await refkit.listHits({ limit: 500 })).filter((hit) => hit.next === `/n${i}`).length);
			}),
		);
		expect(stored).toEqual(Array(200).fill(1));
		expect(refkit.counters().hitsRecorded).toBe(200);
		await refkit.close();
	});

	test("a batch with one bad hit (its link deleted meanwhile) stores the others; only that one fails", async () => {
		const url = await freshDatabaseUrl(kind);
		const store = kyselyStore(openDatabase(url, () => {}));
		try {
			await store.migrate();
			const link = await store.insertLink({ identifier: "kept", userId: null, target: null }, new Date());
			const results = await Promise.allSettled([
				store.recordHit(hitRow("01a24e00-0000-7000-8000-000000000001", link.id)),
				store.recordHit(hitRow("01a24e00-0000-7000-8000-000000000002", link.id + 999)),
				store.recordHit(hitRow("01a24e00-0000-7000-8000-000000000003", link.id)),
			]);
			expect(results.map((result) => result.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
			expect((await store.listHits({ limit: 10, offset: 0 })).map((row) => row.id).sort()).toEqual([
				"01a24e00-0000-7000-8000-000000000001",
				"01a24e00-0000-7000-8000-000000000003",
			]);
		} finally {
			await store.close();
		}
	});

	test("a batch failing with an error that is not the database's absence: the others are stored, none waits", async () => {
		const url = await freshDatabaseUrl(kind);
		const opened = openDatabase(url, () => {});
		// A hit whose insert fails in a way no list of errors foresaw (here, a plugin's bug).
		const poison = "01a24e00-0000-7000-8000-0000000000ff";
		const failing: KyselyPlugin = {
			transformQuery: (args) => {
				if (
					JSON.stringify(args.node, (_key, value) =>
						typeof value === "bigint" ? String(value) : value,
					).includes(poison)
				) {
					throw new Error("an unforeseen failure");
				}
				return args.node;
			},
			transformResult: async (args) => args.result,
		};
		const store = kyselyStore({
			...opened,
			db: opened.db.withPlugin(failing),
			visitorDb: opened.visitorDb?.withPlugin(failing),
		});
		try {
			await store.migrate();
			const link = await store.insertLink({ identifier: "kept", userId: null, target: null }, new Date());
			const ids = ["01a24e00-0000-7000-8000-000000000001", poison, "01a24e00-0000-7000-8000-000000000003"];
			const results = await Promise.allSettled(ids.map((id) => store.recordHit(hitRow(id, link.id))));
			expect(results.map((result) => result.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
			// Not waited out as if the database were down: the next hit is written at once.
			await store.recordHit(hitRow("01a24e00-0000-7000-8000-000000000004", link.id));
			expect((await store.listHits({ limit: 10, offset: 0 })).map((row) => row.id).sort()).toEqual(
				ids.filter((id) => id !== poison).concat("01a24e00-0000-7000-8000-000000000004"),
			);
		} finally {
			await store.close();
		}
	});

	test("hitWrites: buffered redirects at once, and close() writes the hits still waiting", async () => {
		const url = await freshDatabaseUrl(kind);
		const refkit = createRefkit({ database: url, secret: TEST_SECRET, hitWrites: "buffered" });
		await refkit.migrate();
		await refkit.createLink({ identifier: "buffered" });
		const outcomes = await Promise.all(
			Array.from({ length: 50 }, () => visit(refkit, "/ref/buffered?next=/b")),
		);
		expect(outcomes.every((o) => o.redirect?.location === "/b")).toBe(true);
		await refkit.close();
		const again = createRefkit({ database: url, secret: TEST_SECRET });
		expect(await again.listHits({ limit: 100 })).toHaveLength(50);
		await again.close();
	});

	test("a link disabled by another process stops recording within a second; by this one, at once", async () => {
		const url = await freshDatabaseUrl(kind);
		const server = createRefkit({ database: url, secret: TEST_SECRET });
		const cli = createRefkit({ database: url, secret: TEST_SECRET });
		await server.migrate();
		await cli.createLink({ identifier: "cached" });
		// Unknown here a moment ago, created elsewhere: looked up again within a second.
		await visit(server, "/ref/later");
		await cli.createLink({ identifier: "later" });
		await visit(server, "/ref/cached");
		await cli.disableLink("cached");
		await new Promise((resolve) => setTimeout(resolve, 1100));
		await visit(server, "/ref/cached");
		await visit(server, "/ref/later");
		expect((await server.listHits()).map((hit) => hit.identifier)).toEqual(["later", "cached"]);
		await server.enableLink("cached");
		await visit(server, "/ref/cached");
		await server.disableLink("cached");
		await visit(server, "/ref/cached");
		expect(await server.listHits({ link: "cached" })).toHaveLength(2);
		await cli.close();
		await server.close();
	});
});

/** A hit row for the store, on `linkId`. */
function hitRow(id: string, linkId: number) {
	return {
		id,
		linkId,
		source: "link" as const,
		authenticated: false,
		userId: null,
		visitorId: null,
		ip: null,
		userAgent: null,
		referer: null,
		next: null,
		createdAt: new Date(),
	};
}
