import type { Selectable } from "kysely";
import type { BillingEvent, BillingStore } from "./billing-roles.js";
import type { StoreContext } from "./context.js";
import { fromDbTime, toDbTime } from "./rows.js";
import type { BillingEventTable } from "./schema.js";

/* Billing systems' events (`refkit_billing_event`) and the payments sales were paid by (`refkit_billing_payment`). */

function toBillingEvent(row: Selectable<BillingEventTable>): BillingEvent {
	return {
		provider: row.provider,
		id: row.id,
		type: row.type,
		objectId: row.object_id,
		status: row.status,
		outcome: row.outcome,
		waitingFor: row.waiting_for,
		payload: row.payload,
		attempts: Number(row.attempts),
		receivedAt: fromDbTime(row.received_at),
		updatedAt: fromDbTime(row.updated_at),
	};
}

export function billingStore(ctx: StoreContext): BillingStore {
	const { db } = ctx;
	const select = (provider: string, id: string) =>
		db.selectFrom("refkit_billing_event").selectAll().where("provider", "=", provider).where("id", "=", id);
	return {
		takeBillingEvent: (event, now) =>
			ctx.run("record a billing event", async () => {
				const at = toDbTime(now);
				// A racing delivery of the same event waits here (PostgreSQL) until the first one's transaction ends.
				const inserted = await db
					.insertInto("refkit_billing_event")
					.values({
						provider: event.provider,
						id: event.id,
						type: event.type,
						object_id: event.objectId,
						status: "received",
						outcome: "received",
						waiting_for: null,
						payload: event.payload,
						attempts: 1,
						received_at: at,
						updated_at: at,
					})
					.onConflict((conflict) => conflict.columns(["provider", "id"]).doNothing())
					.returningAll()
					.executeTakeFirst();
				if (inserted !== undefined) return { take: "new", event: toBillingEvent(inserted) };
				// Locks the row: of two deliveries of a waiting event, one applies it and the other finds it done.
				const again = await db
					.updateTable("refkit_billing_event")
					.set((eb) => ({ attempts: eb("attempts", "+", 1), updated_at: at, payload: event.payload }))
					.where("provider", "=", event.provider)
					.where("id", "=", event.id)
					.where("status", "in", ["waiting", "failed"])
					.returningAll()
					.executeTakeFirst();
				if (again !== undefined) return { take: "again", event: toBillingEvent(again) };
				const done = await select(event.provider, event.id).executeTakeFirstOrThrow();
				return { take: "done", event: toBillingEvent(done) };
			}),

		finishBillingEvent: (provider, id, end, now) =>
			ctx.run("record a billing event", async () => {
				await db
					.updateTable("refkit_billing_event")
					.set({
						status: end.status,
						outcome: end.outcome,
						waiting_for: end.waitingFor,
						updated_at: toDbTime(now),
					})
					.where("provider", "=", provider)
					.where("id", "=", id)
					.execute();
			}),

		getBillingEvent: (provider, id) =>
			ctx.run("read a billing event", async () => {
				const row = await select(provider, id).executeTakeFirst();
				return row === undefined ? null : toBillingEvent(row);
			}),

		listBillingEvents: (query) =>
			ctx.run("list billing events", async () => {
				let q = db.selectFrom("refkit_billing_event").selectAll().where("provider", "=", query.provider);
				if (query.status !== undefined) q = q.where("status", "=", query.status);
				if (query.waitingFor !== undefined) {
					if (query.waitingFor.length === 0) return [];
					q = q.where("waiting_for", "in", [...query.waitingFor]);
				}
				const rows = await q.orderBy("received_at").orderBy("id").limit(query.limit).execute();
				return rows.map(toBillingEvent);
			}),

		billingEventApplied: (provider, objectId, type) =>
			ctx.run("read billing events", async () => {
				const row = await db
					.selectFrom("refkit_billing_event")
					.select("id")
					.where("provider", "=", provider)
					.where("object_id", "=", objectId)
					.where("type", "=", type)
					.where("status", "=", "applied")
					.executeTakeFirst();
				return row !== undefined;
			}),

		linkPayment: (provider, paymentId, saleExternalId, now) =>
			ctx.run("link a payment to its sale", async () => {
				await db
					.insertInto("refkit_billing_payment")
					.values({
						provider,
						payment_id: paymentId,
						sale_external_id: saleExternalId,
						created_at: toDbTime(now),
					})
					.onConflict((conflict) => conflict.columns(["provider", "payment_id"]).doNothing())
					.execute();
			}),

		saleOfPayment: (provider, paymentIds) =>
			ctx.run("read a payment's sale", async () => {
				if (paymentIds.length === 0) return null;
				const rows = await db
					.selectFrom("refkit_billing_payment")
					.select(["payment_id", "sale_external_id"])
					.where("provider", "=", provider)
					.where("payment_id", "in", [...paymentIds])
					.execute();
				// The first id named wins (a payment intent before its charge).
				for (const id of paymentIds) {
					const row = rows.find((r) => r.payment_id === id);
					if (row !== undefined) return row.sale_external_id;
				}
				return null;
			}),

		paymentsOfSale: (provider, saleExternalId) =>
			ctx.run("read a sale's payments", async () => {
				const rows = await db
					.selectFrom("refkit_billing_payment")
					.select("payment_id")
					.where("provider", "=", provider)
					.where("sale_external_id", "=", saleExternalId)
					.execute();
				return rows.map((row) => row.payment_id);
			}),
	};
}
