import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, test } from "vitest";
import { type Conversion, type HitWithLink, isRefkitError, type Refkit } from "../src/index.js";
import { createTestRefkit, DATABASES, freshDatabaseUrl } from "./setup/databases.js";
import { expectCode, insertRows, visit, visitorCookie } from "./setup/direct.js";
import { BROWSER_AGENT } from "./setup/http.js";

const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;

/** 00:00 UTC of the day of `date`. */
function startOfDay(date: Date): Date {
	return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
}

/** `days` days and `hours` hours after `day`. */
function at(day: Date, days: number, hours = 0): Date {
	return new Date(day.getTime() + days * DAY + hours * HOUR);
}

function dateOf(date: Date): string {
	return date.toISOString().slice(0, 10);
}

/** Confirms `goal` for `userId` at `when`, expecting a conversion. */
async function convert(refkit: Refkit, userId: string, goal: string, when: Date): Promise<Conversion> {
	const result = await refkit.confirm({ userId, goal, at: when });
	if (result.status !== "converted") throw new Error(`expected converted, got ${result.status}`);
	return result.conversion;
}

/**
 * A week of activity around today (D), the day the links are followed (hits made through `visit()` get the
 * current time); earlier and later days come from typed codes and conversions, which take a time:
 * - D: an anonymous visitor follows alice_link twice; dave, logged in, follows it twice; another anonymous
 *   visitor follows bob_link and signs up as erin; gina, logged in, follows nobody_link (a link of nobody's);
 * - D-2: frank types carol_link's code; D-1: frank signs up;
 * - D+1: dave signs up and buys, gina signs up; D+2: erin signs up, and that conversion is reversed.
 */
async function seedWeek(refkit: Refkit): Promise<Date> {
	for (const [identifier, userId] of [
		["alice_link", "alice"],
		["bob_link", "bob"],
		["carol_link", "carol"],
		["nobody_link", null],
	] as const) {
		await refkit.createLink({ identifier, userId });
	}
	const anonymous = visitorCookie(await visit(refkit, "/ref/alice_link"));
	await visit(refkit, "/ref/alice_link", { cookie: anonymous });
	await visit(refkit, "/ref/alice_link", { user: "dave" });
	await visit(refkit, "/ref/alice_link", { user: "dave" });
	const erin = visitorCookie(await visit(refkit, "/ref/bob_link"));
	expect(await refkit.claim(erin.split("=")[1], "erin")).toBe(1);
	await visit(refkit, "/ref/nobody_link", { user: "gina" });
	const hits = await refkit.listHits();
	const today = startOfDay(hits[0]?.createdAt as Date);
	expect(hits.map((hit) => dateOf(hit.createdAt))).toEqual(Array(6).fill(dateOf(today)));

	const codeAt = at(today, -2, 12);
	expect((await refkit.applyCode("frank", "carol_link", { signedUpAt: codeAt, at: codeAt })).status).toBe(
		"applied",
	);
	await convert(refkit, "frank", "signup", at(today, -1, 12));
	await convert(refkit, "dave", "signup", at(today, 1, 12));
	await convert(refkit, "dave", "purchase", at(today, 1, 13));
	expect((await convert(refkit, "gina", "signup", at(today, 1, 14))).referrerUserId).toBeNull();
	const refunded = await convert(refkit, "erin", "signup", at(today, 2, 12));
	await refkit.reverseConversion(refunded.id, { reason: "fraud", at: at(today, 2, 13) });
	return today;
}

