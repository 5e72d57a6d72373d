import type { Expression, ExpressionBuilder, SqlBool } from "kysely";
import type { StoreContext } from "./context.js";
import { containsIgnoringCase, olderThan } from "./fragments.js";
import { USER_CODE_LOCK } from "./locks.js";
import { hitRow, toDbTime, toHit } from "./rows.js";
import type { Database } from "./schema.js";
import type { HitStore, NewHit } from "./store.js";

/**
 * Inserts hits at once, in one multi-row INSERT, skipping any already stored: atomic by itself, and on SQLite
 * the cheapest way by far. In a transaction of several statements SQLite keeps a statement journal for each
 * statement that fires a trigger, which cost a hit about 10 µs more (the trigger of migration 0005 that
 * forgets summaries), half as much again as the hit's own INSERT.
 */
export function insertHits(ctx: StoreContext, hits: NewHit[]): Promise<void> {
	return ctx.run(hits.length === 1 ? "record a hit" : `record ${hits.length} hits`, async () => {
		await ctx.visitorDb
			.insertInto("refkit_hit")
			.values(hits.map((hit) => hitRow(hit, ctx.dialect)))
			// Idempotent: a batch written again after a commit that timed out (or whose answer was lost)
			// adds nothing twice. A hit's id is a fresh UUIDv7, so no other hit can have it.
			.onConflict((conflict) => conflict.column("id").doNothing())
			.execute();
	});
}

/**
 * Hits (`refkit_hit`). `record` writes a visitor's hit by group commit (see `HitStore.recordHit`); without it
 * (in a transaction), a hit is inserted at once.
 */
