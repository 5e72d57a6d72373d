import { sql } from "kysely";
import type { StoreContext } from "./context.js";
import { newestFirst } from "./fragments.js";
import type { SaleStore } from "./ledger-roles.js";
import { toRefund, toSale } from "./ledger-rows.js";
import { fromDbTime, toDbTime } from "./rows.js";

/** Sales (`refkit_sale`, one per external id) and their refunds (`refkit_refund`, one per external id). */
export function saleStore(ctx: StoreContext): SaleStore {
	const { db } = ctx;
	return {
		referralOf: (userId) =>
			ctx.run("read a referral", async () => {
				const row = await db
					.selectFrom("refkit_conversion")
					.leftJoin("refkit_link", "refkit_link.id", "refkit_conversion.link_id")
					.select([
						"refkit_conversion.id",
						"refkit_conversion.referrer_user_id",
						"refkit_conversion.hit_id",
						"refkit_conversion.created_at",
						"refkit_link.program",
					])
					.where("refkit_conversion.referred_user_id", "=", userId)
					.where("refkit_conversion.referrer_user_id", "is not", null)
					.where("refkit_conversion.reversed_at", "is", null)
					.orderBy("refkit_conversion.created_at")
					.orderBy("refkit_conversion.id")
					.executeTakeFirst();
				if (row === undefined || row.referrer_user_id === null) return null;
				return {
					conversionId: row.id,
					referrerUserId: row.referrer_user_id,
					referredUserId: userId,
					hitId: row.hit_id,
					createdAt: fromDbTime(row.created_at),
					program: row.program ?? null,
				};
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

		getSale: (id) =>
			ctx.run("read a sale", async () => {
				const row = await db.selectFrom("refkit_sale").selectAll().where("id", "=", id).executeTakeFirst();
				return row ? toSale(row) : null;
			}),

		nextSaleSequence: (referralId) =>
			ctx.run("count a referral's sales", async () => {
				const row = await db
					.selectFrom("refkit_sale")
					.select((eb) => eb.fn.max("sequence").as("last"))
					.where("conversion_id", "=", referralId)
					.executeTakeFirst();
				return Number(row?.last ?? 0) + 1;
			}),

		insertSale: (sale, now) =>
			ctx.run("record a sale", async () => {
				const row = await db
					.insertInto("refkit_sale")
					.values({
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
					})
					// A concurrent call with the same external id that got there first: PostgreSQL waits for it.
					.onConflict((conflict) => conflict.column("external_id").doNothing())
					.returningAll()
					.executeTakeFirst();
				return row ? toSale(row) : null;
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
