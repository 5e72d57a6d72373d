import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import fc from "fast-check";
import pg from "pg";
import { afterEach, describe, expect, test, vi } from "vitest";
import type { Refkit, Stats } from "../src/index.js";
import { summaryTestHooks } from "../src/store/summaries.js";
import { createTestRefkit, DATABASES, type DatabaseKind, freshDatabaseUrl } from "./setup/databases.js";
import { anonymousHitRow, insertRows, runSql, visit, visitorCookie } from "./setup/direct.js";

/**
 * `stats()` reads past days from summaries it stores (migration 0004), which triggers forget when a day's
 * hits or conversions change. These tests hold the summaries to the hits: whatever happens to them, stats()
 * answers what it would answer from the hits alone.
 */

const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;

/** Noon UTC, `daysAgo` days before today; now itself for today. */
function dayTime(daysAgo: number): Date {
	if (daysAgo === 0) return new Date();
	const now = new Date();
	return new Date(
		Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()) - daysAgo * DAY + 12 * HOUR,
	);
}

/** What the period's hits say, counted by SQL from the hits themselves. */
async function countedBySql(kind: DatabaseKind, url: string, stats: Stats) {
	const [row] = (await runSql(
		kind,
		url,
		`select count(*) as hits, count(distinct user_id) as users,
			count(distinct case when user_id is null then visitor_id end) as anonymous
		from refkit_hit where created_at >= $1 and created_at <= $2`,
		[stats.from.toISOString(), stats.to.toISOString()],
	)) as { hits: number | string; users: number | string; anonymous: number | string }[];
	return {
		hits: Number(row?.hits),
		uniqueVisitors: Number(row?.users) + Number(row?.anonymous),
		claimedUsers: Number(row?.users),
	};
}

/** stats() of the last week, checked against the same stats() once every summary is dropped, and against SQL. */
async function expectTrueStats(kind: DatabaseKind, url: string, refkit: Refkit, days = 7): Promise<Stats> {
	const stats = await refkit.stats({ days });
	await runSql(kind, url, "delete from refkit_stats_day");
	expect(await runSql(kind, url, "select week from refkit_stats_week"), "weeks go with their days").toEqual(
		[],
	);
	expect(await refkit.stats({ days, now: stats.to }), "stats from the hits alone").toEqual(stats);
	expect(stats.totals).toMatchObject(await countedBySql(kind, url, stats));
	expect(stats.totals.estimated).toBe(false);
	return stats;
}

/** The clock of the property below: an afternoon, moved on by its `wait` steps. */
const AFTERNOON = Date.parse("2026-03-10T15:40:00.000Z");

/** A time `daysAgo` days before now at `minute` of that day (UTC), or now if that is later. */
function timeOf({ daysAgo, minute }: { daysAgo: number; minute: number }): Date {
	const now = Date.now();
	const time = now - (now % DAY) - daysAgo * DAY + minute * 60_000;
	return new Date(Math.min(time, now));
}

const timeArb = fc.record({ daysAgo: fc.nat({ max: 12 }), minute: fc.nat({ max: 24 * 60 - 1 }) });
const visitorArb = fc.nat({ max: 3 });
const userArb = fc.constantFrom("u0", "u1", "u2", "u3");
const opArb = fc.oneof(
	fc.record({
		op: fc.constant("visit" as const),
		link: fc.constantFrom("alice_link", "bob_link", "campaign"),
		visitor: visitorArb,
		user: fc.option(userArb, { nil: null }),
		time: timeArb,
	}),
	fc.record({ op: fc.constant("claim" as const), visitor: visitorArb, user: userArb }),
	fc.record({
		op: fc.constant("confirm" as const),
		user: userArb,
		goal: fc.constantFrom("signup", "purchase"),
		time: timeArb,
	}),
	fc.record({ op: fc.constant("reverse" as const) }),
	fc.record({ op: fc.constant("erase" as const), user: userArb }),
	fc.record({ op: fc.constant("stats" as const) }),
	fc.record({ op: fc.constant("wait" as const), minutes: fc.integer({ min: 1, max: 180 }) }),
);

