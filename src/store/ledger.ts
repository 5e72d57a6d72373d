import { randomUUID } from "node:crypto";
import { type Kysely, sql } from "kysely";
import type { Balance, CommissionStatus } from "../programs/types.js";
import type { StoreContext } from "./context.js";
import { newestFirst } from "./fragments.js";
import { earnedKey, type LedgerStore, type NewCommission } from "./ledger-roles.js";
import { money, toCommission, toLedgerEvent } from "./ledger-rows.js";
import { LEDGER_LOCK } from "./locks.js";
import { fromDbTime, toDbTime } from "./rows.js";
import type { Database } from "./schema.js";

/**
 * The commission ledger (`refkit_commission`): rows are appended; a row's status only moves forward and its
 * payout is set once. `refkit_balance` holds each beneficiary's sums by status, changed by the same statements'
 * transaction, so that a balance is one row however long the ledger grows. The outbox of ledger events
 * (`refkit_event`) is written in the same transactions too.
 */

type Bucket = "pending" | "held" | "approved" | "paid";
const BUCKETS: readonly Bucket[] = ["pending", "held", "approved", "paid"];

function bucketOf(status: CommissionStatus): Bucket | null {
	return status === "voided" ? null : status;
}

/** Adds `amount` to `to`'s bucket and takes it from `from`'s, for each (beneficiary, currency). */
async function moveBalances(
	db: Kysely<Database>,
	moves: Iterable<{
		userId: string;
		currency: string;
		amount: number;
		from: Bucket | null;
		to: Bucket | null;
	}>,
): Promise<void> {
	const sums = new Map<string, { userId: string; currency: string; delta: Record<Bucket, number> }>();
	for (const move of moves) {
		if (move.from === move.to || move.amount === 0) continue;
		const key = `${move.userId}\u0000${move.currency}`;
		let entry = sums.get(key);
		if (entry === undefined) {
			entry = {
				userId: move.userId,
				currency: move.currency,
				delta: { pending: 0, held: 0, approved: 0, paid: 0 },
			};
			sums.set(key, entry);
		}
		if (move.from !== null) entry.delta[move.from] -= move.amount;
		if (move.to !== null) entry.delta[move.to] += move.amount;
	}
	// Up to 500 beneficiaries and currencies a statement, in a fixed order: PostgreSQL locks the rows of a
	// multi-row upsert in the order of its values, so no two transactions wait for each other in a circle.
	const rows = [...sums.values()].sort((a, b) =>
		a.userId === b.userId ? (a.currency < b.currency ? -1 : 1) : a.userId < b.userId ? -1 : 1,
	);
	for (let i = 0; i < rows.length; i += 500) {
		await db
			.insertInto("refkit_balance")
			.values(
				rows
					.slice(i, i + 500)
					.map(({ userId, currency, delta }) => ({ beneficiary_user_id: userId, currency, ...delta })),
			)
			.onConflict((conflict) =>
				conflict.columns(["beneficiary_user_id", "currency"]).doUpdateSet({
					pending: sql`refkit_balance.pending + excluded.pending`,
					held: sql`refkit_balance.held + excluded.held`,
					approved: sql`refkit_balance.approved + excluded.approved`,
					paid: sql`refkit_balance.paid + excluded.paid`,
				}),
			)
			.execute();
	}
}

/** The balance table's moves for commissions that went from `from` to `to`. */
function balanceMoves(
	rows: Array<{ userId: string; currency: string; amount: number }>,
	from: CommissionStatus,
	to: CommissionStatus,
) {
	return rows.map((row) => ({ ...row, from: bucketOf(from), to: bucketOf(to) }));
}

/** The statuses as read at `now`: `approved` includes `pending` rows whose holding period is over. */
function statusFilter(status: CommissionStatus, now: Date) {
	const at = toDbTime(now);
	if (status === "approved") {
		return sql<boolean>`(status = 'approved' or (status = 'pending' and payable_at <= ${at}))`;
	}
	if (status === "pending") return sql<boolean>`(status = 'pending' and payable_at > ${at})`;
	return sql<boolean>`status = ${status}`;
}

/**
 * Orders events of the same millisecond in the order this process wrote them: within one operation (a
 * commission created, then approved) and between operations that follow each other.
 */
let lastPosition = 0;
function nextPosition(): number {
	lastPosition = (lastPosition + 1) % 2 ** 31;
	return lastPosition;
}

