import { randomUUID } from "node:crypto";
import { describe, expect, test } from "vitest";
import type { ReferrerSummary, Refkit } from "../../src/index.js";
import { createTestRefkit, DATABASES, type DatabaseKind, freshDatabaseUrl } from "../setup/databases.js";
import { anonymousHitRow, insertRows, runSql, visit } from "../setup/direct.js";

/*
 * referrerSummary() reads the counts of stats()'s day summaries (not their sketches) and counts the rows after
 * them itself: what it answers must be what stats() answers, whether the summaries are there yet or not, and
 * after a write forgot some of them.
 */

const DAY = 24 * 60 * 60 * 1000;
const MINUTE = 60 * 1000;

/** `count` anonymous hits on `linkId`, `daysAgo` days before now and spread over the `minutes` before that. */
function hitsAt(kind: DatabaseKind, linkId: number, daysAgo: number, count: number, minutes = 300) {
	return Array.from({ length: count }, (_, i) =>
		anonymousHitRow(
			kind,
			linkId,
			`visitor${linkId}_${daysAgo}_${i}`,
			new Date(Date.now() - daysAgo * DAY - Math.floor((i * minutes * MINUTE) / count) - 1000).toISOString(),
		),
	);
}

/** The clicks of each day of `links`, as stats() of each link counts them. */
async function statsClicks(refkit: Refkit, links: string[], days: number, now?: Date) {
	const byDay = new Map<string, number>();
	for (const link of links) {
		for (const day of (await refkit.stats({ link, days, now })).daily)
			byDay.set(day.date, (byDay.get(day.date) ?? 0) + day.hits);
	}
	return [...byDay];
}

const clicksOf = (summary: ReferrerSummary) => summary.funnel.daily.map((day) => [day.date, day.clicks]);

describe.each(DATABASES)("referrerSummary() counts as stats() does on %s", (kind) => {
	test("each day's clicks: before the day summaries, from them, after a write forgot one, and for one link", async () => {
		const url = await freshDatabaseUrl(kind);
		const refkit = await createTestRefkit(kind, { database: url });
		const a = await refkit.createLink({ identifier: "ann_a", userId: "ann" });
		const b = await refkit.createLink({ identifier: "ann_b", userId: "ann" });
		const other = await refkit.createLink({ identifier: "bo_link", userId: "bo" });
		const rows = [];
		for (let daysAgo = 0; daysAgo < 9; daysAgo++) {
			rows.push(...hitsAt(kind, a.id, daysAgo, 3 + daysAgo), ...hitsAt(kind, other.id, daysAgo, 5));
			if (daysAgo % 2 === 0) rows.push(...hitsAt(kind, b.id, daysAgo, 2));
		}
		await insertRows(kind, url, "refkit_hit", rows);
		const links = ["ann_a", "ann_b"];

		// The first call makes the summaries; the next ones read them.
		const first = await refkit.referrerSummary("ann", { days: 7 });
		const expected = await statsClicks(refkit, links, 7);
		expect(clicksOf(first)).toEqual(expected);
		expect(first.funnel.totals.clicks).toBeGreaterThan(0);
		expect(clicksOf(await refkit.referrerSummary("ann", { days: 7 }))).toEqual(expected);
		const summaries = (await runSql(kind, url, "select count(*) as n from refkit_stats_day")) as {
			n: unknown;
		}[];
		expect(Number(summaries[0]?.n)).toBeGreaterThan(0);

		// A late hit three days ago forgets that day's summaries; a new one today is counted at once.
		await insertRows(kind, url, "refkit_hit", hitsAt(kind, b.id, 3, 4));
		await visit(refkit, "/ref/ann_a");
		const later = await refkit.referrerSummary("ann", { days: 7 });
		expect(clicksOf(later)).toEqual(await statsClicks(refkit, links, 7));
		expect(later.funnel.totals.clicks).toBe(first.funnel.totals.clicks + 5);

		// One link; a longer period than the summaries cover; and a period that ended in the past, mid-day.
		expect(clicksOf(await refkit.referrerSummary("ann", { days: 7, link: "ann_b" }))).toEqual(
			await statsClicks(refkit, ["ann_b"], 7),
		);
		expect(clicksOf(await refkit.referrerSummary("ann", { days: 30 }))).toEqual(
			await statsClicks(refkit, links, 30),
		);
		const past = new Date(Date.now() - 2 * DAY - 2 * 60 * MINUTE);
		expect(clicksOf(await refkit.referrerSummary("ann", { days: 5, now: past }))).toEqual(
			await statsClicks(refkit, links, 5, past),
		);
	});

	test("the leaderboard: stats()'s top referrers, before the summaries and from them", async () => {
		const url = await freshDatabaseUrl(kind);
		const refkit = await createTestRefkit(kind, { database: url });
		const rows = [];
		const conversions = [];
		// Twelve referrers, each with one link: more than the ten ranked, some tied on conversions.
		for (let r = 0; r < 12; r++) {
			const link = await refkit.createLink({ identifier: `link_${r}`, userId: `referrer${r}` });
			for (let daysAgo = 0; daysAgo < 5; daysAgo++) rows.push(...hitsAt(kind, link.id, daysAgo, (r * 7) % 5));
			for (let c = 0; c < r % 4; c++) {
				const at = new Date(Date.now() - (c % 3) * DAY - 5 * MINUTE).toISOString();
				conversions.push({
					id: randomUUID(),
					goal: "signup",
					referred_user_id: `referred${r}_${c}`,
					referrer_user_id: `referrer${r}`,
					link_id: link.id,
					created_at: at,
					updated_at: at,
					reversed_at: c === 2 ? at : null,
				});
			}
		}
		await refkit.createLink({ identifier: "campaign" });
		await insertRows(kind, url, "refkit_hit", rows);
		await insertRows(kind, url, "refkit_conversion", conversions);

		const ranked = async () =>
			(await refkit.stats({ days: 7 })).topReferrers.map((top) => [
				top.conversions,
				top.hits,
				top.userId === "referrer5",
			]);
		const board = (summary: ReferrerSummary) =>
			summary.leaderboard?.map((entry) => [entry.conversions, entry.clicks, entry.you]);
		const first = await refkit.referrerSummary("referrer5", { days: 7, leaderboard: true });
		const expected = await ranked();
		expect(expected).toHaveLength(10);
		expect(board(first)).toEqual(expected);
		expect(board(await refkit.referrerSummary("referrer5", { days: 7, leaderboard: true }))).toEqual(
			expected,
		);
		// A referrer without links sees it too.
		expect(board(await refkit.referrerSummary("nobody", { days: 7, leaderboard: true }))?.length).toBe(10);
	});
});
