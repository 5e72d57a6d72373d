import { type Kysely, type Migration, sql } from "kysely";
import type { DialectName } from "../../types.js";

/**
 * Billing systems' events (Stripe first): each event once by its id, stored in the transaction of its effect,
 * with the payload kept so that an event that cannot be applied yet (its customer is no user yet, its sale has
 * not arrived) waits to be applied again instead of being lost. And the payments each sale was paid by (a
 * Stripe payment intent or charge), so that a refund or a dispute, which name the payment, finds its sale.
 */
export function m0010Billing(dialect: DialectName): Migration {
	const time = dialect === "postgres" ? "timestamptz" : "text";
	return {
		async up(db: Kysely<unknown>) {
			await db.schema
				.createTable("refkit_billing_event")
				.addColumn("provider", "text", (col) => col.notNull())
				.addColumn("id", "text", (col) => col.notNull())
				.addColumn("type", "text", (col) => col.notNull())
				/** The object it is about (an invoice, a charge, a dispute). */
				.addColumn("object_id", "text")
				/** received (in its transaction only), applied, ignored, waiting or failed. */
				.addColumn("status", "text", (col) => col.notNull())
				/** What applying it came to, in plain words. */
				.addColumn("outcome", "text", (col) => col.notNull())
				/** What a waiting event waits for: "user", or the payment or sale it names. */
				.addColumn("waiting_for", "text")
				/** The event as received, JSON. */
				.addColumn("payload", "text", (col) => col.notNull())
				.addColumn("attempts", "integer", (col) => col.notNull())
				.addColumn("received_at", time, (col) => col.notNull())
				.addColumn("updated_at", time, (col) => col.notNull())
				.addPrimaryKeyConstraint("refkit_billing_event_pk", ["provider", "id"])
				.addCheckConstraint(
					"refkit_billing_event_status",
					sql`status in ('received', 'applied', 'ignored', 'waiting', 'failed')`,
				)
				.execute();
			await db.schema
				.createIndex("refkit_billing_event_waiting")
				.on("refkit_billing_event")
				.columns(["provider", "waiting_for"])
				.where(sql.ref("status"), "in", sql`('waiting', 'failed')`)
				.execute();
			await db.schema
				.createIndex("refkit_billing_event_object")
				.on("refkit_billing_event")
				.columns(["provider", "object_id", "type"])
				.execute();
			await db.schema
				.createIndex("refkit_billing_event_received")
				.on("refkit_billing_event")
				.columns(["received_at", "id"])
				.execute();

			await db.schema
				.createTable("refkit_billing_payment")
				.addColumn("provider", "text", (col) => col.notNull())
				/** A Stripe payment intent (pi_...) or charge (ch_...). */
				.addColumn("payment_id", "text", (col) => col.notNull())
				/** The external id of the sale it paid (which may not be recorded yet). */
				.addColumn("sale_external_id", "text", (col) => col.notNull())
				.addColumn("created_at", time, (col) => col.notNull())
				.addPrimaryKeyConstraint("refkit_billing_payment_pk", ["provider", "payment_id"])
				.execute();
			await db.schema
				.createIndex("refkit_billing_payment_sale")
				.on("refkit_billing_payment")
				.columns(["provider", "sale_external_id"])
				.execute();
		},
		async down(db: Kysely<unknown>) {
			await db.schema.dropTable("refkit_billing_payment").execute();
			await db.schema.dropTable("refkit_billing_event").execute();
		},
	};
}
