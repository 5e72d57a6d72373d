import { sql } from "kysely";
import type { StoreContext } from "./context.js";
import { newestFirst } from "./fragments.js";
import { toConversion, toDbTime } from "./rows.js";
import type { ConversionStore } from "./store.js";

/** Conversions (`refkit_conversion`), one per (referred user, goal). */
export function conversionStore(ctx: StoreContext): ConversionStore {
	const { db } = ctx;
	return {
		findConversion: (referredUserId, goal) =>
			ctx.run("read a conversion", async () => {
				const row = await db
					.selectFrom("refkit_conversion")
					.selectAll()
					.where("referred_user_id", "=", referredUserId)
					.where("goal", "=", goal)
					.executeTakeFirst();
				return row ? toConversion(row) : null;
			}),

		getConversion: (id) =>
			ctx.run("read a conversion", async () => {
				const row = await db
					.selectFrom("refkit_conversion")
					.selectAll()
					.where("id", "=", id)
					.executeTakeFirst();
				return row ? toConversion(row) : null;
			}),

		insertConversion: (conversion) =>
			ctx.run("record a conversion", async () => {
				const at = toDbTime(conversion.createdAt);
				const row = await db
					.insertInto("refkit_conversion")
					.values({
						id: conversion.id,
						goal: conversion.goal,
						referred_user_id: conversion.referredUserId,
						referrer_user_id: conversion.referrerUserId,
						hit_id: conversion.hitId,
						link_id: conversion.linkId,
						value: conversion.value,
						created_at: at,
						updated_at: at,
						reversed_at: null,
						reversal_reason: null,
						delivered_at: null,
						reversal_delivered_at: null,
						next_delivery_at: at,
						last_delivery_error: null,
					})
					// A concurrent confirm() that got there first: PostgreSQL waits for it to commit or roll back.
					.onConflict((conflict) => conflict.columns(["referred_user_id", "goal"]).doNothing())
					.returningAll()
					.executeTakeFirst();
				return row ? toConversion(row) : null;
			}),

		reverseConversion: (id, reason, at) =>
			ctx.run("reverse a conversion", async () => {
				const now = toDbTime(at);
				const row = await db
					.updateTable("refkit_conversion")
					.set({
						reversed_at: now,
						reversal_reason: reason,
						updated_at: now,
						// Due now, unless a delivery is already scheduled (it sends the reversal after the conversion).
						next_delivery_at: sql<string>`coalesce(next_delivery_at, ${now})`,
					})
					.where("id", "=", id)
					.where("reversed_at", "is", null)
					.returningAll()
					.executeTakeFirst();
				return row ? toConversion(row) : null;
			}),

		listConversions: (query) =>
			ctx.run("list conversions", async () => {
				let select = db.selectFrom("refkit_conversion").selectAll();
				if (query.referrerUserId !== undefined)
					select = select.where("referrer_user_id", "=", query.referrerUserId);
				if (query.referredUserId !== undefined)
					select = select.where("referred_user_id", "=", query.referredUserId);
				if (query.goal !== undefined) select = select.where("goal", "=", query.goal);
				if (query.status !== undefined)
					select = select.where("reversed_at", query.status === "active" ? "is" : "is not", null);
				const { identifier } = query;
				if (identifier !== undefined) {
					select = select.where("link_id", "=", (eb) =>
						eb
							.selectFrom("refkit_link")
							.select("refkit_link.id")
							.where("refkit_link.identifier", "=", identifier),
					);
				}
				if (query.from !== undefined) select = select.where("created_at", ">=", toDbTime(query.from));
				if (query.to !== undefined) select = select.where("created_at", "<", toDbTime(query.to));
				const rows = await newestFirst(select, query).execute();
				return rows.map(toConversion);
			}),
	};
}
