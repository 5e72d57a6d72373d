import type { StoreContext } from "./context.js";
import { money } from "./ledger-rows.js";
import { decodeLinkHits, fromDbTime, toDbTime } from "./rows.js";
import type { ReferrerStore } from "./store.js";

/**
 * What one referrer's page reads beyond the other roles' listings, grouped by the database so that a referrer
 * with thousands of hits, conversions and commissions costs a few rows: the counts of `stats()`'s day summaries
 * without their sketches, the hits after them by day (and, for the leaderboard, by link), their conversions by
 * day and goal, and their pending commissions by the day they become payable.
 */
export function referrerStore(ctx: StoreContext): ReferrerStore {
	const { db, dialect } = ctx;
	return {
		summaryCounts: (query) =>
			ctx.run("read a referrer's summarised clicks", async () => {
				// The key (link_id, day): one range per link. Never a sketch, nor a marker (a negative link id).
				const rows = await db
					.selectFrom("refkit_stats_day")
					.select(["day", "link_id", "hits", "covered_until"])
					.$if(query.everyLink, (select) => select.select(["link_hits", "referrers"]))
					.where("link_id", "in", [0, ...query.linkIds])
					.where("day", ">=", query.firstDay)
					.where("day", "<=", query.lastDay)
					.execute();
				return rows.map((row) => ({
					day: row.day,
					linkId: row.link_id,
					hits: Number(row.hits),
					until: fromDbTime(row.covered_until),
					linkHits: row.link_hits ? decodeLinkHits(row.link_hits) : null,
					referrers: row.referrers ? (JSON.parse(row.referrers) as Record<string, number>) : null,
				}));
			}),

		linkHitDays: (query) =>
			ctx.run("count a referrer's clicks", async () => {
				if (query.linkIds.length === 0) return [];
				const day = dialect.utcDay("created_at");
				// refkit_hit_link_created: (link_id, created_at), one range per link.
				const rows = await db
					.selectFrom("refkit_hit")
					.select(day.as("day"))
					.select((eb) => eb.fn.countAll<string | number>().as("hits"))
					.where(dialect.isAnyOf("link_id", query.linkIds))
					.where("created_at", ">=", toDbTime(query.from))
					.where("created_at", "<=", toDbTime(query.to))
					.groupBy(day)
					.execute();
				return rows.map((row) => ({ day: row.day, hits: Number(row.hits) }));
			}),

		leaderCounts: (query) =>
			ctx.run("count the leaderboard's latest rows", async () => {
				// refkit_hit_created and refkit_conversion_created: (created_at, id).
				const [hits, conversions] = await Promise.all([
					db
						.selectFrom("refkit_hit")
						.select("link_id")
						.select((eb) => eb.fn.countAll<string | number>().as("n"))
						.where("created_at", ">=", toDbTime(query.from))
						.where("created_at", "<=", toDbTime(query.to))
						.groupBy("link_id")
						.execute(),
					db
						.selectFrom("refkit_conversion")
						.select("referrer_user_id")
						.select((eb) => eb.fn.countAll<string | number>().as("n"))
						.where("created_at", ">=", toDbTime(query.from))
						.where("created_at", "<=", toDbTime(query.to))
						.where("reversed_at", "is", null)
						.where("referrer_user_id", "is not", null)
						.groupBy("referrer_user_id")
						.execute(),
				]);
				return {
					linkHits: new Map(hits.map((row) => [row.link_id, Number(row.n)])),
					referrers: new Map(conversions.map((row) => [row.referrer_user_id as string, Number(row.n)])),
				};
			}),

		referrerConversionDays: (query) =>
			ctx.run("count a referrer's conversions", async () => {
				const day = dialect.utcDay("created_at");
				let select = db
					.selectFrom("refkit_conversion")
					.select([day.as("day"), "goal"])
					.select((eb) => eb.fn.countAll<string | number>().as("total"))
					.select((eb) => eb.fn.count<string | number>("reversed_at").as("reversed"))
					// refkit_conversion_referrer: (referrer_user_id, created_at).
					.where("referrer_user_id", "=", query.referrerUserId)
					.where("created_at", ">=", toDbTime(query.from))
					.where("created_at", "<=", toDbTime(query.to));
				if (query.linkIds !== undefined) select = select.where(dialect.isAnyOf("link_id", query.linkIds));
				const rows = await select.groupBy([day, "goal"]).execute();
				return rows.map((row) => ({
					day: row.day,
					goal: row.goal,
					total: Number(row.total),
					reversed: Number(row.reversed),
				}));
			}),

		upcomingEarnings: (userId, now) =>
			ctx.run("read a beneficiary's pending commissions", async () => {
				const day = dialect.utcDay("payable_at");
				const rows = await db
					.selectFrom("refkit_commission")
					.select([day.as("day"), "currency"])
					.select((eb) => eb.fn.sum<string | number>("amount").as("total"))
					// refkit_commission_beneficiary: (beneficiary_user_id, status, payable_at).
					.where("beneficiary_user_id", "=", userId)
					.where("status", "=", "pending")
					.where("payable_at", ">", toDbTime(now))
					.groupBy([day, "currency"])
					.execute();
				return rows.map((row) => ({ day: row.day, currency: row.currency, amount: money(row.total) }));
			}),
	};
}