describe.each(DATABASES)("stats on %s", (kind) => {
	test("totals, every day of the period and the top referrers, over all links", async () => {
		const refkit = await createTestRefkit(kind);
		const today = await seedWeek(refkit);
		const now = at(today, 3, 18);

		const stats = await refkit.stats({ days: 7, now });
		expect(stats.from).toEqual(at(today, -3));
		expect(stats.to).toEqual(now);
		expect(stats.link).toBeNull();
		expect(stats.totals).toEqual({
			links: 4,
			hits: 7,
			// The anonymous visitor (2 hits), dave (2), erin (claimed), gina and frank (typed a code).
			uniqueVisitors: 5,
			claimedUsers: 4,
			estimated: false,
			conversions: 4,
			conversionsByGoal: { signup: 3, purchase: 1 },
			reversed: 1,
			// dave, frank and gina converted (erin's was reversed), out of 5 visitors.
			conversionRate: 0.6,
		});
		expect(stats.daily).toEqual([
			{ date: dateOf(at(today, -3)), hits: 0, conversions: 0 },
			{ date: dateOf(at(today, -2)), hits: 1, conversions: 0 },
			{ date: dateOf(at(today, -1)), hits: 0, conversions: 1 },
			{ date: dateOf(today), hits: 6, conversions: 0 },
			{ date: dateOf(at(today, 1)), hits: 0, conversions: 3 },
			// A reversed conversion still happened that day.
			{ date: dateOf(at(today, 2)), hits: 0, conversions: 1 },
			{ date: dateOf(at(today, 3)), hits: 0, conversions: 0 },
		]);
		// bob's only conversion was reversed; nobody_link has no owner to rank.
		expect(stats.topReferrers).toEqual([
			{ userId: "alice", hits: 4, conversions: 2 },
			{ userId: "carol", hits: 1, conversions: 1 },
			{ userId: "bob", hits: 1, conversions: 0 },
		]);
	});

	test("a shorter period leaves out what came before its first day and after now", async () => {
		const refkit = await createTestRefkit(kind);
		const today = await seedWeek(refkit);

		const stats = await refkit.stats({ days: 2, now: at(today, 1, 18) });
		expect(stats.from).toEqual(today);
		expect(stats.totals).toEqual({
			links: 4,
			hits: 6,
			uniqueVisitors: 4,
			claimedUsers: 3,
			estimated: false,
			conversions: 3,
			conversionsByGoal: { signup: 2, purchase: 1 },
			reversed: 0,
			conversionRate: 0.5,
		});
		expect(stats.daily).toEqual([
			{ date: dateOf(today), hits: 6, conversions: 0 },
			{ date: dateOf(at(today, 1)), hits: 0, conversions: 3 },
		]);
		// carol had neither hits nor conversions in the period.
		expect(stats.topReferrers).toEqual([
			{ userId: "alice", hits: 4, conversions: 2 },
			{ userId: "bob", hits: 1, conversions: 0 },
		]);

		// The period ends at now, included: frank's code was typed at noon.
		const noon = at(today, -2, 12);
		expect((await refkit.stats({ days: 1, now: noon })).totals.hits).toBe(1);
		expect((await refkit.stats({ days: 1, now: new Date(noon.getTime() - 1) })).totals.hits).toBe(0);
	});

	test("one link's stats count only that link, and rank no referrers", async () => {
		const refkit = await createTestRefkit(kind);
		const today = await seedWeek(refkit);
		const now = at(today, 3, 18);

		const alice = await refkit.stats({ link: "alice_link", days: 7, now });
		expect(alice.link).toBe("alice_link");
		expect(alice.totals).toEqual({
			links: 1,
			hits: 4,
			uniqueVisitors: 2,
			claimedUsers: 1,
			estimated: false,
			conversions: 2,
			conversionsByGoal: { signup: 1, purchase: 1 },
			reversed: 0,
			conversionRate: 0.5,
		});
		expect(alice.daily.map((day) => [day.hits, day.conversions])).toEqual([
			[0, 0],
			[0, 0],
			[0, 0],
			[4, 0],
			[0, 2],
			[0, 0],
			[0, 0],
		]);
		expect(alice.topReferrers).toEqual([]);

		const bob = await refkit.stats({ link: "bob_link", days: 7, now });
		expect(bob.totals).toEqual({
			links: 1,
			hits: 1,
			uniqueVisitors: 1,
			claimedUsers: 1,
			estimated: false,
			conversions: 0,
			conversionsByGoal: {},
			reversed: 1,
			conversionRate: 0,
		});
	});

	test("top referrers: at most ten, by conversions, then hits, then user id; reversed ones do not count", async () => {
		const refkit = await createTestRefkit(kind);
		// zed: 1 conversion, 3 hits; amy: 1 conversion, 1 hit.
		await refkit.createLink({ identifier: "zed_link", userId: "zed" });
		const cookie = visitorCookie(await visit(refkit, "/ref/zed_link"));
		await visit(refkit, "/ref/zed_link", { cookie });
		await visit(refkit, "/ref/zed_link", { user: "u_zed" });
		await refkit.createLink({ identifier: "amy_link", userId: "amy" });
		await visit(refkit, "/ref/amy_link", { user: "u_amy" });
		// Ten more referrers with one hit each, ranked by user id in byte order (upper case first).
		const others = ["bea", "Bea", "ann", "c1", "c2", "c3", "c4", "c5", "c6", "c7"];
		for (const userId of others) {
			await refkit.createLink({ identifier: `${userId}_link`, userId });
			await visit(refkit, `/ref/${userId}_link`, { user: `u_${userId}` });
		}
		// c7's conversion is reversed: counted, it would rank c7 third.
		const reversed = await convert(refkit, "u_c7", "signup", new Date());
		await refkit.reverseConversion(reversed.id, { reason: "refund" });
		await convert(refkit, "u_zed", "signup", new Date());
		await convert(refkit, "u_amy", "signup", new Date());
		// A link of nobody's, however busy, ranks nobody.
		await refkit.createLink({ identifier: "campaign" });
		for (let i = 0; i < 5; i++) await visit(refkit, "/ref/campaign", { user: `reader${i}` });

		const stats = await refkit.stats();
		expect(stats.daily).toHaveLength(30);
		expect(stats.daily.at(-1)?.date).toBe(dateOf(new Date()));
		expect(stats.topReferrers).toEqual([
			{ userId: "zed", hits: 3, conversions: 1 },
			{ userId: "amy", hits: 1, conversions: 1 },
			...["Bea", "ann", "bea", "c1", "c2", "c3", "c4", "c5"].map((userId) => ({
				userId,
				hits: 1,
				conversions: 0,
			})),
		]);
	});

	test("hits and conversions long before the period are left out", async () => {
		const refkit = await createTestRefkit(kind);
		await refkit.createLink({ identifier: "alice_link", userId: "alice" });
		const longAgo = new Date(Date.now() - 400 * DAY);
		await refkit.applyCode("olga", "alice_link", { signedUpAt: longAgo, at: longAgo });
		await convert(refkit, "olga", "signup", new Date(longAgo.getTime() + HOUR));
		await visit(refkit, "/ref/alice_link", { user: "pia" });
		const now = new Date();

		// A period that is a small share of the time the hits span, and one that is most of it.
		for (const days of [30, 366]) {
			const stats = await refkit.stats({ days, now });
			expect(stats.totals).toMatchObject({ hits: 1, uniqueVisitors: 1, claimedUsers: 1, conversions: 0 });
			expect(stats.daily.reduce((sum, day) => sum + day.hits, 0)).toBe(1);
			expect(stats.topReferrers).toEqual([{ userId: "alice", hits: 1, conversions: 0 }]);
		}
		const all = await refkit.stats({ days: 366, now: new Date(longAgo.getTime() + DAY) });
		expect(all.totals).toMatchObject({ hits: 1, conversions: 1, conversionRate: 1 });
	});

	test("an empty period: every day present with zeros, from midnight UTC", async () => {
		const refkit = await createTestRefkit(kind);
		const now = new Date("2030-01-02T05:00:00.000Z");
		const stats = await refkit.stats({ days: 3, now });
		expect(stats).toEqual({
			from: new Date("2029-12-31T00:00:00.000Z"),
			to: now,
			link: null,
			totals: {
				links: 0,
				hits: 0,
				uniqueVisitors: 0,
				claimedUsers: 0,
				estimated: false,
				conversions: 0,
				conversionsByGoal: {},
				reversed: 0,
				conversionRate: 0,
			},
			daily: ["2029-12-31", "2030-01-01", "2030-01-02"].map((date) => ({ date, hits: 0, conversions: 0 })),
			topReferrers: [],
		});
		expect((await refkit.stats({ days: 1, now })).daily).toEqual([
			{ date: "2030-01-02", hits: 0, conversions: 0 },
		]);
		const year = await refkit.stats({ days: 366, now });
		expect(year.daily).toHaveLength(366);
		expect(year.from).toEqual(new Date("2029-01-02T00:00:00.000Z"));
	});

	test("bad arguments: days, now, link", async () => {
		const refkit = await createTestRefkit(kind);
		await refkit.createLink({ identifier: "alice_link", userId: "alice" });
		for (const days of [0, 367, 1.5, "7", Number.NaN]) {
			expect(await expectCode(refkit.stats({ days: days as number }), "INVALID_ARGUMENT")).toMatch(
				/^refkit: stats\(\)'s days must be a whole number from 1 to 366/,
			);
		}
		for (const now of ["2030-01-01", Date.now(), new Date(Number.NaN)]) {
			expect(await expectCode(refkit.stats({ now: now as Date }), "INVALID_ARGUMENT")).toMatch(
				/now must be a valid Date/,
			);
		}
		expect(await expectCode(refkit.stats("week" as never), "INVALID_ARGUMENT")).toMatch(/takes an object/);
		expect(await expectCode(refkit.stats({ link: "missing" }), "LINK_NOT_FOUND")).toMatch(
			/no link has the identifier "missing"/,
		);
		await expectCode(refkit.stats({ link: "not a link!" }), "INVALID_IDENTIFIER");
	});
});