export function hitStore(
	ctx: StoreContext,
	record?: (hit: NewHit, deferred?: () => void) => Promise<void>,
): HitStore {
	const { db, dialect } = ctx;
	/** Whether the user has a hit that `where` also accepts. */
	const userHas = (
		what: string,
		userId: string,
		where: (eb: ExpressionBuilder<Database, "refkit_hit">) => Expression<SqlBool>,
	) =>
		ctx.run(what, async () => {
			const row = await db
				.selectFrom("refkit_hit")
				.select("id")
				.where("user_id", "=", userId)
				.where(where)
				.limit(1)
				.executeTakeFirst();
			return row !== undefined;
		});
	const hits: HitStore = {
		insertHit: (hit) => insertHits(ctx, [hit]),

		recordHit: (hit, deferred) => (record === undefined ? insertHits(ctx, [hit]) : record(hit, deferred)),

		claimVisitorHits: (visitorId, userId, now) =>
			ctx.run("claim hits", async () => {
				const result = await ctx.visitorDb
					.updateTable("refkit_hit")
					.set({ user_id: userId, updated_at: toDbTime(now) })
					.where("visitor_id", "=", visitorId)
					.where("user_id", "is", null)
					.executeTakeFirst();
				return Number(result.numUpdatedRows);
			}),

		listHits: (query) =>
			ctx.run("list hits", async () => {
				let select = db
					.selectFrom("refkit_hit")
					.innerJoin("refkit_link", "refkit_link.id", "refkit_hit.link_id")
					.selectAll("refkit_hit")
					.select("refkit_link.identifier");
				const { identifier } = query;
				if (identifier !== undefined) {
					// The link's id first, so that the planner reads that link's hits by time (PostgreSQL would
					// otherwise join first and sort all of them).
					select = select.where("refkit_hit.link_id", "=", (eb) =>
						eb.selectFrom("refkit_link as link").select("link.id").where("link.identifier", "=", identifier),
					);
				}
				if (query.userId !== undefined) select = select.where("refkit_hit.user_id", "=", query.userId);
				if (query.referrerUserId !== undefined)
					select = select.where("refkit_link.user_id", "=", query.referrerUserId);
				if (query.authenticated !== undefined)
					select = select.where("refkit_hit.authenticated", "=", dialect.bool(query.authenticated));
				if (query.from !== undefined)
					select = select.where("refkit_hit.created_at", ">=", toDbTime(query.from));
				if (query.to !== undefined) select = select.where("refkit_hit.created_at", "<", toDbTime(query.to));
				const { search, after } = query;
				if (search !== undefined) {
					select = select.where((eb) =>
						eb.or(
							[
								"refkit_hit.user_id",
								"refkit_hit.visitor_id",
								"refkit_hit.ip",
								"refkit_hit.user_agent",
								"refkit_hit.referer",
								"refkit_link.identifier",
							].map((column) => containsIgnoringCase(column, search)),
						),
					);
				}
				if (after !== undefined)
					select = select.where(olderThan("refkit_hit.created_at", "refkit_hit.id", after));
				const rows = await select
					.orderBy("refkit_hit.created_at", "desc")
					.orderBy("refkit_hit.id", "desc")
					.limit(query.limit)
					.offset(query.offset)
					.execute();
				return rows.map((row) => ({ ...toHit(row), identifier: row.identifier }));
			}),

		hasRecentHit: (linkId, by, since) =>
			ctx.run("look for a recent hit", async () => {
				let select = ctx.visitorDb
					.selectFrom("refkit_hit")
					.select("id")
					.where("link_id", "=", linkId)
					.where("created_at", ">=", toDbTime(since));
				select =
					by.userId !== null
						? select.where("user_id", "=", by.userId)
						: select.where("visitor_id", "=", by.visitorId);
				return (await select.limit(1).executeTakeFirst()) !== undefined;
			}),

		hasHitOfSource: (userId, source) => userHas("read hits", userId, (eb) => eb("source", "=", source)),

		insertCodeHit: (hit) =>
			ctx.run("apply a code", () =>
				ctx.transaction(async (tx) => {
					await dialect.lockName(tx.db, USER_CODE_LOCK, hit.userId);
					const bound = hitStore(tx);
					if (await bound.hasHitOfSource(hit.userId, "code")) return false;
					await bound.insertHit(hit);
					return true;
				}),
			),

		attributableHits: (userId, window, order, limit) =>
			ctx.run("read a user's hits", async () => {
				const direction = order === "first" ? "asc" : "desc";
				const rows = await db
					.selectFrom("refkit_hit")
					.innerJoin("refkit_link", "refkit_link.id", "refkit_hit.link_id")
					.selectAll("refkit_hit")
					.select("refkit_link.user_id as link_user_id")
					.where("refkit_hit.user_id", "=", userId)
					.where("refkit_hit.created_at", ">=", toDbTime(window.from))
					.where("refkit_hit.created_at", "<=", toDbTime(window.to))
					.orderBy("refkit_hit.created_at", direction)
					.orderBy("refkit_hit.id", direction)
					.limit(limit)
					.execute();
				return rows.map((row) => ({
					...toHit(row),
					linkUserId: row.link_user_id,
					browserId: row.browser_id ?? row.visitor_id,
				}));
			}),

		hasHitsBefore: (userId, before) =>
			userHas("read a user's hits", userId, (eb) => eb("created_at", "<", toDbTime(before))),

		browserUsedBy: (browserId, userId) =>
			// A hit without a browser id came from the browser its visitor id names.
			userHas("read a browser's hits", userId, (eb) =>
				eb.or([
					eb("browser_id", "=", browserId),
					eb.and([eb("browser_id", "is", null), eb("visitor_id", "=", browserId)]),
				]),
			),

		visitorUsedBy: (visitorId, userId) =>
			userHas("read a visitor's hits", userId, (eb) => eb("visitor_id", "=", visitorId)),

		confirmHit: (hitId, at) =>
			ctx.run("confirm a hit", async () => {
				await db
					.updateTable("refkit_hit")
					.set({ confirmed_at: toDbTime(at), updated_at: toDbTime(at) })
					.where("id", "=", hitId)
					.where("confirmed_at", "is", null)
					.execute();
			}),
	};
	return hits;
}
