import type { StoreContext } from "./context.js";
import { money } from "./ledger-rows.js";
import { toDbTime } from "./rows.js";
import type { ReferrerStore } from "./store.js";

/**
 * What one referrer's page reads beyond the other roles' listings, grouped by the database so that a referrer
 * with thousands of conversions and commissions costs a few rows: their conversions by day and goal, and their
 * pending commissions by the day they become payable.
 */
export function referrerStore(ctx: StoreContext): ReferrerStore {
	const { db, dialect } = ctx;
	return {
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