/** One request to `/ref/<identifier>` with the headers given, as an adapter makes it. */
function follow(
	refkit: Refkit,
	identifier: string,
	init: { user?: string; userAgent?: string; referer?: string } = {},
) {
	const headers: Record<string, string | undefined> = {
		"user-agent": init.userAgent ?? BROWSER_AGENT,
		referer: init.referer,
	};
	return refkit.handle({
		method: "GET",
		url: `/ref/${identifier}`,
		header: (name) => headers[name],
		remoteAddress: "127.0.0.1",
		getUserId: () => init.user ?? null,
	});
}

describe.each(DATABASES)("list filters on %s", (kind) => {
	test("listLinks({ search }): identifier or user id, ignoring case, with % _ and \\ as plain text", async () => {
		const refkit = await createTestRefkit(kind);
		await refkit.createLink({ identifier: "Spring_Sale", userId: "Alice" });
		await refkit.createLink({ identifier: "summer", userId: "bob" });
		await refkit.createLink({ identifier: "aXb", userId: "100%" });
		await refkit.createLink({ identifier: "a_b", userId: "back\\slash" });
		const found = async (search: string, userId?: string) =>
			(await refkit.listLinks({ search, userId })).map((link) => link.identifier).sort();

		expect(await found("SALE")).toEqual(["Spring_Sale"]);
		expect(await found("alice")).toEqual(["Spring_Sale"]);
		expect(await found("_")).toEqual(["Spring_Sale", "a_b"]);
		expect(await found("a_b")).toEqual(["a_b"]);
		expect(await found("%")).toEqual(["aXb"]);
		expect(await found("\\")).toEqual(["a_b"]);
		expect(await found("")).toEqual(["Spring_Sale", "aXb", "a_b", "summer"]);
		expect(await found("nothing")).toEqual([]);
		expect(await found("s", "bob")).toEqual(["summer"]);

		await expectCode(refkit.listLinks({ search: 42 as never }), "INVALID_ARGUMENT");
		expect(await expectCode(refkit.listLinks({ search: "x".repeat(201) }), "INVALID_ARGUMENT")).toMatch(
			/search must be a string of at most 200 characters/,
		);
		await expectCode(refkit.listLinks({ disabled: "no" as never }), "INVALID_ARGUMENT");
	});

	test("listHits({ authenticated, from, to, search })", async () => {
		const refkit = await createTestRefkit(kind);
		await refkit.createLink({ identifier: "alpha", userId: "olive" });
		await refkit.createLink({ identifier: "beta", userId: "pat" });
		await follow(refkit, "alpha", {
			userAgent: `${BROWSER_AGENT} Zeta/1.0`,
			referer: "https://Example.com/?q=100%25",
		});
		await sleep(5); // so that the two hits are a few milliseconds apart, and listed in a known order
		await follow(refkit, "beta", { user: "quinn" });
		const base = new Date(Date.now() + 10 * DAY);
		const [t1, t2, t3] = [0, 1, 2].map((hours) => at(base, 0, hours)) as [Date, Date, Date];
		for (const [userId, code, when] of [
			["rita", "alpha", t1],
			["sam", "beta", t2],
			["tess", "beta", t3],
		] as const) {
			await refkit.applyCode(userId, code, { signedUpAt: when, at: when });
		}
		const anonymous = (await refkit.listHits({ authenticated: false }))[0] as HitWithLink;
		const users = async (filters: Parameters<Refkit["listHits"]>[0]) =>
			(await refkit.listHits(filters)).map((hit) => hit.userId ?? "anonymous");

		expect(await users({ authenticated: true })).toEqual(["tess", "sam", "rita", "quinn"]);
		expect(await users({ authenticated: false })).toEqual(["anonymous"]);
		expect(await users({ from: t2 })).toEqual(["tess", "sam"]);
		expect(await users({ from: t1, to: t3 })).toEqual(["sam", "rita"]);
		expect(await users({ to: t1 })).toEqual(["quinn", "anonymous"]);
		expect(await users({ from: t2, to: t2 })).toEqual([]);

		expect(await users({ search: "zeta" })).toEqual(["anonymous"]); // User-Agent
		expect(await users({ search: "example.COM" })).toEqual(["anonymous"]); // Referer
		expect(await users({ search: "%" })).toEqual(["anonymous"]); // the Referer's "%25"
		expect(await users({ search: anonymous.visitorId?.toUpperCase() })).toEqual(["anonymous"]);
		expect(await users({ search: "QUINN" })).toEqual(["quinn"]); // user id
		expect(await users({ search: "127.0.0" })).toEqual(["quinn", "anonymous"]); // IP
		expect(await users({ search: "BETA" })).toEqual(["tess", "sam", "quinn"]); // link identifier
		expect(await users({ search: "tess", link: "beta", authenticated: true, from: t1 })).toEqual(["tess"]);

		expect(await expectCode(refkit.listHits({ authenticated: "yes" as never }), "INVALID_ARGUMENT")).toMatch(
			/authenticated must be true or false/,
		);
		expect(await expectCode(refkit.listHits({ from: "2030-01-01" as never }), "INVALID_ARGUMENT")).toMatch(
			/from must be a valid Date/,
		);
		expect(await expectCode(refkit.listHits({ from: t3, to: t1 }), "INVALID_ARGUMENT")).toMatch(
			/from \(.*\) must not be after to/,
		);
		await expectCode(refkit.listHits({ search: 5 as never }), "INVALID_ARGUMENT");
	});

	test("listConversions({ status, link, from, to })", async () => {
		const refkit = await createTestRefkit(kind);
		await refkit.createLink({ identifier: "alpha", userId: "olive" });
		await refkit.createLink({ identifier: "beta", userId: "pat" });
		await visit(refkit, "/ref/alpha", { user: "u1" });
		await visit(refkit, "/ref/beta", { user: "u2" });
		await visit(refkit, "/ref/beta", { user: "u3" });
		const base = new Date(Date.now() + DAY);
		const [t1, t2, t3] = [0, 1, 2].map((hours) => at(base, 0, hours)) as [Date, Date, Date];
		await convert(refkit, "u1", "signup", t1);
		const second = await convert(refkit, "u2", "signup", t2);
		await convert(refkit, "u3", "signup", t3);
		await refkit.reverseConversion(second.id, { reason: "refund" });
		const users = async (filters: Parameters<Refkit["listConversions"]>[0]) =>
			(await refkit.listConversions(filters)).map((conversion) => conversion.referredUserId);

		expect(await users({ status: "active" })).toEqual(["u3", "u1"]);
		expect(await users({ status: "reversed" })).toEqual(["u2"]);
		expect(await users({ link: "beta" })).toEqual(["u3", "u2"]);
		expect(await users({ link: "alpha" })).toEqual(["u1"]);
		expect(await users({ link: "gamma" })).toEqual([]);
		expect(await users({ from: t2 })).toEqual(["u3", "u2"]);
		expect(await users({ to: t3 })).toEqual(["u2", "u1"]);
		expect(await users({ from: t2, to: t3 })).toEqual(["u2"]);
		expect(await users({ link: "beta", status: "active", goal: "signup" })).toEqual(["u3"]);

		expect(
			await expectCode(refkit.listConversions({ status: "pending" as never }), "INVALID_ARGUMENT"),
		).toMatch(/status must be "active" or "reversed"/);
		await expectCode(refkit.listConversions({ link: "not a link" }), "INVALID_IDENTIFIER");
		await expectCode(refkit.listConversions({ to: new Date(Number.NaN) }), "INVALID_ARGUMENT");
	});
});

