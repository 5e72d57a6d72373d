import type { Kysely, Selectable } from "kysely";
import { isRefkitError, RefkitError } from "../errors.js";
import type { DialectName, HitWithLink, MigrationResult, ReferralLink } from "../types.js";
import { type DialectHelpers, dialectHelpers, fromDbTime, toDbTime } from "./dialect.js";
import { migrateToLatest } from "./migrate.js";
import type { OpenedDatabase } from "./open.js";
import type { Database, HitTable, LinkTable } from "./schema.js";
import type { HitQuery, LinkQuery, NewHit, NewLink, RefkitStore } from "./store.js";

function toLink(row: Selectable<LinkTable>): ReferralLink {
	return {
		id: row.id,
		identifier: row.identifier,
		userId: row.user_id,
		disabled: Boolean(row.disabled),
		target: row.target,
		createdAt: fromDbTime(row.created_at),
		updatedAt: fromDbTime(row.updated_at),
	};
}

function toHit(row: Selectable<HitTable> & { identifier: string }): HitWithLink {
	return {
		id: row.id,
		linkId: row.link_id,
		identifier: row.identifier,
		authenticated: Boolean(row.authenticated),
		userId: row.user_id,
		visitorId: row.visitor_id,
		ip: row.ip,
		userAgent: row.user_agent,
		referer: row.referer,
		next: row.next,
		confirmedAt: row.confirmed_at === null ? null : fromDbTime(row.confirmed_at),
		createdAt: fromDbTime(row.created_at),
		updatedAt: fromDbTime(row.updated_at),
	};
}

/** The store on Kysely: SQLite (better-sqlite3) and PostgreSQL (pg) alike. */
export class KyselyStore implements RefkitStore {
	readonly dialect: DialectName;
	readonly #db: Kysely<Database>;
	readonly #owned: boolean;
	readonly #sql: DialectHelpers;

	constructor(opened: OpenedDatabase) {
		this.#db = opened.db;
		this.#owned = opened.owned;
		this.dialect = opened.dialect;
		this.#sql = dialectHelpers(opened.dialect);
	}

	/** Runs a query, turning the database's errors into {@link RefkitError}s a caller can act on. */
	async #run<T>(what: string, query: () => Promise<T>): Promise<T> {
		try {
			return await query();
		} catch (error) {
			if (isRefkitError(error)) throw error;
			if (this.#sql.isMissingTable(error)) {
				throw new RefkitError(
					"NOT_MIGRATED",
					"refkit: the database has no refkit tables yet. Run `await refkit.migrate()` at start-up, or `npx refkit migrate`.",
					{ cause: error },
				);
			}
			const detail = error instanceof Error ? error.message : String(error);
			throw new RefkitError("STORE_UNAVAILABLE", `refkit: could not ${what}: ${detail}`, { cause: error });
		}
	}

	migrate(): Promise<MigrationResult[]> {
		return this.#run("migrate the database", () =>
			migrateToLatest(this.#db as Kysely<unknown>, this.dialect),
		);
	}

	findLink(identifier: string): Promise<ReferralLink | null> {
		return this.#run("read a link", async () => {
			const row = await this.#db
				.selectFrom("refkit_link")
				.selectAll()
				.where("identifier", "=", identifier)
				.executeTakeFirst();
			return row ? toLink(row) : null;
		});
	}

	insertLink(link: NewLink, now: Date): Promise<ReferralLink> {
		return this.#run("create a link", async () => {
			try {
				const row = await this.#db
					.insertInto("refkit_link")
					.values({
						identifier: link.identifier,
						user_id: link.userId,
						target: link.target,
						disabled: this.#sql.bool(false),
						created_at: toDbTime(now),
						updated_at: toDbTime(now),
					})
					.returningAll()
					.executeTakeFirstOrThrow();
				return toLink(row);
			} catch (error) {
				if (!this.#sql.isUniqueViolation(error)) throw error;
				throw new RefkitError(
					"IDENTIFIER_TAKEN",
					`refkit: a link with the identifier "${link.identifier}" already exists.`,
					{ cause: error },
				);
			}
		});
	}

	listLinks(query: LinkQuery): Promise<ReferralLink[]> {
		return this.#run("list links", async () => {
			let select = this.#db.selectFrom("refkit_link").selectAll();
			if (query.userId !== undefined) select = select.where("user_id", "=", query.userId);
			if (query.disabled !== undefined)
				select = select.where("disabled", "=", this.#sql.bool(query.disabled));
			const rows = await select.orderBy("id", "desc").limit(query.limit).offset(query.offset).execute();
			return rows.map(toLink);
		});
	}

	setLinkDisabled(identifier: string, disabled: boolean, now: Date): Promise<ReferralLink | null> {
		return this.#run("update a link", async () => {
			const row = await this.#db
				.updateTable("refkit_link")
				.set({ disabled: this.#sql.bool(disabled), updated_at: toDbTime(now) })
				.where("identifier", "=", identifier)
				.returningAll()
				.executeTakeFirst();
			return row ? toLink(row) : null;
		});
	}

	insertHit(hit: NewHit): Promise<void> {
		return this.#run("record a hit", async () => {
			const at = toDbTime(hit.createdAt);
			await this.#db
				.insertInto("refkit_hit")
				.values({
					id: hit.id,
					link_id: hit.linkId,
					authenticated: this.#sql.bool(hit.authenticated),
					user_id: hit.userId,
					visitor_id: hit.visitorId,
					ip: hit.ip,
					user_agent: hit.userAgent,
					referer: hit.referer,
					next: hit.next,
					confirmed_at: null,
					created_at: at,
					updated_at: at,
				})
				.execute();
		});
	}

	claimVisitorHits(visitorId: string, userId: string, now: Date): Promise<number> {
		return this.#run("claim hits", async () => {
			const result = await this.#db
				.updateTable("refkit_hit")
				.set({ user_id: userId, updated_at: toDbTime(now) })
				.where("visitor_id", "=", visitorId)
				.where("user_id", "is", null)
				.executeTakeFirst();
			return Number(result.numUpdatedRows);
		});
	}

	listHits(query: HitQuery): Promise<HitWithLink[]> {
		return this.#run("list hits", async () => {
			let select = this.#db
				.selectFrom("refkit_hit")
				.innerJoin("refkit_link", "refkit_link.id", "refkit_hit.link_id")
				.selectAll("refkit_hit")
				.select("refkit_link.identifier");
			if (query.identifier !== undefined)
				select = select.where("refkit_link.identifier", "=", query.identifier);
			if (query.userId !== undefined) select = select.where("refkit_hit.user_id", "=", query.userId);
			const rows = await select
				.orderBy("refkit_hit.created_at", "desc")
				.orderBy("refkit_hit.id")
				.limit(query.limit)
				.offset(query.offset)
				.execute();
			return rows.map(toHit);
		});
	}

	async close(): Promise<void> {
		if (this.#owned) await this.#db.destroy();
	}
}