afterEach(() => {
	vi.useRealTimers();
});

describe.each(DATABASES)("daily summaries on %s", (kind) => {
	test("stats() from daily and weekly summaries equals stats() from the hits, through visits, claims, conversions, reversals, erasures and time passing", async () => {
		await fc.assert(
			fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 14 }), async (ops) => {
				// Only Date is faked: the day under way is summarised up to its last whole hour, and `wait` moves on.
				vi.useFakeTimers({ toFake: ["Date"], now: AFTERNOON });
				const url = await freshDatabaseUrl(kind);
				const refkit = await createTestRefkit(kind, { database: url });
				try {
					await refkit.createLink({ identifier: "alice_link", userId: "alice" });
					await refkit.createLink({ identifier: "bob_link", userId: "bob" });
					await refkit.createLink({ identifier: "campaign" });
					const cookies: (string | undefined)[] = [];
					const conversions: string[] = [];
					let lastHit: string | null = null;
					refkit.on("hit", (hit) => {
						lastHit = hit.id;
					});
					for (const step of ops) {
						if (step.op === "visit") {
							lastHit = null;
							const outcome = await visit(refkit, `/ref/${step.link}`, {
								cookie: cookies[step.visitor],
								user: step.user,
							});
							if (outcome.setCookies.some((header) => header.startsWith("refkit_visitor="))) {
								cookies[step.visitor] = visitorCookie(outcome);
							}
							await sleep(0);
							const at = timeOf(step.time).toISOString();
							// Moved into the past as an UPDATE would: the trigger forgets both days.
							if (lastHit !== null) {
								await runSql(
									kind,
									url,
									"update refkit_hit set created_at = $1, updated_at = $2 where id = $3",
									[at, at, lastHit],
								);
							}
						} else if (step.op === "claim") {
							await refkit.claim(cookies[step.visitor]?.split("=")[1], step.user);
						} else if (step.op === "confirm") {
							const result = await refkit.confirm({
								userId: step.user,
								goal: step.goal,
								at: timeOf(step.time),
							});
							if (result.status === "converted") conversions.push(result.conversion.id);
						} else if (step.op === "reverse") {
							const id = conversions.pop();
							if (id !== undefined) await refkit.reverseConversion(id, { reason: "refund" });
						} else if (step.op === "erase") {
							await refkit.eraseUser(step.user);
						} else if (step.op === "wait") {
							vi.setSystemTime(Date.now() + step.minutes * 60_000);
						} else {
							await refkit.stats({ days: 14 });
						}
					}
					await expectTrueStats(kind, url, refkit, 14);
				} finally {
					await refkit.close();
					vi.useRealTimers();
				}
			}),
			{ numRuns: 12 },
		);
	});

	test("hits written into a summarised day by other code, and deleted links, are counted at once", async () => {
		const url = await freshDatabaseUrl(kind);
		const refkit = await createTestRefkit(kind, { database: url });
		try {
			const link = await refkit.createLink({ identifier: "alice_link", userId: "alice" });
			const other = await refkit.createLink({ identifier: "bob_link", userId: "bob" });
			const hit = (linkId: number, visitor: string, daysAgo: number) =>
				anonymousHitRow(kind, linkId, visitor, dayTime(daysAgo).toISOString());
			await insertRows(kind, url, "refkit_hit", [hit(link.id, "v1", 3), hit(other.id, "v2", 3)]);
			expect((await expectTrueStats(kind, url, refkit)).totals).toMatchObject({ hits: 2, uniqueVisitors: 2 });
			await refkit.stats({ days: 7 });
			const stored = await runSql(kind, url, "select count(*) as n from refkit_stats_day where link_id = 0");
			expect(Number((stored[0] as { n: unknown }).n), "a summary for each past day").toBeGreaterThanOrEqual(
				5,
			);

			await insertRows(kind, url, "refkit_hit", [hit(link.id, "v3", 3)]);
			let stats = await refkit.stats({ days: 7 });
			expect(stats.totals).toMatchObject({ hits: 3, uniqueVisitors: 3 });
			expect(stats.topReferrers).toEqual([
				{ userId: "alice", hits: 2, conversions: 0 },
				{ userId: "bob", hits: 1, conversions: 0 },
			]);

			await runSql(kind, url, "delete from refkit_link where id = $1", [other.id]);
			stats = await refkit.stats({ days: 7 });
			expect(stats.totals).toMatchObject({ hits: 2, uniqueVisitors: 2 });
			expect(stats.topReferrers).toEqual([{ userId: "alice", hits: 2, conversions: 0 }]);
			await expectTrueStats(kind, url, refkit);
		} finally {
			await refkit.close();
		}
	});

	test("a day is read a page at a time, rows of one time across pages counted once each", async () => {
		const url = await freshDatabaseUrl(kind);
		const refkit = await createTestRefkit(kind, { database: url });
		try {
			const link = await refkit.createLink({ identifier: "alice_link", userId: "alice" });
			// 12,000 hits at two times only: pages of 5,000 end in the middle of a time's hits.
			const times = [1, 2].map((daysAgo) => dayTime(daysAgo).toISOString());
			for (let batch = 0; batch < 12; batch++) {
				await insertRows(
					kind,
					url,
					"refkit_hit",
					Array.from({ length: 1000 }, (_, i) =>
						anonymousHitRow(kind, link.id, `v${(batch * 1000 + i) % 2000}`, times[batch % 2] as string),
					),
				);
			}
			expect((await expectTrueStats(kind, url, refkit)).totals).toMatchObject({ hits: 12_000 });
		} finally {
			await refkit.close();
		}
	});

	test("a day changed while it is read is not stored (the marker is gone), and is summarised again next time", async () => {
		const url = await freshDatabaseUrl(kind);
		const refkit = await createTestRefkit(kind, { database: url });
		try {
			const link = await refkit.createLink({ identifier: "alice_link", userId: "alice" });
			const at = dayTime(3);
			const day = at.toISOString().slice(0, 10);
			await insertRows(kind, url, "refkit_hit", [anonymousHitRow(kind, link.id, "v1", at.toISOString())]);
			const storedRows = async (where: string) =>
				Number(
					(
						(await runSql(kind, url, `select count(*) as n from refkit_stats_day where ${where}`))[0] as {
							n: unknown;
						}
					).n,
				);
			// Once the day's hits are read, before the summaries are stored: a claim of its hit, by other code.
			let claimed = false;
			summaryTestHooks.afterRead = async (summarised) => {
				if (summarised !== day || claimed) return;
				claimed = true;
				expect(await storedRows(`day = '${day}' and link_id < 0`), "the marker, while the day is read").toBe(
					1,
				);
				await runSql(kind, url, "update refkit_hit set user_id = 'u1', updated_at = created_at");
			};
			try {
				const raced = await refkit.stats({ days: 7 });
				expect(claimed).toBe(true);
				expect(raced.totals).toMatchObject({ hits: 1, claimedUsers: 0 });
			} finally {
				summaryTestHooks.afterRead = undefined;
			}
			expect(await storedRows(`day = '${day}'`), "nothing stored for the day read before the claim").toBe(0);
			expect(
				await storedRows("day <> '' and link_id = 0"),
				"the other days are stored",
			).toBeGreaterThanOrEqual(5);

			const stats = await refkit.stats({ days: 7 });
			expect(stats.totals).toMatchObject({ hits: 1, uniqueVisitors: 1, claimedUsers: 1 });
			expect(await storedRows(`day = '${day}' and link_id = 0`), "stored the next time").toBe(1);
			expect(await storedRows("link_id < 0"), "no marker is left").toBe(0);
			await expectTrueStats(kind, url, refkit);
		} finally {
			await refkit.close();
		}
	});

	test("the day under way is summarised up to its last whole hour; later hits leave that alone, earlier ones forget it", async () => {
		vi.useFakeTimers({ toFake: ["Date"], now: Date.parse("2026-03-10T18:30:00.000Z") });
		const url = await freshDatabaseUrl(kind);
		const refkit = await createTestRefkit(kind, { database: url });
		try {
			const link = await refkit.createLink({ identifier: "alice_link", userId: "alice" });
			const hitAt = (time: string, visitor: string) =>
				anonymousHitRow(kind, link.id, visitor, `2026-03-10T${time}:00.000Z`);
			const coveredUntil = async () => {
				const rows = (await runSql(
					kind,
					url,
					"select covered_until from refkit_stats_day where day = '2026-03-10' and link_id = 0",
				)) as { covered_until: string | Date }[];
				return rows.map((row) => new Date(row.covered_until).toISOString());
			};
			const hits = async () => (await refkit.stats({ days: 1 })).totals.hits;
			await insertRows(kind, url, "refkit_hit", [
				hitAt("02:00", "v1"),
				hitAt("09:00", "v2"),
				hitAt("18:25", "v3"),
			]);
			expect(await hits()).toBe(3);
			// 18:30 less the 10 minutes' delay, down to the hour.
			expect(await coveredUntil()).toEqual(["2026-03-10T18:00:00.000Z"]);

			await insertRows(kind, url, "refkit_hit", [hitAt("18:29", "v4")]);
			expect(await coveredUntil(), "a hit after 18:00 keeps the summary").toEqual([
				"2026-03-10T18:00:00.000Z",
			]);
			expect(await hits()).toBe(4);

			await insertRows(kind, url, "refkit_hit", [hitAt("17:00", "v5")]);
			expect(await coveredUntil(), "a hit before 18:00 forgets it").toEqual([]);
			expect(await hits()).toBe(5);
			expect(await coveredUntil()).toEqual(["2026-03-10T18:00:00.000Z"]);

			vi.setSystemTime(Date.parse("2026-03-10T20:15:00.000Z"));
			expect(await hits()).toBe(5);
			expect(await coveredUntil(), "two hours later, two hours more").toEqual(["2026-03-10T20:00:00.000Z"]);

			vi.setSystemTime(Date.parse("2026-03-11T00:15:00.000Z"));
			expect((await refkit.stats({ days: 2 })).totals.hits).toBe(5);
			expect(await coveredUntil(), "the whole day once it is over").toEqual(["2026-03-11T00:00:00.000Z"]);
			await expectTrueStats(kind, url, refkit);
		} finally {
			await refkit.close();
		}
	});

	test("top referrers are found among the owners of more links than one query's parameters hold", async () => {
		const url = await freshDatabaseUrl(kind);
		const refkit = await createTestRefkit(kind, { database: url });
		try {
			const created = new Date().toISOString();
			await insertRows(
				kind,
				url,
				"refkit_link",
				Array.from({ length: 1_500 }, (_, i) => ({
					identifier: `link${i}`,
					user_id: `o${i % 750}`,
					disabled: kind === "sqlite" ? 0 : false,
					created_at: created,
					updated_at: created,
				})),
			);
			const ids = (await runSql(kind, url, "select id from refkit_link order by id")) as { id: number }[];
			const at = dayTime(2).toISOString();
			// One hit per link, so two per owner; then three more on the last link and one on link 1400.
			const extra = [1_499, 1_499, 1_499, 1_400];
			await insertRows(
				kind,
				url,
				"refkit_hit",
				[...ids.map((_, i) => i), ...extra].map((i) =>
					anonymousHitRow(kind, (ids[i] as { id: number }).id, `v${i}`, at),
				),
			);
			const expected = [
				{ userId: "o749", hits: 5, conversions: 0 },
				{ userId: "o650", hits: 3, conversions: 0 },
				...["o0", "o1", "o10", "o100", "o101", "o102", "o103", "o104"].map((userId) => ({
					userId,
					hits: 2,
					conversions: 0,
				})),
			];
			for (let call = 0; call < 2; call++) {
				const stats = await refkit.stats({ days: 7 });
				expect(stats.totals.hits).toBe(1_504);
				expect(stats.topReferrers).toEqual(expected);
			}
		} finally {
			await refkit.close();
		}
	});

	test("a day of more than 2,048 visitors is estimated, within 3 %, and says so", async () => {
		const url = await freshDatabaseUrl(kind);
		const refkit = await createTestRefkit(kind, { database: url });
		try {
			const link = await refkit.createLink({ identifier: "viral", userId: "alice" });
			const at = dayTime(2).toISOString();
			const rows = Array.from({ length: 3_000 }, (_, i) =>
				anonymousHitRow(kind, link.id, `visitor${i % 2_900}`, at),
			);
			await insertRows(kind, url, "refkit_hit", rows);
			for (const stats of [await refkit.stats({ days: 7 }), await refkit.stats({ link: "viral", days: 7 })]) {
				expect(stats.totals.hits).toBe(3_000);
				expect(stats.totals.estimated).toBe(true);
				expect(Math.abs(stats.totals.uniqueVisitors - 2_900) / 2_900).toBeLessThan(0.03);
			}
			// A period without that day is exact again.
			expect((await refkit.stats({ days: 2 })).totals).toMatchObject({ hits: 0, estimated: false });
		} finally {
			await refkit.close();
		}
	});
});

