import { sql } from "kysely";
import type { StoreContext } from "./context.js";
import { newestFirst } from "./fragments.js";
import type { PayoutStore } from "./ledger-roles.js";
import { money, toPayout } from "./ledger-rows.js";
import { toDbTime } from "./rows.js";

/**
 * Payouts (`refkit_payout`) and their claim on commissions. A commission's `payout_id` is set only where it is
 * still empty, on approved rows, by one statement: two runs racing never both claim a row.
 */
export function payoutStore(ctx: StoreContext): PayoutStore {
	const { db } = ctx;
	return {
		payableBeneficiaries: (cutoff, after, limit) =>
			ctx.run("find beneficiaries to pay", async () => {
				let select = db
					.selectFrom("refkit_commission")
					.select("beneficiary_user_id")
					.distinct()
					.where("status", "=", "approved")
					.where("payout_id", "is", null)
					.where("payable_at", "<=", toDbTime(cutoff));
				if (after !== null) select = select.where("beneficiary_user_id", ">", after);
				const rows = await select.orderBy("beneficiary_user_id").limit(limit).execute();
				return rows.map((row) => row.beneficiary_user_id);
			}),

		payableSums: (userIds, cutoff) =>
			ctx.run("sum payable commissions", async () => {
				if (userIds.length === 0) return [];
				const rows = await db
					.selectFrom("refkit_commission")
					.select(["beneficiary_user_id", "currency", "program"])
					.select((eb) => [
						eb.fn.sum<string | number>("amount").as("total"),
						eb.fn.countAll<string | number>().as("n"),
					])
					.where("beneficiary_user_id", "in", [...userIds])
					.where("status", "=", "approved")
					.where("payout_id", "is", null)
					.where("payable_at", "<=", toDbTime(cutoff))
					.groupBy(["beneficiary_user_id", "currency", "program"])
					.execute();
				return rows.map((row) => ({
					userId: row.beneficiary_user_id,
					currency: row.currency,
					program: row.program,
					amount: money(row.total),
					count: Number(row.n),
				}));
			}),

		insertPayouts: (payouts) =>
			ctx.run("record payouts", async () => {
				// 13 columns a row: 500 rows stay below both databases' limits on bound parameters.
				for (let i = 0; i < payouts.length; i += 500) {
					await db
						.insertInto("refkit_payout")
						.values(
							payouts.slice(i, i + 500).map((payout) => ({
								id: payout.id,
								run_id: payout.runId,
								beneficiary_user_id: payout.userId,
								currency: payout.currency,
								amount: payout.amount,
								commissions: payout.commissions,
								cutoff: toDbTime(payout.cutoff),
								status: "created",
								reference: null,
								failure_reason: null,
								created_at: toDbTime(payout.createdAt),
								paid_at: null,
								failed_at: null,
							})),
						)
						.execute();
				}
			}),

		claimForRun: (runId, userIds, cutoff, now) =>
			ctx.run("claim commissions for payouts", async () => {
				if (userIds.length === 0) return 0;
				// A join with the run's payouts of these beneficiaries (found by refkit_payout_run), each then joined
				// to its beneficiary's payable rows (refkit_commission_payable). As a correlated subquery, PostgreSQL
				// probed the payable rows of all the batch's beneficiaries once per payout of the run so far.
				const result = await db
					.updateTable("refkit_commission")
					.from("refkit_payout")
					.set({ payout_id: sql.ref("refkit_payout.id"), updated_at: toDbTime(now) })
					.where("refkit_payout.run_id", "=", runId)
					.where("refkit_payout.beneficiary_user_id", "in", [...userIds])
					.whereRef("refkit_commission.beneficiary_user_id", "=", "refkit_payout.beneficiary_user_id")
					.whereRef("refkit_commission.currency", "=", "refkit_payout.currency")
					.where("refkit_commission.status", "=", "approved")
					.where("refkit_commission.payout_id", "is", null)
					.where("refkit_commission.payable_at", "<=", toDbTime(cutoff))
					.executeTakeFirst();
				return Number(result.numUpdatedRows);
			}),

		getPayout: (id) =>
			ctx.run("read a payout", async () => {
				const row = await db.selectFrom("refkit_payout").selectAll().where("id", "=", id).executeTakeFirst();
				return row ? toPayout(row) : null;
			}),

		listPayouts: (query) =>
			ctx.run("list payouts", async () => {
				let select = db.selectFrom("refkit_payout").selectAll();
				if (query.userId !== undefined) select = select.where("beneficiary_user_id", "=", query.userId);
				if (query.status !== undefined) select = select.where("status", "=", query.status);
				if (query.runId !== undefined) select = select.where("run_id", "=", query.runId);
				const rows = await newestFirst(select, query).execute();
				return rows.map(toPayout);
			}),

		closePayout: (id, close, now) =>
			ctx.run("close a payout", async () => {
				const at = toDbTime(now);
				const row = await db
					.updateTable("refkit_payout")
					.set(
						close.status === "paid"
							? { status: "paid", reference: close.reference, paid_at: at }
							: { status: "failed", failure_reason: close.reason, failed_at: at },
					)
					.where("id", "=", id)
					.where("status", "=", "created")
					.returningAll()
					.executeTakeFirst();
				return row ? toPayout(row) : null;
			}),

		releasePayout: (id, now) =>
			ctx.run("release a payout's commissions", async () => {
				const result = await db
					.updateTable("refkit_commission")
					.set({ payout_id: null, updated_at: toDbTime(now) })
					.where("payout_id", "=", id)
					.where("status", "=", "approved")
					.executeTakeFirst();
				return Number(result.numUpdatedRows);
			}),
	};
}
