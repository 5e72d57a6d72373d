import { randomUUID } from "node:crypto";
import { describe, expect, test } from "vitest";
import type { HitWithLink, Refkit, UserExport } from "../src/index.js";
import { createTestRefkit, DATABASES, type DatabaseKind, freshDatabaseUrl } from "./setup/databases.js";
import { expectCode, insertRows, runSql, visit, visitorCookie } from "./setup/direct.js";

const DAY = 24 * 60 * 60 * 1000;

interface PastHit {
	linkId: number;
	daysAgo: number;
	userId?: string | null;
	visitorId?: string | null;
	confirmed?: boolean;
}

/** Inserts hits made in the past straight into the table (visitors cannot be sent back in time); returns their ids. */
async function insertPastHits(kind: DatabaseKind, url: string, hits: PastHit[]): Promise<string[]> {
	const ids = hits.map(() => randomUUID());
	const now = Date.now();
	const rows = hits.map((hit, i) => {
		const at = new Date(now - hit.daysAgo * DAY - i * 1000).toISOString();
		return {
			id: ids[i],
			link_id: hit.linkId,
			authenticated: kind === "sqlite" ? Number(hit.userId != null) : hit.userId != null,
			user_id: hit.userId ?? null,
			visitor_id: hit.visitorId === undefined ? randomUUID() : hit.visitorId,
			ip: "203.0.113.7",
			user_agent: "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
			confirmed_at: hit.confirmed ? at : null,
			created_at: at,
			updated_at: at,
		};
	});
	await insertRows(kind, url, "refkit_hit", rows);
	return ids;
}

async function allHits(refkit: Refkit): Promise<HitWithLink[]> {
	const hits: HitWithLink[] = [];
	for await (const hit of refkit.exportHits()) hits.push(hit);
	return hits;
}

async function hitIds(refkit: Refkit): Promise<string[]> {
	return (await allHits(refkit)).map((hit) => hit.id).sort();
}

