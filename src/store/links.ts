import { type Kysely, sql } from "kysely";
import { RefkitError } from "../errors.js";
import type { StoreContext } from "./context.js";
import { containsIgnoringCase } from "./fragments.js";
import { USER_LINK_LOCK } from "./locks.js";
import { type Count, count, toDbTime, toLink } from "./rows.js";
import type { Database } from "./schema.js";
import type { LinkStore } from "./store.js";

/** Referral links (`refkit_link`). */
export function linkStore(ctx: StoreContext): LinkStore {
	const { db, dialect } = ctx;
	const links: LinkStore = {
		findLink: (identifier) =>
			ctx.run("read a link", async () => {
				const row = await ctx.visitorDb
					.selectFrom("refkit_link")
					.selectAll()
					.where("identifier", "=", identifier)
					.executeTakeFirst();
				return row ? toLink(row) : null;
			}),

		insertLink: (link, now) =>
			ctx.run("create a link", async () => {
				try {
					const row = await db
						.insertInto("refkit_link")
						.values({
							identifier: link.identifier,
							user_id: link.userId,
							target: link.target,
							program: link.program ?? null,
							disabled: dialect.bool(false),
							created_at: toDbTime(now),
							updated_at: toDbTime(now),
						})
						.returningAll()
						.executeTakeFirstOrThrow();
					return toLink(row);
				} catch (error) {
					if (!dialect.isUniqueViolation(error)) throw error;
					throw new RefkitError(
						"IDENTIFIER_TAKEN",
						`refkit: a link with the identifier "${link.identifier}" already exists.`,
						{ cause: error },
					);
				}
			}),

		userLink(userId, link, now) {
			const find = (on: Kysely<Database>) =>
				on
					.selectFrom("refkit_link")
					.selectAll()
					.where("user_id", "=", userId)
					.orderBy("disabled")
					.orderBy("created_at")
					.orderBy("id")
					.limit(1)
					.executeTakeFirst();
			return ctx.run("find or create a user's link", async () => {
				const existing = await find(db);
				if (existing) return toLink(existing);
				return ctx.transaction(async (tx) => {
					await dialect.lockName(tx.db, USER_LINK_LOCK, userId);
					const found = await find(tx.db);
					return found ? toLink(found) : linkStore(tx).insertLink({ ...link, userId }, now);
				});
			});
		},

		listLinks: (query) =>
			ctx.run("list links", async () => {
				let select = db.selectFrom("refkit_link").selectAll();
				if (query.userId !== undefined) select = select.where("user_id", "=", query.userId);
				if (query.disabled !== undefined)
					select = select.where("disabled", "=", dialect.bool(query.disabled));
				const { search } = query;
				if (search !== undefined) {
					select = select.where((eb) =>
						eb.or([containsIgnoringCase("identifier", search), containsIgnoringCase("user_id", search)]),
					);
				}
				const rows = await select.orderBy("id", "desc").limit(query.limit).offset(query.offset).execute();
				return rows.map(toLink);
			}),

		setLinkDisabled: (identifier, disabled, now) =>
			ctx.run("update a link", async () => {
				const row = await db
					.updateTable("refkit_link")
					.set({ disabled: dialect.bool(disabled), updated_at: toDbTime(now) })
					.where("identifier", "=", identifier)
					.returningAll()
					.executeTakeFirst();
				return row ? toLink(row) : null;
			}),

		countLinks: () =>
			ctx.run("count links", async () => {
				const row = await db
					.selectFrom("refkit_link")
					.select(sql<Count>`count(*)`.as("n"))
					.executeTakeFirstOrThrow();
				return count(row.n);
			}),

		linkOwners: (linkIds) =>
			ctx.run("read links' owners", async () => {
				const owners = new Map<number, string>();
				if (linkIds.length === 0) return owners;
				const rows = await db
					.selectFrom("refkit_link")
					.select(["id", "user_id"])
					.where(dialect.isAnyOf("id", linkIds))
					.where("user_id", "is not", null)
					.execute();
				for (const row of rows) owners.set(row.id, row.user_id as string);
				return owners;
			}),
	};
	return links;
}