/** Newest first, as refkit lists and exports: by time, then by id, both descending. */
function newestFirst<T extends { createdAt: Date; id: string }>(rows: T[]): T[] {
	return [...rows].sort(
		(a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0),
	);
}

async function collect<T>(rows: AsyncIterable<T>): Promise<T[]> {
	const all: T[] = [];
	for await (const row of rows) all.push(row);
	return all;
}

/** More than two batches of an export (500 rows each), seven per time so that a batch ends inside a tie. */
const MANY = 1234;

describe.each(DATABASES)("exports on %s", (kind) => {
	test("exportHits() yields every hit exactly once, newest first, across batches", async () => {
		const url = await freshDatabaseUrl(kind);
		const refkit = await createTestRefkit(kind, { database: url });
		const link = await refkit.createLink({ identifier: "busy", userId: "owner" });
		const base = Date.now() - DAY;
		const seeded = Array.from({ length: MANY }, (_, i) => {
			const createdAt = new Date(base - Math.floor(i / 7) * 1000).toISOString();
			return {
				id: randomUUID(),
				link_id: link.id,
				authenticated: i % 3 === 0,
				user_id: i % 3 === 0 ? `user${i}` : null,
				visitor_id: i % 3 === 0 ? null : `visitor${i}`,
				created_at: createdAt,
				updated_at: createdAt,
			};
		});
		await insertRows(
			kind,
			url,
			"refkit_hit",
			seeded.map((row) => ({
				...row,
				authenticated: kind === "sqlite" ? Number(row.authenticated) : row.authenticated,
			})),
		);
		const expected = newestFirst(seeded.map((row) => ({ id: row.id, createdAt: new Date(row.created_at) })));

		const exported = await collect(refkit.exportHits());
		expect(exported.map((hit) => hit.id)).toEqual(expected.map((hit) => hit.id));
		expect(new Set(exported.map((hit) => hit.id)).size).toBe(MANY);
		expect(exported[0]).toMatchObject({ identifier: "busy", linkId: link.id });
		// The same order as listHits(), page after page.
		const pages = [
			...(await refkit.listHits({ limit: 1000 })),
			...(await refkit.listHits({ limit: 1000, offset: 1000 })),
		];
		expect(pages.map((hit) => hit.id)).toEqual(exported.map((hit) => hit.id));

		// A hit recorded during an export is newer than where it stands: nothing repeats, nothing is skipped.
		const during: string[] = [];
		for await (const hit of refkit.exportHits({ link: "busy" })) {
			if (during.length === 1) await visit(refkit, "/ref/busy");
			during.push(hit.id);
		}
		expect(during).toEqual(expected.map((hit) => hit.id));

		// The filters of listHits().
		const from = new Date(base - 100_000);
		const to = new Date(base - 20_000);
		const filtered = await collect(refkit.exportHits({ authenticated: true, from, to, search: "USER" }));
		expect(filtered.length).toBeGreaterThan(0);
		expect(filtered).toEqual(
			await refkit.listHits({ authenticated: true, from, to, search: "USER", limit: 1000 }),
		);
		expect(filtered.every((hit) => hit.authenticated && hit.createdAt >= from && hit.createdAt < to)).toBe(
			true,
		);

		// Stopping early is fine.
		for await (const hit of refkit.exportHits()) {
			expect(hit.identifier).toBe("busy");
			break;
		}
	});

	test("exportConversions() yields every conversion exactly once, newest first, with listConversions' filters", async () => {
		const url = await freshDatabaseUrl(kind);
		const refkit = await createTestRefkit(kind, { database: url });
		const base = Date.now() - DAY;
		const seeded = Array.from({ length: MANY }, (_, i) => {
			const createdAt = new Date(base - Math.floor(i / 7) * 1000).toISOString();
			return {
				id: randomUUID(),
				goal: i % 2 === 0 ? "signup" : "purchase",
				referred_user_id: `user${i}`,
				referrer_user_id: "owner",
				created_at: createdAt,
				updated_at: createdAt,
				reversed_at: i % 10 === 0 ? createdAt : null,
			};
		});
		await insertRows(kind, url, "refkit_conversion", seeded);
		const expected = newestFirst(seeded.map((row) => ({ ...row, createdAt: new Date(row.created_at) })));

		const exported = await collect(refkit.exportConversions());
		expect(exported.map((conversion) => conversion.id)).toEqual(expected.map((row) => row.id));

		const reversedPurchases = await collect(
			refkit.exportConversions({ goal: "purchase", status: "reversed" }),
		);
		expect(reversedPurchases.map((conversion) => conversion.id)).toEqual(
			expected.filter((row) => row.goal === "purchase" && row.reversed_at !== null).map((row) => row.id),
		);
		const from = new Date(base - 50_000);
		expect(await collect(refkit.exportConversions({ from, referrerUserId: "owner" }))).toEqual(
			await refkit.listConversions({ from, limit: 1000 }),
		);
	});

	test("exports check their filters when called, before any iteration", async () => {
		const refkit = await createTestRefkit(kind);
		const refused = (call: () => unknown) => {
			try {
				call();
			} catch (error) {
				if (isRefkitError(error)) return error.code;
				throw error;
			}
			return "accepted";
		};
		expect(refused(() => refkit.exportHits({ from: "yesterday" as never }))).toBe("INVALID_ARGUMENT");
		expect(refused(() => refkit.exportHits({ authenticated: 1 as never }))).toBe("INVALID_ARGUMENT");
		expect(refused(() => refkit.exportHits({ link: "no such link!" }))).toBe("INVALID_IDENTIFIER");
		expect(refused(() => refkit.exportHits("all" as never))).toBe("INVALID_ARGUMENT");
		expect(refused(() => refkit.exportConversions({ status: "gone" as never }))).toBe("INVALID_ARGUMENT");
		expect(refused(() => refkit.exportConversions({ from: new Date(2), to: new Date(1) }))).toBe(
			"INVALID_ARGUMENT",
		);
		expect(refused(() => refkit.exportConversions({ link: "unknown" }))).toBe("accepted");
		expect(await collect(refkit.exportConversions({ link: "unknown" }))).toEqual([]);
	});
});