/** Oldest first, as `exportUser()` lists: by time, then by id. */
function oldestFirst<T extends { createdAt: Date; id: string | number }>(rows: T[]): T[] {
	return [...rows].sort(
		(a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
	);
}

/** Parses what `JSON.stringify` wrote, turning ISO times back into Dates. */
function parseWithDates(text: string): unknown {
	return JSON.parse(text, (_key, value) =>
		typeof value === "string" && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(value)
			? new Date(value)
			: value,
	);
}

describe.each(DATABASES)("prune on %s", (kind) => {
	/**
	 * Hits 100 days old: three never confirmed (to go), one confirmed, one credited by a conversion though
	 * not confirmed (kept all the same); two recent ones, never confirmed (kept).
	 */
	async function seed() {
		const url = await freshDatabaseUrl(kind);
		const refkit = await createTestRefkit(kind, { database: url });
		const link = await refkit.createLink({ identifier: "old_link", userId: "alice" });
		const old = await insertPastHits(kind, url, [
			{ linkId: link.id, daysAgo: 100 },
			{ linkId: link.id, daysAgo: 100, userId: "ana" },
			{ linkId: link.id, daysAgo: 120 },
		]);
		const [confirmed, credited] = await insertPastHits(kind, url, [
			{ linkId: link.id, daysAgo: 100, userId: "carl", confirmed: true },
			{ linkId: link.id, daysAgo: 100, userId: "dora" },
		]);
		const converted = await refkit.confirm({
			userId: "dora",
			goal: "signup",
			at: new Date(Date.now() - 99 * DAY),
		});
		expect(converted.status).toBe("converted");
		// A conversion's hit is normally confirmed with it; this one is not, and must stay all the same.
		await runSql(kind, url, "update refkit_hit set confirmed_at = null where id = $1", [credited]);
		const recent = await insertPastHits(kind, url, [
			{ linkId: link.id, daysAgo: 1 },
			{ linkId: link.id, daysAgo: 29, userId: "eve" },
		]);
		const kept = [confirmed, credited, ...recent] as string[];
		return { refkit, url, old, kept };
	}

	test("deletes old hits never confirmed nor credited; keeps confirmed, credited and recent ones, and conversions", async () => {
		const { refkit, old, kept } = await seed();
		const before = Date.now();
		const result = await refkit.prune({ olderThan: 30 * DAY });
		expect(result.deleted).toBe(old.length);
		expect(result.dryRun).toBe(false);
		expect(result.cutoff.getTime()).toBeGreaterThanOrEqual(before - 30 * DAY);
		expect(result.cutoff.getTime()).toBeLessThanOrEqual(Date.now() - 30 * DAY);
		expect(await hitIds(refkit)).toEqual([...kept].sort());
		const [conversion] = await refkit.listConversions();
		expect(conversion).toMatchObject({ referredUserId: "dora", hitId: kept[1] });
		// Nothing is left to prune.
		expect((await refkit.prune({ olderThan: 30 * DAY })).deleted).toBe(0);
	});

	test("a dry run counts the same hits and deletes nothing", async () => {
		const { refkit, old } = await seed();
		const before = await hitIds(refkit);
		const progress: number[] = [];
		const dry = await refkit.prune({
			olderThan: 30 * DAY,
			dryRun: true,
			onProgress: (n) => progress.push(n),
		});
		expect(dry).toMatchObject({ deleted: old.length, dryRun: true });
		expect(progress).toEqual([]);
		expect(await hitIds(refkit)).toEqual(before);
		expect((await refkit.prune({ olderThan: 30 * DAY })).deleted).toBe(dry.deleted);
	});

	test("olderThan draws the line: hits younger than it stay", async () => {
		const { refkit, kept, old } = await seed();
		// 110 days: only the 120-day-old hit goes.
		expect((await refkit.prune({ olderThan: 110 * DAY })).deleted).toBe(1);
		expect(await hitIds(refkit)).toEqual([...kept, old[0], old[1]].sort());
	});

	test("batches smaller than the total delete every hit, reporting progress after each", async () => {
		const url = await freshDatabaseUrl(kind);
		const refkit = await createTestRefkit(kind, { database: url });
		const link = await refkit.createLink({ identifier: "busy" });
		await insertPastHits(
			kind,
			url,
			Array.from({ length: 25 }, () => ({ linkId: link.id, daysAgo: 40 })),
		);
		const progress: number[] = [];
		const result = await refkit.prune({
			olderThan: 7 * DAY,
			batchSize: 10,
			onProgress: (n) => progress.push(n),
		});
		expect(result.deleted).toBe(25);
		expect(progress).toEqual([10, 20, 25]);
		expect(await hitIds(refkit)).toEqual([]);
	});

	test("an onProgress that throws stops pruning; the batches deleted stay deleted", async () => {
		const url = await freshDatabaseUrl(kind);
		const refkit = await createTestRefkit(kind, { database: url });
		const link = await refkit.createLink({ identifier: "busy" });
		await insertPastHits(
			kind,
			url,
			Array.from({ length: 5 }, () => ({ linkId: link.id, daysAgo: 40 })),
		);
		const stop = new Error("stop");
		await expect(
			refkit.prune({
				olderThan: DAY,
				batchSize: 2,
				onProgress: () => {
					throw stop;
				},
			}),
		).rejects.toBe(stop);
		expect(await hitIds(refkit)).toHaveLength(3);
	});

	test("bad arguments throw INVALID_ARGUMENT and delete nothing", async () => {
		const { refkit } = await seed();
		const before = await hitIds(refkit);
		const bad: unknown[] = [
			undefined,
			null,
			{},
			{ olderThan: 0 },
			{ olderThan: -DAY },
			{ olderThan: 1.5 },
			{ olderThan: Number.NaN },
			{ olderThan: Number.POSITIVE_INFINITY },
			{ olderThan: "90d" },
			{ olderThan: Number.MAX_SAFE_INTEGER },
			{ olderThan: DAY, batchSize: 0 },
			{ olderThan: DAY, batchSize: 100_001 },
			{ olderThan: DAY, batchSize: 2.5 },
			{ olderThan: DAY, dryRun: "yes" },
			{ olderThan: DAY, onProgress: 5 },
		];
		for (const input of bad) {
			const message = await expectCode(refkit.prune(input as never), "INVALID_ARGUMENT");
			expect(message).toMatch(/^refkit: prune\(\)/);
		}
		expect(await expectCode(refkit.prune({ olderThan: 0 }), "INVALID_ARGUMENT")).toMatch(
			/olderThan must be a whole number of milliseconds above 0/,
		);
		expect(await expectCode(refkit.prune({ olderThan: DAY, batchSize: 0 }), "INVALID_ARGUMENT")).toMatch(
			/batchSize must be a whole number from 1 to 100000/,
		);
		expect(await hitIds(refkit)).toEqual(before);
		expect((await refkit.prune({ olderThan: 30 * DAY, batchSize: 100_000 })).deleted).toBe(3);
	});
});

describe.each(DATABASES)("exportUser and eraseUser on %s", (kind) => {
	/**
	 * bob follows alice's link anonymously and signs up (claiming that hit), follows it again logged in, and
	 * converts (credited to the logged-in hit, the last); later the same browser follows it again while
	 * logged out. bob owns a link, through which carol converts. dave, a stranger, follows alice's link.
	 */
	async function seed(url?: string) {
		const refkit = await createTestRefkit(kind, url === undefined ? {} : { database: url });
		await refkit.createLink({ identifier: "alice_link", userId: "alice" });
		const bobLink = await refkit.createLink({ identifier: "bob_link", userId: "bob", target: "/join" });
		const cookie = visitorCookie(await visit(refkit, "/ref/alice_link?next=/pricing"));
		const cookieValue = cookie.split("=")[1] as string;
		const visitorId = cookieValue.split(".")[0] as string;
		expect(await refkit.claim(cookieValue, "bob")).toBe(1);
		await visit(refkit, "/ref/alice_link", { user: "bob" });
		const signup = await refkit.confirm({ userId: "bob", goal: "signup" });
		if (signup.status !== "converted") throw new Error(signup.status);
		await visit(refkit, "/ref/alice_link?next=/again", { cookie });
		await visit(refkit, "/ref/bob_link", { user: "carol" });
		const carol = await refkit.confirm({ userId: "carol", goal: "signup" });
		if (carol.status !== "converted") throw new Error(carol.status);
		await visit(refkit, "/ref/alice_link");
		return { refkit, bobLink, visitorId, bobSignup: signup.conversion, carolSignup: carol.conversion };
	}

	test("exportUser returns the links, hits, visitor hits and conversions of a person, oldest first", async () => {
		const { refkit, bobLink, visitorId, bobSignup, carolSignup } = await seed();
		const hits = await allHits(refkit);
		const before = Date.now();
		const data = await refkit.exportUser("bob");

		expect(data.userId).toBe("bob");
		expect(data.exportedAt).toBeInstanceOf(Date);
		expect(data.exportedAt.getTime()).toBeGreaterThanOrEqual(before);
		expect(data.visitorIds).toEqual([visitorId]);
		expect(data.links).toEqual([bobLink]);
		expect(data.hits).toEqual(oldestFirst(hits.filter((hit) => hit.userId === "bob")));
		expect(data.hits).toHaveLength(2);
		expect(data.hits.map((hit) => hit.visitorId)).toContain(visitorId);
		expect(data.hits.find((hit) => hit.visitorId === visitorId)).toMatchObject({ next: "/pricing" });
		expect(data.hitsAsVisitor).toEqual(
			hits.filter((hit) => hit.userId === null && hit.visitorId === visitorId),
		);
		expect(data.hitsAsVisitor).toMatchObject([{ identifier: "alice_link", next: "/again", userId: null }]);
		expect(data.conversionsAsReferred).toEqual([await refkit.getConversion(bobSignup.id)]);
		expect(data.conversionsAsReferrer).toEqual([await refkit.getConversion(carolSignup.id)]);
	});

	test("exportUser's result survives JSON whole, and an unknown user's is empty", async () => {
		const { refkit } = await seed();
		const data = await refkit.exportUser("bob");
		const text = JSON.stringify(data);
		expect(parseWithDates(text)).toEqual(data);
		expect(JSON.parse(text)).toMatchObject({ userId: "bob", exportedAt: data.exportedAt.toISOString() });

		const nobody = await refkit.exportUser("nobody");
		expect(nobody).toEqual({
			userId: "nobody",
			exportedAt: nobody.exportedAt,
			visitorIds: [],
			browserIds: [],
			links: [],
			hits: [],
			hitsAsVisitor: [],
			conversionsAsReferred: [],
			conversionsAsReferrer: [],
			commissions: [],
			sales: [],
			payouts: [],
		} satisfies UserExport);
	});

	test("eraseUser deletes hits, anonymises credited ones, detaches links and keeps conversions under a pseudonym", async () => {
		const { refkit, bobLink, visitorId, bobSignup, carolSignup } = await seed();
		const before = await allHits(refkit);
		const credited = before.find((hit) => hit.id === bobSignup.hitId) as HitWithLink;
		expect(credited).toMatchObject({ userId: "bob", authenticated: true });

		expect(await refkit.eraseUser("bob")).toEqual({
			hitsDeleted: 2, // the claimed hit and the later anonymous one of bob's browser
			hitsAnonymised: 1, // the hit bob's signup credits
			linksDetached: 1,
			conversionsAnonymised: 2, // bob's signup, and carol's credited to bob
		});

		const after = await allHits(refkit);
		const renamedTo = (await refkit.listLinks()).find((link) => link.id === bobLink.id)?.identifier;
		const renamed = (hit: HitWithLink) =>
			hit.identifier === "bob_link" ? { ...hit, identifier: renamedTo } : hit;
		// Other people's hits are untouched (but for the renamed link): carol's on bob's link, the stranger's.
		expect(after.filter((hit) => hit.id !== credited.id)).toEqual(
			before
				.filter((hit) => hit.userId === "carol" || (hit.userId === null && hit.visitorId !== visitorId))
				.map(renamed),
		);
		expect(after.find((hit) => hit.id === credited.id)).toEqual({
			...renamed(credited),
			userId: null,
			visitorId: null,
			ip: null,
			userAgent: null,
			referer: null,
			next: null,
			updatedAt: expect.any(Date),
		});
		expect(JSON.stringify(after)).not.toContain(visitorId);

		// The link is nobody's now, renamed (its identifier may name bob) and disabled: its old address is unknown.
		expect(await refkit.getLink("bob_link")).toBeNull();
		const [renamedLink] = (await refkit.listLinks()).filter((link) => link.id === bobLink.id);
		expect(renamedLink).toMatchObject({ userId: null, disabled: true, target: "/join" });
		expect(renamedLink?.identifier).toMatch(/^[A-Za-z0-9]{8}$/);
		const followed = await visit(refkit, "/ref/bob_link");
		expect(followed.redirect).toEqual({ status: 302, location: "/" });
		expect(await allHits(refkit)).toHaveLength(after.length);

		const signup = await refkit.getConversion(bobSignup.id);
		expect(signup).toMatchObject({ goal: "signup", referrerUserId: "alice", hitId: credited.id });
		expect(signup?.referredUserId).toMatch(/^erased:[0-9a-f]{32}$/);
		expect(await refkit.getConversion(carolSignup.id)).toEqual({ ...carolSignup, referrerUserId: null });
		expect(await refkit.listConversions({ referredUserId: "bob" })).toEqual([]);
		expect(await refkit.listConversions({ referrerUserId: "bob" })).toEqual([]);

		expect(await refkit.exportUser("bob")).toMatchObject({
			visitorIds: [],
			browserIds: [],
			links: [],
			hits: [],
			hitsAsVisitor: [],
			conversionsAsReferred: [],
			conversionsAsReferrer: [],
		});
	});

	test("eraseUser also removes the free text that may name them: reversal reasons, delivery errors", async () => {
		const url = await freshDatabaseUrl(kind);
		const { refkit, bobSignup, carolSignup } = await seed(url);
		await refkit.reverseConversion(carolSignup.id, { reason: "Bob Smith asked for a refund" });
		await runSql(kind, url, "update refkit_conversion set last_delivery_error = $1", [
			'refkit: the webhook POST to https://crm.example/… answered 500: "no user bob@example.com"',
		]);
		await refkit.eraseUser("bob");
		const carol = await refkit.getConversion(carolSignup.id);
		expect(carol).toMatchObject({ reversalReason: "erased", referrerUserId: null });
		expect(carol?.reversedAt).toBeInstanceOf(Date);
		expect(await refkit.getConversion(bobSignup.id)).toMatchObject({ reversalReason: null });
		const errors = await runSql(
			kind,
			url,
			"select id, last_delivery_error from refkit_conversion where id in ($1, $2)",
			[carolSignup.id, bobSignup.id],
		);
		expect(errors).toEqual([
			expect.objectContaining({ last_delivery_error: null }),
			expect.objectContaining({ last_delivery_error: null }),
		]);
	});

	test("eraseUser removes their browser ids from every hit, and exportUser lists them", async () => {
		const url = await freshDatabaseUrl(kind);
		const { refkit } = await seed(url);
		// Logged in, dan follows a link: his browser gets a browser cookie, which his hit records.
		const followed = await visit(refkit, "/ref/alice_link", { user: "dan" });
		const browserCookie = followed.setCookies.find((cookie) => cookie.startsWith("refkit_browser="));
		const browserId = browserCookie?.split("=")[1]?.split(".")[0] as string;
		expect(browserId).toMatch(/^[0-9a-f-]{36}$/);
		// Logged out, the same browser follows again: an anonymous hit from dan's browser.
		await visit(refkit, "/ref/alice_link", { cookie: browserCookie?.split(";")[0] });
		expect((await refkit.exportUser("dan")).browserIds).toEqual([browserId]);
		const count = async () =>
			(await runSql(kind, url, "select id from refkit_hit where browser_id = $1", [browserId])).length;
		expect(await count()).toBe(2);
		await refkit.eraseUser("dan");
		expect(await count()).toBe(0);
		expect((await refkit.exportUser("dan")).browserIds).toEqual([]);
	});

	test("a new account with an erased id is already-converted for the goals the erased one reached", async () => {
		const { refkit, bobSignup } = await seed();
		await refkit.eraseUser("bob");
		const pseudonym = (await refkit.getConversion(bobSignup.id))?.referredUserId;
		// bob signs up again and follows alice's link: a hit that would be credited, were it not for the pseudonym.
		await visit(refkit, "/ref/alice_link", { user: "bob" });
		expect(await refkit.confirm({ userId: "bob", goal: "signup" })).toEqual({
			status: "already-converted",
			conversion: await refkit.getConversion(bobSignup.id),
		});
		// A goal the erased account never reached converts as usual.
		expect(await refkit.confirm({ userId: "bob", goal: "purchase" })).toMatchObject({
			status: "converted",
			referrerUserId: "alice",
		});
		// The pseudonym is stable: erasing the new account reuses it, and the constraint still holds.
		expect((await refkit.eraseUser("bob")).conversionsAnonymised).toBe(1);
		const conversions = await refkit.listConversions();
		expect(
			conversions
				.filter((c) => c.referredUserId === pseudonym)
				.map((c) => c.goal)
				.sort(),
		).toEqual(["purchase", "signup"]);
		expect(pseudonym).not.toContain("bob");
	});

	test("erasing twice finds nothing the second time", async () => {
		const { refkit } = await seed();
		await refkit.eraseUser("bob");
		const hits = await allHits(refkit);
		const conversions = await refkit.listConversions();
		expect(await refkit.eraseUser("bob")).toEqual({
			hitsDeleted: 0,
			hitsAnonymised: 0,
			linksDetached: 0,
			conversionsAnonymised: 0,
		});
		expect(await allHits(refkit)).toEqual(hits);
		expect(await refkit.listConversions()).toEqual(conversions);
		expect(await refkit.eraseUser("never_seen")).toEqual({
			hitsDeleted: 0,
			hitsAnonymised: 0,
			linksDetached: 0,
			conversionsAnonymised: 0,
		});
	});

	test("eraseUser is one transaction: when its last step fails, nothing is erased", async () => {
		const url = await freshDatabaseUrl(kind);
		const { refkit } = await seed(url);
		const before = await refkit.exportUser("bob");
		const hits = await allHits(refkit);
		// The database refuses to update conversions, the last thing erasure does.
		if (kind === "sqlite") {
			await runSql(
				kind,
				url,
				"create trigger refuse_updates before update on refkit_conversion begin select raise(abort, 'refused by the test'); end",
			);
		} else {
			await runSql(
				kind,
				url,
				"create function refuse_updates() returns trigger language plpgsql as $f$ begin raise exception 'refused by the test'; end $f$",
			);
			await runSql(
				kind,
				url,
				"create trigger refuse_updates before update on refkit_conversion for each row execute function refuse_updates()",
			);
		}
		expect(await expectCode(refkit.eraseUser("bob"), "STORE_UNAVAILABLE")).toMatch(/refused by the test/);
		expect({ ...(await refkit.exportUser("bob")), exportedAt: before.exportedAt }).toEqual(before);
		expect(await allHits(refkit)).toEqual(hits);
		expect((await refkit.getLink("bob_link"))?.userId).toBe("bob");
	});

	test("bad user ids throw INVALID_ARGUMENT and erase nothing", async () => {
		const { refkit } = await seed();
		const before = await refkit.exportUser("bob");
		for (const userId of ["", "x".repeat(256), 42, null, undefined]) {
			expect(await expectCode(refkit.exportUser(userId as never), "INVALID_ARGUMENT")).toMatch(
				/^refkit: exportUser\(\) needs the user id as a non-empty string/,
			);
			expect(await expectCode(refkit.eraseUser(userId as never), "INVALID_ARGUMENT")).toMatch(
				/^refkit: eraseUser\(\) needs the user id as a non-empty string/,
			);
		}
		expect({ ...(await refkit.exportUser("bob")), exportedAt: before.exportedAt }).toEqual(before);
	});
});
