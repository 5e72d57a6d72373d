import { type RawBuilder, type Selectable, sql } from "kysely";
import type { StoreContext } from "./context.js";
import { type Count, count, toConversion, toDbTime, toHit, toLink } from "./rows.js";
import type { HitTable } from "./schema.js";
import type { ErasedHits, PrivacyStore } from "./store.js";

/** Whether no conversion credits the hit whose id is `column`. */
function uncredited(column: string): RawBuilder<boolean> {
	return sql<boolean>`not exists (select 1 from refkit_conversion where refkit_conversion.hit_id = ${sql.ref(column)})`;
}

/** Hits that may be pruned: created before `before`, never confirmed, credited by no conversion. */
function prunable(column: (name: string) => string, before: Date): RawBuilder<boolean> {
	return sql<boolean>`${sql.ref(column("created_at"))} < ${toDbTime(before)} and ${sql.ref(column("confirmed_at"))} is null and ${uncredited(column("id"))}`;
}

/**
 * A person's hits: `own` are those with their user id; `visitor` those without a user whose visitor id is
 * on one of their own hits (the same browser, anonymous).
 */
function hitsOf(userId: string, whose: "own" | "visitor"): RawBuilder<boolean> {
	if (whose === "own") return sql<boolean>`refkit_hit.user_id = ${userId}`;
	return sql<boolean>`refkit_hit.user_id is null and refkit_hit.visitor_id in (
		select mine.visitor_id from refkit_hit as mine where mine.user_id = ${userId} and mine.visitor_id is not null
	)`;
}

/** What an erased user's conversions keep of a reversal's reason, which is free text. */
const ERASED_REASON = "erased";

