import { sql } from "kysely";
import type { Sale } from "../programs/types.js";
import type { StoreContext } from "./context.js";
import { newestFirst } from "./fragments.js";
import type { Referral, SaleStore } from "./ledger-roles.js";
import { toRefund, toSale } from "./ledger-rows.js";
import { fromDbTime, toDbTime } from "./rows.js";

/** Sales (`refkit_sale`, one per external id) and their refunds (`refkit_refund`, one per external id). */
export function saleStore(ctx: StoreContext): SaleStore {
	const { db } = ctx;
	return {
		referralsOf: (userIds) =>
			ctx.run("read referrals", async () => {
				const referrals = new Map<string, Referral>();
				if (userIds.length === 0) return referrals;
				const rows = await db
					.selectFrom("refkit_conversion")
					.leftJoin("refkit_link", "refkit_link.id", "refkit_conversion.link_id")
					.select([
						"refkit_conversion.id",
						"refkit_conversion.referred_user_id",
						"refkit_conversion.referrer_user_id",
						"refkit_conversion.hit_id",
						"refkit_conversion.created_at",
						"refkit_link.program",
					])
					.where("refkit_conversion.referred_user_id", "in", [...new Set(userIds)])
					.where("refkit_conversion.referrer_user_id", "is not", null)
					.where("refkit_conversion.reversed_at", "is", null)
					.orderBy("refkit_conversion.created_at")
					.orderBy("refkit_conversion.id")
					.execute();
				// A user's first conversion (a referral converts once per goal: a handful of rows per user).
				for (const row of rows) {
					const userId = row.referred_user_id;
					if (referrals.has(userId) || row.referrer_user_id === null) continue;
					referrals.set(userId, {
						conversionId: row.id,
						referrerUserId: row.referrer_user_id,
						referredUserId: userId,
						hitId: row.hit_id,
						createdAt: fromDbTime(row.created_at),
						program: row.program ?? null,
					});
				}
				return referrals;
			}),

		linkProgramOf: (linkId) =>
			ctx.run("read a link's program", async () => {
				if (linkId === null) return null;
				const row = await db
					.selectFrom("refkit_link")
					.select("program")
					.where("id", "=", linkId)
					.executeTakeFirst();
				return row?.program ?? null;
			}),

		findSale: (externalId) =>
			ctx.run("read a sale", async () => {
				const row = await db
					.selectFrom("refkit_sale")
					.selectAll()
					.where("external_id", "=", externalId)
					.executeTakeFirst();
				return row ? toSale(row) : null;
			}),

		findSales: (externalIds) =>
			ctx.run("read sales", async () => {
				const sales = new Map<string, Sale>();
				if (externalIds.length === 0) return sales;
				const rows = await db
					.selectFrom("refkit_sale")
					.selectAll()
					.where("external_id", "in", [...new Set(externalIds)])
					.execute();
				for (const row of rows) sales.set(row.external_id, toSale(row));
				return sales;
			}),

		getSale: (id) =>
			ctx.run("read a sale", async () => {
				const row = await db.selectFrom("refkit_sale").selectAll().where("id", "=", id).executeTakeFirst();
				return row ? toSale(row) : null;
			}),

		lastSaleSequences: (referralIds) =>
			ctx.run("count referrals' sales", async () => {
				const last = new Map<string, number>();
				if (referralIds.length === 0) return last;
				const rows = await db
					.selectFrom("refkit_sale")
					.select(["conversion_id", (eb) => eb.fn.max("sequence").as("last")])
					.where("conversion_id", "in", [...new Set(referralIds)])
					.groupBy("conversion_id")
					.execute();
				for (const row of rows) last.set(row.conversion_id, Number(row.last));
				return last;
			}),

		insertSales: (sales, now) =>
			ctx.run("record sales", async () => {
				if (sales.length === 0) return [];
				const rows = await db
					.insertInto("refkit_sale")
					.values(
						sales.map((sale) => ({
							id: sale.id,
							external_id: sale.externalId,
							user_id: sale.userId,
							referrer_user_id: sale.referrerUserId,
							conversion_id: sale.referralId,
							program: sale.program,
							amount: sale.amount,
							currency: sale.currency,
							refunded: 0,
							sequence: sale.sequence,
							created_at: toDbTime(sale.createdAt),
							recorded_at: toDbTime(now),
						})),
					)
					// A concurrent call with the same external id that got there first: PostgreSQL waits for it.
					.onConflict((conflict) => conflict.column("external_id").doNothing())
					.returningAll()
					.execute();
				return rows.map(toSale);
			}),

		addRefunded: (saleId, amount) =>
			ctx.run("record a refund", async () => {
				const row = await db
					.updateTable("refkit_sale")
					.set({ refunded: sql`refunded + ${amount}` })
					.where("id", "=", saleId)
					.where(sql<boolean>`refunded + ${amount} <= amount`)
					.returningAll()
					.executeTakeFirst();
				return row ? toSale(row) : null;
			}),

		findRefund: (externalId) =>
			ctx.run("read a refund", async () => {
				const row = await db
					.selectFrom("refkit_refund")
					.selectAll()
					.where("external_id", "=", externalId)
					.executeTakeFirst();
				return row ? toRefund(row) : null;
			}),

		refundsOfSale: (saleId) =>
			ctx.run("read refunds", async () => {
				const rows = await db
					.selectFrom("refkit_refund")
					.selectAll()
					.where("sale_id", "=", saleId)
					.orderBy("created_at")
					.orderBy("id")
					.execute();
				return rows.map(toRefund);
			}),

		insertRefund: (refund) =>
			ctx.run("record a refund", async () => {
				const row = await db
					.insertInto("refkit_refund")
					.values({
						id: refund.id,
						external_id: refund.externalId,
						sale_id: refund.saleId,
						amount: refund.amount,
						reason: refund.reason,
						created_at: toDbTime(refund.createdAt),
					})
					.onConflict((conflict) => conflict.column("external_id").doNothing())
					.returningAll()
					.executeTakeFirst();
				return row ? toRefund(row) : null;
			}),

		listSales: (query) =>
			ctx.run("list sales", async () => {
				let select = db.selectFrom("refkit_sale").selectAll();
				if (query.userId !== undefined) select = select.where("user_id", "=", query.userId);
				if (query.referrerUserId !== undefined)
					select = select.where("referrer_user_id", "=", query.referrerUserId);
				const rows = await newestFirst(select, query).execute();
				return rows.map(toSale);
			}),
	};
}
