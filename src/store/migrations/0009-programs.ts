import { type Kysely, type Migration, sql } from "kysely";
import type { DialectName } from "../../types.js";

/**
 * Referral programs: the programs' terms as the application declared them (for the CLI and the dashboard,
 * which do not run its code), sales and refunds, the commission ledger (rows appended; only a row's status and
 * payout change, forward), the balances kept beside it by the same transactions, payouts, and the outbox of
 * the ledger's events. A link may belong to a program other than the default one.
 *
 * Amounts are whole minor units: `bigint` on PostgreSQL, SQLite's 64-bit `integer`.
 */
export function m0009Programs(dialect: DialectName): Migration {
	const pg = dialect === "postgres";
	const time = pg ? "timestamptz" : "text";
	const uuid = pg ? "uuid" : "text";
	const money = pg ? "bigint" : "integer";
	return {
		async up(db: Kysely<unknown>) {
			await db.schema.alterTable("refkit_link").addColumn("program", "text").execute();

			await db.schema
				.createTable("refkit_program")
				.addColumn("id", "text", (col) => col.primaryKey())
				.addColumn("currency", "text", (col) => col.notNull())
				.addColumn("hold_days", "integer", (col) => col.notNull())
				.addColumn("minimum_payout", money, (col) => col.notNull())
				.addColumn("is_default", pg ? "boolean" : "integer", (col) => col.notNull())
				/** The rules as declared, JSON. */
				.addColumn("terms", "text", (col) => col.notNull())
				.addColumn("updated_at", time, (col) => col.notNull())
				.execute();

			await db.schema
				.createTable("refkit_sale")
				.addColumn("id", uuid, (col) => col.primaryKey())
				.addColumn("external_id", "text", (col) => col.notNull().unique())
				.addColumn("user_id", "text", (col) => col.notNull())
				.addColumn("referrer_user_id", "text", (col) => col.notNull())
				/** The referral it credits: the user's first conversion. */
				.addColumn("conversion_id", uuid, (col) => col.notNull())
				.addColumn("program", "text", (col) => col.notNull())
				.addColumn("amount", money, (col) => col.notNull())
				.addColumn("currency", "text", (col) => col.notNull())
				/** The sum of its refunds: kept with them by the same transaction, never above `amount`. */
				.addColumn("refunded", money, (col) => col.notNull())
				/** 1 for the referral's first sale, 2 for its second... */
				.addColumn("sequence", "integer", (col) => col.notNull())
				.addColumn("created_at", time, (col) => col.notNull())
				.addColumn("recorded_at", time, (col) => col.notNull())
				.addCheckConstraint("refkit_sale_refunded", sql`refunded >= 0 and refunded <= amount`)
				.execute();
			await db.schema
				.createIndex("refkit_sale_conversion")
				.on("refkit_sale")
				.columns(["conversion_id", "sequence"])
				.unique()
				.execute();
			await db.schema
				.createIndex("refkit_sale_user")
				.on("refkit_sale")
				.columns(["user_id", "created_at"])
				.execute();
			await db.schema
				.createIndex("refkit_sale_referrer")
				.on("refkit_sale")
				.columns(["referrer_user_id", "created_at"])
				.execute();

			await db.schema
				.createTable("refkit_refund")
				.addColumn("id", uuid, (col) => col.primaryKey())
				.addColumn("external_id", "text", (col) => col.notNull().unique())
				.addColumn("sale_id", uuid, (col) => col.notNull().references("refkit_sale.id"))
				.addColumn("amount", money, (col) => col.notNull())
				.addColumn("reason", "text", (col) => col.notNull())
				.addColumn("created_at", time, (col) => col.notNull())
				.addCheckConstraint("refkit_refund_amount", sql`amount > 0`)
				.execute();
			await db.schema.createIndex("refkit_refund_sale").on("refkit_refund").column("sale_id").execute();

			await db.schema
				.createTable("refkit_payout")
				.addColumn("id", uuid, (col) => col.primaryKey())
				.addColumn("run_id", uuid, (col) => col.notNull())
				.addColumn("beneficiary_user_id", "text", (col) => col.notNull())
				.addColumn("currency", "text", (col) => col.notNull())
				.addColumn("amount", money, (col) => col.notNull())
				.addColumn("commissions", "integer", (col) => col.notNull())
				.addColumn("cutoff", time, (col) => col.notNull())
				.addColumn("status", "text", (col) => col.notNull())
				.addColumn("reference", "text")
				.addColumn("failure_reason", "text")
				.addColumn("created_at", time, (col) => col.notNull())
				.addColumn("paid_at", time)
				.addColumn("failed_at", time)
				.addCheckConstraint("refkit_payout_amount", sql`amount > 0`)
				.addCheckConstraint("refkit_payout_status", sql`status in ('created', 'paid', 'failed')`)
				.execute();
			// One payout per beneficiary and currency in a run; and how a run's claim finds the payout of each
			// commission it claims (by run alone, each lookup read every payout of the run so far).
			await db.schema
				.createIndex("refkit_payout_run")
				.on("refkit_payout")
				.columns(["run_id", "beneficiary_user_id", "currency"])
				.unique()
				.execute();
			await db.schema
				.createIndex("refkit_payout_beneficiary")
				.on("refkit_payout")
				.columns(["beneficiary_user_id", "created_at"])
				.execute();
			await db.schema
				.createIndex("refkit_payout_created")
				.on("refkit_payout")
				.columns(["created_at", "id"])
				.execute();

			await db.schema
				.createTable("refkit_commission")
				.addColumn("id", uuid, (col) => col.primaryKey())
				.addColumn("program", "text", (col) => col.notNull())
				/** The rule's name in its program, such as `signup` or `sale`. */
				.addColumn("rule", "text", (col) => col.notNull())
				/** The rule and the numbers it was applied to, JSON: what this row was computed from. */
				.addColumn("terms", "text", (col) => col.notNull())
				.addColumn("beneficiary_user_id", "text", (col) => col.notNull())
				.addColumn("role", "text", (col) => col.notNull())
				.addColumn("source_type", "text", (col) => col.notNull())
				.addColumn("source_id", uuid, (col) => col.notNull())
				/** The referral (conversion) it belongs to: what a per-referral cap counts. */
				.addColumn("referral_id", uuid)
				.addColumn("amount", money, (col) => col.notNull())
				.addColumn("currency", "text", (col) => col.notNull())
				.addColumn("status", "text", (col) => col.notNull())
				.addColumn("payable_at", time, (col) => col.notNull())
				.addColumn("held_reason", "text")
				.addColumn("void_reason", "text")
				/** A clawback: the paid (or paying) commission whose part it takes back. */
				.addColumn("clawback_of", uuid, (col) => col.references("refkit_commission.id"))
				/** What is left of a commission a partial refund voided. */
				.addColumn("replaces", uuid, (col) => col.references("refkit_commission.id"))
				.addColumn("payout_id", uuid, (col) => col.references("refkit_payout.id"))
				.addColumn("created_at", time, (col) => col.notNull())
				.addColumn("updated_at", time, (col) => col.notNull())
				.addCheckConstraint(
					"refkit_commission_status",
					sql`status in ('pending', 'held', 'approved', 'paid', 'voided')`,
				)
				.addCheckConstraint("refkit_commission_sign", sql`(amount < 0) = (clawback_of is not null)`)
				.addCheckConstraint("refkit_commission_paid", sql`status <> 'paid' or payout_id is not null`)
				.execute();
			await db.schema
				.createIndex("refkit_commission_beneficiary")
				.on("refkit_commission")
				.columns(["beneficiary_user_id", "status", "payable_at"])
				.execute();
			await db.schema
				.createIndex("refkit_commission_source")
				.on("refkit_commission")
				.columns(["source_id", "rule"])
				.execute();
			await db.schema
				.createIndex("refkit_commission_referral")
				.on("refkit_commission")
				.columns(["referral_id", "rule"])
				.execute();
			await db.schema
				.createIndex("refkit_commission_created")
				.on("refkit_commission")
				.columns(["created_at", "id"])
				.execute();
			// Claimed rows only: a payout's commissions. Unclaimed rows are found through refkit_commission_payable;
			// with them in this index, SQLite (which sees `payout_id is null` as a selective equality) read every
			// unclaimed row to find the beneficiaries to pay.
			await db.schema
				.createIndex("refkit_commission_payout")
				.on("refkit_commission")
				.column("payout_id")
				.where(sql.ref("payout_id"), "is not", null)
				.execute();
			// What a payout run and the approvals look for, however large the paid history grows.
			await db.schema
				.createIndex("refkit_commission_payable")
				.on("refkit_commission")
				.columns(["beneficiary_user_id", "currency", "payable_at"])
				.where(sql.ref("status"), "=", "approved")
				.where(sql.ref("payout_id"), "is", null)
				.execute();
			await db.schema
				.createIndex("refkit_commission_pending")
				.on("refkit_commission")
				.columns(["payable_at"])
				.where(sql.ref("status"), "=", "pending")
				.execute();

			await db.schema
				.createTable("refkit_balance")
				.addColumn("beneficiary_user_id", "text", (col) => col.notNull())
				.addColumn("currency", "text", (col) => col.notNull())
				.addColumn("pending", money, (col) => col.notNull())
				.addColumn("held", money, (col) => col.notNull())
				.addColumn("approved", money, (col) => col.notNull())
				.addColumn("paid", money, (col) => col.notNull())
				.addPrimaryKeyConstraint("refkit_balance_pk", ["beneficiary_user_id", "currency"])
				.execute();

			await db.schema
				.createTable("refkit_event")
				.addColumn("id", uuid, (col) => col.primaryKey())
				.addColumn("type", "text", (col) => col.notNull())
				.addColumn("data", "text", (col) => col.notNull())
				.addColumn("created_at", time, (col) => col.notNull())
				/** What orders the events of one millisecond: the order the process wrote them. */
				.addColumn("position", "integer", (col) => col.notNull())
				.addColumn("delivered_at", time)
				.addColumn("next_delivery_at", time)
				.addColumn("delivery_attempts", "integer", (col) => col.notNull().defaultTo(0))
				.addColumn("last_delivery_error", "text")
				.execute();
			await db.schema
				.createIndex("refkit_event_next_delivery")
				.on("refkit_event")
				.column("next_delivery_at")
				.execute();
			await db.schema
				.createIndex("refkit_event_created")
				.on("refkit_event")
				.columns(["created_at", "position"])
				.execute();
		},
		async down(db: Kysely<unknown>) {
			for (const table of [
				"refkit_event",
				"refkit_balance",
				"refkit_commission",
				"refkit_payout",
				"refkit_refund",
				"refkit_sale",
				"refkit_program",
			]) {
				await db.schema.dropTable(table).execute();
			}
			await db.schema.alterTable("refkit_link").dropColumn("program").execute();
		},
	};
}