/** Pruning old hits, and a person's data: read for an export, erased on request. */
export function privacyStore(ctx: StoreContext): PrivacyStore {
	const { db, dialect } = ctx;

	/**
	 * The distinct ids in `column` of the user's own hits, sorted: their browser ids, or their visitor ids
	 * (anonymous visits they claimed).
	 */
	const idsOf = async (userId: string, column: "browser_id" | "visitor_id"): Promise<string[]> => {
		const rows = await db
			.selectFrom("refkit_hit")
			.select(column)
			.where("user_id", "=", userId)
			.where(column, "is not", null)
			.groupBy(column)
			.orderBy(dialect.binaryOrder(column))
			.execute();
		return rows.map((row) => row[column] as string);
	};

	return {
		countPrunableHits: (before) =>
			ctx.run("count hits to prune", async () => {
				const row = await db
					.selectFrom("refkit_hit")
					.select(sql<Count>`count(*)`.as("n"))
					.where(prunable((name) => `refkit_hit.${name}`, before))
					.executeTakeFirstOrThrow();
				return count(row.n);
			}),

		pruneHits: (before, limit) =>
			ctx.run("prune hits", async () => {
				const result = await db
					.deleteFrom("refkit_hit")
					.where("id", "in", (eb) =>
						eb
							.selectFrom("refkit_hit as old")
							.select("old.id")
							.where(prunable((name) => `old.${name}`, before))
							.orderBy("old.created_at")
							.limit(limit),
					)
					// Again on the row itself: a hit confirmed since the batch was chosen stays (PostgreSQL re-reads
					// a row another transaction just updated before deleting it).
					.where("confirmed_at", "is", null)
					.where(uncredited("refkit_hit.id"))
					.executeTakeFirst();
				return Number(result.numDeletedRows);
			}),

		readPersonData: (userId) =>
			ctx.run("read a user's data", async () => {
				const hits = (whose: "own" | "visitor") =>
					db
						.selectFrom("refkit_hit")
						.innerJoin("refkit_link", "refkit_link.id", "refkit_hit.link_id")
						.selectAll("refkit_hit")
						.select("refkit_link.identifier")
						.where(hitsOf(userId, whose))
						.orderBy("refkit_hit.created_at")
						.orderBy("refkit_hit.id")
						.execute();
				const conversions = (column: "referred_user_id" | "referrer_user_id") =>
					db
						.selectFrom("refkit_conversion")
						.selectAll()
						.where(column, "=", userId)
						.orderBy("created_at")
						.orderBy("id")
						.execute();
				const visitorIds = await idsOf(userId, "visitor_id");
				const browserIds = await idsOf(userId, "browser_id");
				const links = await db
					.selectFrom("refkit_link")
					.selectAll()
					.where("user_id", "=", userId)
					.orderBy("created_at")
					.orderBy("id")
					.execute();
				const toHitWithLink = (row: Selectable<HitTable> & { identifier: string }) => ({
					...toHit(row),
					identifier: row.identifier,
				});
				return {
					visitorIds,
					browserIds,
					links: links.map(toLink),
					hits: (await hits("own")).map(toHitWithLink),
					hitsAsVisitor: (await hits("visitor")).map(toHitWithLink),
					conversionsAsReferred: (await conversions("referred_user_id")).map(toConversion),
					conversionsAsReferrer: (await conversions("referrer_user_id")).map(toConversion),
				};
			}),

		eraseHitsOf: (userId, now) =>
			ctx.run("erase a user's hits", async () => {
				const erased: ErasedHits = { deleted: 0, anonymised: 0 };
				// Their browsers' ids go from every hit, so that nothing left ties those browsers to them: the
				// browser cookies' ids, and the visitor ids that name a browser until it has one.
				const browserIds = [...(await idsOf(userId, "browser_id")), ...(await idsOf(userId, "visitor_id"))];
				// The anonymous hits first: they are found through the visitor ids on the person's own hits.
				for (const whose of ["visitor", "own"] as const) {
					const anonymised = await db
						.updateTable("refkit_hit")
						.set({
							user_id: null,
							visitor_id: null,
							browser_id: null,
							ip: null,
							user_agent: null,
							referer: null,
							next: null,
							updated_at: toDbTime(now),
						})
						.where(hitsOf(userId, whose))
						.where((eb) => eb.not(uncredited("refkit_hit.id")))
						.executeTakeFirst();
					const deleted = await db
						.deleteFrom("refkit_hit")
						.where(hitsOf(userId, whose))
						.where(uncredited("refkit_hit.id"))
						.executeTakeFirst();
					erased.anonymised += Number(anonymised.numUpdatedRows);
					erased.deleted += Number(deleted.numDeletedRows);
				}
				if (browserIds.length > 0) {
					await db
						.updateTable("refkit_hit")
						.set({ browser_id: null })
						.where("browser_id", "in", browserIds)
						.execute();
				}
				return erased;
			}),

		detachLinksOf: (userId, now, newIdentifier) =>
			ctx.run("detach a user's links", async () => {
				const links = await db
					.selectFrom("refkit_link")
					.select(["id", "identifier"])
					.where("user_id", "=", userId)
					.execute();
				for (const link of links) {
					await db
						.updateTable("refkit_link")
						.set({
							user_id: null,
							identifier: newIdentifier(),
							disabled: dialect.bool(true),
							updated_at: toDbTime(now),
						})
						.where("id", "=", link.id)
						.execute();
				}
				return links.map((link) => link.identifier);
			}),

		pseudonymiseConversionsOf: (userId, pseudonym, now) =>
			ctx.run("anonymise a user's conversions", async () => {
				const result = await db
					.updateTable("refkit_conversion")
					.set({
						referred_user_id: sql<string>`case when referred_user_id = ${userId} then ${pseudonym} else referred_user_id end`,
						referrer_user_id: sql<
							string | null
						>`case when referrer_user_id = ${userId} then null else referrer_user_id end`,
						// Free text that may name the person: a reversal's reason, a receiver's answer to a delivery.
						reversal_reason: sql<
							string | null
						>`case when reversal_reason is null then null else ${ERASED_REASON} end`,
						last_delivery_error: null,
						updated_at: toDbTime(now),
					})
					.where((eb) => eb.or([eb("referred_user_id", "=", userId), eb("referrer_user_id", "=", userId)]))
					.executeTakeFirst();
				return Number(result.numUpdatedRows);
			}),
	};
}