export function ledgerStore(ctx: StoreContext): LedgerStore {
	const { db } = ctx;
	return {
		lockBeneficiaries: (userIds) =>
			ctx.run("lock the ledger", () => ctx.dialect.lockNames(db, LEDGER_LOCK, userIds)),

		savePrograms: (programs, now) =>
			ctx.run("save the programs", async () => {
				for (const program of programs) {
					const row = {
						currency: program.currency,
						hold_days: program.holdDays,
						minimum_payout: program.minimumPayout,
						is_default: ctx.dialect.bool(program.isDefault),
						terms: JSON.stringify(program.rules),
						updated_at: toDbTime(now),
					};
					await db
						.insertInto("refkit_program")
						.values({ id: program.id, ...row })
						.onConflict((conflict) => conflict.column("id").doUpdateSet(row))
						.execute();
				}
				if (programs.some((program) => program.isDefault)) {
					const defaultId = programs.find((program) => program.isDefault)?.id ?? "";
					await db
						.updateTable("refkit_program")
						.set({ is_default: ctx.dialect.bool(false) })
						.where("id", "<>", defaultId)
						.execute();
				}
			}),

		savedPrograms: () =>
			ctx.run("read the programs", async () => {
				const rows = await db.selectFrom("refkit_program").selectAll().orderBy("id").execute();
				return rows.map((row) => ({
					id: row.id,
					currency: row.currency,
					holdDays: row.hold_days,
					minimumPayout: money(row.minimum_payout),
					isDefault: Boolean(row.is_default),
					rules: JSON.parse(row.terms) as unknown,
				}));
			}),

		insertCommissions: (rows, now) =>
			ctx.run("record commissions", async () => {
				if (rows.length === 0) return [];
				const inserted = await db
					.insertInto("refkit_commission")
					.values(rows.map((row: NewCommission) => commissionRow(row)))
					.returningAll()
					.execute();
				// The balances by the stored status; the caller gets them as read now (a pending row due is approved).
				const stored = inserted.map((row) => toCommission(row));
				await moveBalances(
					db,
					stored.map((c) => ({ ...c, from: null, to: bucketOf(c.status) })),
				);
				return inserted.map((row) => toCommission(row, now));
			}),

		moveCommissions: (which, move) =>
			ctx.run("update commissions", async () => {
				if (Array.isArray(which) && which.length === 0) return [];
				const moved = [];
				const at = toDbTime(move.now);
				for (const from of move.from) {
					let update = db
						.updateTable("refkit_commission")
						.set({
							status: move.to,
							updated_at: at,
							...(move.voidReason !== undefined ? { void_reason: move.voidReason } : {}),
							...(move.heldReason !== undefined ? { held_reason: move.heldReason } : {}),
						})
						.where("status", "=", from);
					update = Array.isArray(which)
						? update.where("id", "in", [...(which as readonly string[])])
						: update.where("payout_id", "=", (which as { payoutId: string }).payoutId);
					if (move.unclaimed) update = update.where("payout_id", "is", null);
					if (move.payableBy !== undefined)
						update = update.where("payable_at", "<=", toDbTime(move.payableBy));
					const returned = await update.returningAll().execute();
					const rows = returned.map((row) => toCommission(row));
					await moveBalances(db, balanceMoves(rows, from, move.to));
					moved.push(...returned.map((row) => toCommission(row, move.now)));
				}
				return moved;
			}),

		liveCommissionsOf: (sourceId) =>
			ctx.run("read commissions", async () => {
				const rows = await db
					.selectFrom("refkit_commission")
					.selectAll()
					.where("source_id", "=", sourceId)
					.where("status", "<>", "voided")
					.where("amount", ">", 0 as never)
					.orderBy("created_at")
					.orderBy("id")
					.execute();
				return rows.map((row) => toCommission(row));
			}),

		firstCommissionOf: (sourceId, rule) =>
			ctx.run("read a commission", async () => {
				const row = await db
					.selectFrom("refkit_commission")
					.selectAll()
					.where("source_id", "=", sourceId)
					.where("rule", "=", rule)
					.where("replaces", "is", null)
					.where("clawback_of", "is", null)
					.orderBy("created_at")
					.orderBy("id")
					.executeTakeFirst();
				return row ? toCommission(row) : null;
			}),

		earnedByReferrals: (referralIds, rules) =>
			ctx.run("read referrals' commissions", async () => {
				const earned = new Map<string, number>();
				if (referralIds.length === 0 || rules.length === 0) return earned;
				const rows = await db
					.selectFrom("refkit_commission")
					.select(["referral_id", "rule", (eb) => eb.fn.sum<string | number>("amount").as("total")])
					.where("referral_id", "in", [...new Set(referralIds)])
					.where("rule", "in", [...new Set(rules)])
					.where("status", "<>", "voided")
					.groupBy(["referral_id", "rule"])
					.execute();
				for (const row of rows) {
					if (row.referral_id !== null) earned.set(earnedKey(row.referral_id, row.rule), money(row.total));
				}
				return earned;
			}),

		countCommissionsSince: (userId, role, since) =>
			ctx.run("count commissions", async () => {
				const row = await db
					.selectFrom("refkit_commission")
					.select((eb) => eb.fn.countAll<string | number>().as("n"))
					.where("beneficiary_user_id", "=", userId)
					.where("role", "=", role)
					.where("created_at", ">=", toDbTime(since))
					.where("clawback_of", "is", null)
					.where("replaces", "is", null)
					.executeTakeFirst();
				return Number(row?.n ?? 0);
			}),

		sharedSignals: (hitId, userId) =>
			ctx.run("read a referral's visit", async () => {
				const hit = await db
					.selectFrom("refkit_hit")
					.select(["ip", "user_agent"])
					.where("id", "=", hitId)
					.executeTakeFirst();
				const shared = async (column: "ip" | "user_agent", value: string | null | undefined) => {
					if (value === null || value === undefined || value === "") return false;
					const row = await db
						.selectFrom("refkit_hit")
						.select("id")
						.where("user_id", "=", userId)
						.where(column, "=", value)
						.limit(1)
						.executeTakeFirst();
					return row !== undefined;
				};
				return { ip: await shared("ip", hit?.ip), userAgent: await shared("user_agent", hit?.user_agent) };
			}),

		getCommission: (id, now) =>
			ctx.run("read a commission", async () => {
				const row = await db
					.selectFrom("refkit_commission")
					.selectAll()
					.where("id", "=", id)
					.executeTakeFirst();
				return row ? toCommission(row, now) : null;
			}),

		listCommissions: (query, now) =>
			ctx.run("list commissions", async () => {
				let select = db.selectFrom("refkit_commission").selectAll();
				if (query.userId !== undefined) select = select.where("beneficiary_user_id", "=", query.userId);
				if (query.status !== undefined) select = select.where(statusFilter(query.status, now));
				if (query.program !== undefined) select = select.where("program", "=", query.program);
				if (query.sourceId !== undefined) select = select.where("source_id", "=", query.sourceId);
				if (query.payoutId !== undefined) select = select.where("payout_id", "=", query.payoutId);
				const rows = await newestFirst(select, query).execute();
				return rows.map((row) => toCommission(row, now));
			}),

		balances: (userId, now, page) =>
			ctx.run("read balances", async () => {
				let select = db.selectFrom("refkit_balance").selectAll();
				if (userId !== undefined) select = select.where("beneficiary_user_id", "=", userId);
				const after = page?.after;
				if (after !== undefined) {
					select = select.where((eb) =>
						eb.or([
							eb("beneficiary_user_id", ">", after.userId),
							eb.and([eb("beneficiary_user_id", "=", after.userId), eb("currency", ">", after.currency)]),
						]),
					);
				}
				const rows = await select
					.orderBy("beneficiary_user_id")
					.orderBy("currency")
					.limit(page?.limit ?? 1000)
					.execute();
				if (rows.length === 0) return [];
				// Pending commissions whose holding period is over are payable, though not yet moved.
				let due = db
					.selectFrom("refkit_commission")
					.select(["beneficiary_user_id", "currency"])
					.select((eb) => eb.fn.sum<string | number>("amount").as("total"))
					.where("status", "=", "pending")
					.where("payable_at", "<=", toDbTime(now));
				due =
					userId !== undefined
						? due.where("beneficiary_user_id", "=", userId)
						: due.where(
								"beneficiary_user_id",
								"in",
								rows.map((row) => row.beneficiary_user_id),
							);
				const dueRows = await due.groupBy(["beneficiary_user_id", "currency"]).execute();
				const dueBy = new Map(
					dueRows.map((row) => [`${row.beneficiary_user_id}\u0000${row.currency}`, money(row.total)]),
				);
				return rows.map((row): Balance => {
					const moving = dueBy.get(`${row.beneficiary_user_id}\u0000${row.currency}`) ?? 0;
					const balance: Balance = {
						userId: row.beneficiary_user_id,
						currency: row.currency,
						pending: 0,
						held: 0,
						approved: 0,
						paid: 0,
					};
					for (const bucket of BUCKETS) balance[bucket] = money(row[bucket]);
					balance.pending -= moving;
					balance.approved += moving;
					return balance;
				});
			}),

		liabilities: (now) =>
			ctx.run("sum the balances", async () => {
				// Pending commissions past their hold are payable, though not yet moved: per beneficiary, since a
				// negative payable balance is told apart.
				const due = db
					.selectFrom("refkit_commission")
					.select(["beneficiary_user_id", "currency"])
					.select((eb) => eb.fn.sum<string | number>("amount").as("due"))
					.where("status", "=", "pending")
					.where("payable_at", "<=", toDbTime(now))
					.groupBy(["beneficiary_user_id", "currency"])
					.as("d");
				const payable = sql<number>`(b.approved + coalesce(d.due, 0))`;
				const rows = await db
					.selectFrom("refkit_balance as b")
					.leftJoin(due, (join) =>
						join
							.onRef("d.beneficiary_user_id", "=", "b.beneficiary_user_id")
							.onRef("d.currency", "=", "b.currency"),
					)
					.select("b.currency")
					.select((eb) => [
						eb.fn.countAll<string | number>().as("beneficiaries"),
						sql<string | number>`sum(b.pending - coalesce(d.due, 0))`.as("pending"),
						eb.fn.sum<string | number>("b.held").as("held"),
						sql<string | number>`sum(${payable})`.as("approved"),
						eb.fn.sum<string | number>("b.paid").as("paid"),
						sql<string | number>`sum(case when ${payable} < 0 then 1 else 0 end)`.as("negatives"),
						sql<string | number>`sum(case when ${payable} < 0 then ${payable} else 0 end)`.as("negative"),
					])
					.groupBy("b.currency")
					.orderBy("b.currency")
					.execute();
				return rows.map((row) => ({
					currency: row.currency,
					pending: money(row.pending),
					held: money(row.held),
					approved: money(row.approved),
					paid: money(row.paid),
					beneficiaries: Number(row.beneficiaries),
					negative: { beneficiaries: Number(row.negatives), amount: money(row.negative) },
				}));
			}),

		dueCommissions: (now, limit) =>
			ctx.run("find payable commissions", async () => {
				const rows = await db
					.selectFrom("refkit_commission")
					.select(["id", "beneficiary_user_id"])
					.where("status", "=", "pending")
					.where("payable_at", "<=", toDbTime(now))
					.orderBy("payable_at")
					.limit(limit)
					.execute();
				return rows.map((row) => ({ id: row.id, userId: row.beneficiary_user_id }));
			}),

		insertEvents: (events, now) =>
			ctx.run("record ledger events", async () => {
				if (events.length === 0) return;
				const at = toDbTime(now);
				// 8 columns a row: 1000 rows stay below both databases' limits on bound parameters.
				for (let i = 0; i < events.length; i += 1000) {
					await db
						.insertInto("refkit_event")
						.values(
							events.slice(i, i + 1000).map((event) => ({
								id: randomUUID(),
								position: nextPosition(),
								type: event.type,
								data: JSON.stringify(event.data),
								created_at: at,
								delivered_at: null,
								next_delivery_at: at,
								last_delivery_error: null,
							})),
						)
						.execute();
				}
			}),

		takeDueEvents: (now, leaseUntil, limit) =>
			ctx.run("take ledger events to deliver", async () => {
				const due = toDbTime(now);
				const rows = await db
					.updateTable("refkit_event")
					.set((eb) => ({
						next_delivery_at: toDbTime(leaseUntil),
						delivery_attempts: eb("delivery_attempts", "+", 1),
					}))
					.where("id", "in", (eb) =>
						eb
							.selectFrom("refkit_event")
							.select("id")
							.where("next_delivery_at", "<=", due)
							.orderBy("next_delivery_at")
							.orderBy("created_at")
							.orderBy("position")
							.limit(limit),
					)
					// Checked on the row itself again, so that two workers never both take it.
					.where("next_delivery_at", "<=", due)
					.returningAll()
					.execute();
				return rows
					.sort((a, b) => {
						const at = fromDbTime(a.created_at).getTime() - fromDbTime(b.created_at).getTime();
						return at !== 0 ? at : a.position - b.position;
					})
					.map((row) => ({ event: toLedgerEvent(row), attempt: row.delivery_attempts }));
			}),

		markEventDelivered: (id, now) =>
			ctx.run("record a delivery", async () => {
				await db
					.updateTable("refkit_event")
					.set({ delivered_at: toDbTime(now), next_delivery_at: null, last_delivery_error: null })
					.where("id", "=", id)
					.execute();
			}),

		markEventFailed: (id, error, retryAt) =>
			ctx.run("record a failed delivery", async () => {
				await db
					.updateTable("refkit_event")
					.set({ next_delivery_at: toDbTime(retryAt), last_delivery_error: error })
					.where("id", "=", id)
					.execute();
			}),
	};
}

function commissionRow(row: NewCommission) {
	const at = toDbTime(row.createdAt);
	return {
		id: row.id,
		program: row.program,
		rule: row.rule,
		terms: JSON.stringify(row.terms),
		beneficiary_user_id: row.userId,
		role: row.role,
		source_type: row.sourceType,
		source_id: row.sourceId,
		referral_id: row.referralId,
		amount: row.amount,
		currency: row.currency,
		status: row.status,
		payable_at: toDbTime(row.payableAt),
		held_reason: row.heldReason,
		void_reason: null,
		clawback_of: row.clawbackOf,
		replaces: row.replaces,
		payout_id: null,
		created_at: at,
		updated_at: at,
	};
}