describe.runIf(DATABASES.includes("postgres"))("daily summaries on postgres, concurrently", () => {
	/**
	 * A refkit on a new database with a link, and `race(at, work)`: inserts a hit of that link at `at` in a
	 * transaction of another connection, starts `work`, and commits the hit while `work` is under way.
	 */
	async function withLateHit(
		test: (
			refkit: Refkit,
			race: (at: Date, work: () => Promise<Stats>) => Promise<Stats>,
			url: string,
		) => Promise<void>,
	) {
		const url = await freshDatabaseUrl("postgres");
		const refkit = await createTestRefkit("postgres", { database: url });
		const client = new pg.Client({ connectionString: url });
		await client.connect();
		try {
			const link = await refkit.createLink({ identifier: "alice_link", userId: "alice" });
			const race = async (at: Date, work: () => Promise<Stats>) => {
				await client.query("begin");
				await client.query(
					"insert into refkit_hit (id, link_id, authenticated, visitor_id, created_at, updated_at) values ($1, $2, false, 'late', $3, $3)",
					[randomUUID(), link.id, at.toISOString()],
				);
				const pending = work();
				await sleep(300);
				await client.query("commit");
				return pending;
			};
			await test(refkit, race, url);
		} finally {
			await client.end();
			await refkit.close();
		}
	}

	test("a hit committed while its day is being summarised is in the summary (PostgreSQL's advisory lock)", async () => {
		await withLateHit(async (refkit, race) => {
			// The day is summarised while the insert is not committed yet: the summary must wait for it.
			expect((await race(dayTime(3), () => refkit.stats({ days: 7 }))).totals.hits).toBe(1);
			expect((await refkit.stats({ days: 7 })).totals.hits).toBe(1);
		});
	});

	test("a hit committed while its week is being summarised forgets the week (the week takes its days' locks)", async () => {
		await withLateHit(async (refkit, race, url) => {
			// Thursday noon of the last whole week (Monday to Sunday) before today.
			const sinceMonday = (new Date().getUTCDay() + 6) % 7;
			expect((await refkit.stats({ days: 14 })).totals.hits).toBe(0);
			await runSql("postgres", url, "delete from refkit_stats_week");
			// stats() reads the day's summary of before the insert, then waits to summarise the week.
			await race(dayTime(sinceMonday + 7 - 3), () => refkit.stats({ days: 14 }));
			expect((await refkit.stats({ days: 14 })).totals.hits).toBe(1);
			expect((await refkit.stats({ days: 14 })).totals.hits).toBe(1);
		});
	});
});
