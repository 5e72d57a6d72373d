import { sql } from "kysely";
import type { StoreContext } from "./context.js";
import { toConversion, toDbTime } from "./rows.js";
import type { DeliveryStore } from "./store.js";

/** The outbox's deliveries: the delivery columns of `refkit_conversion`. */
export function deliveryStore(ctx: StoreContext): DeliveryStore {
	const { db } = ctx;
	return {
		takeDueDeliveries: (now, leaseUntil, limit) =>
			ctx.run("take conversions to deliver", async () => {
				const due = toDbTime(now);
				const rows = await db
					.updateTable("refkit_conversion")
					.set((eb) => ({
						next_delivery_at: toDbTime(leaseUntil),
						delivery_attempts: eb("delivery_attempts", "+", 1),
					}))
					.where("id", "in", (eb) =>
						eb
							.selectFrom("refkit_conversion")
							.select("id")
							.where("next_delivery_at", "<=", due)
							.orderBy("next_delivery_at")
							.limit(limit),
					)
					// Checked again on the row itself, so two workers never both take it (PostgreSQL re-reads a
					// row another transaction just updated before applying this condition).
					.where("next_delivery_at", "<=", due)
					.returningAll()
					.execute();
				return rows
					.map((row) => ({ conversion: toConversion(row), attempt: row.delivery_attempts }))
					.sort((a, b) => a.conversion.createdAt.getTime() - b.conversion.createdAt.getTime());
			}),

		markDelivered: (id, type, now) =>
			ctx.run("record a delivery", async () => {
				const at = toDbTime(now);
				await db
					.updateTable("refkit_conversion")
					.set({
						...(type === "conversion" ? { delivered_at: at } : { reversal_delivered_at: at }),
						delivery_attempts: 0,
						last_delivery_error: null,
						updated_at: at,
						// A reversal still to send has been due since it was made; without one, nothing is left to send.
						next_delivery_at: type === "conversion" ? sql<string | null>`reversed_at` : null,
					})
					.where("id", "=", id)
					.execute();
			}),

		markDeliveryFailed: (id, error, retryAt) =>
			ctx.run("record a failed delivery", async () => {
				await db
					.updateTable("refkit_conversion")
					.set({ next_delivery_at: toDbTime(retryAt), last_delivery_error: error })
					.where("id", "=", id)
					.execute();
			}),
	};
}
