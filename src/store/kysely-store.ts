import { type Kysely, type RawBuilder, type Selectable, sql } from "kysely";
import { isRefkitError, RefkitError } from "../errors.js";
import type { Conversion, DialectName, Hit, HitWithLink, MigrationResult, ReferralLink } from "../types.js";
import {
	containsIgnoringCase,
	type DialectHelpers,
	dialectHelpers,
	fromDbTime,
	toDbTime,
} from "./dialect.js";
import { GroupCommit, MAX_QUEUED_HITS } from "./group-commit.js";
import { migrateToLatest } from "./migrate.js";
import type { OpenedDatabase } from "./open.js";
import type { ConversionTable, Database, HitTable, LinkTable } from "./schema.js";
import type {
	CandidateHit,
	ConversionQuery,
	CountedRows,
	DaySummarizer,
	DaySummary,
	DueDelivery,
	ErasedHits,
	HitQuery,
	LinkQuery,
	NewConversion,
	NewHit,
	NewLink,
	PersonData,
	RefkitStore,
	RowPosition,
	StatsQuery,
	WeekSummary,
} from "./store.js";
import { type Count, count, SummaryStore } from "./summaries.js";

/**
 * Rows older than `after` in a listing ordered by (`created_at`, `id`) descending: the row value
 * comparison `(created_at, id) < (at, id)`, written so that both databases use an index on `created_at`.
 */
function olderThan(createdAt: string, id: string, after: RowPosition) {
	const at = toDbTime(after.createdAt);
	return sql<boolean>`${sql.ref(createdAt)} <= ${at} and (${sql.ref(createdAt)} < ${at} or ${sql.ref(id)} < ${after.id})`;
}

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

function toHit(row: Selectable<HitTable>): Hit {
	return {
		id: row.id,
		linkId: row.link_id,
		source: row.source === "code" ? "code" : "link",
		authenticated: Boolean(row.authenticated),
		userId: row.user_id,
		visitorId: row.visitor_id,
		ip: row.ip,
		userAgent: row.user_agent,
		referer: row.referer,
		next: row.next,
		confirmedAt: optionalTime(row.confirmed_at),
		createdAt: fromDbTime(row.created_at),
		updatedAt: fromDbTime(row.updated_at),
	};
}

function optionalTime(value: Date | string | null): Date | null {
	return value === null ? null : fromDbTime(value);
}

function toConversion(row: Selectable<ConversionTable>): Conversion {
	return {
		id: row.id,
		goal: row.goal,
		referredUserId: row.referred_user_id,
		referrerUserId: row.referrer_user_id,
		hitId: row.hit_id,
		linkId: row.link_id,
		value: row.value === null ? null : Number(row.value),
		createdAt: fromDbTime(row.created_at),
		reversedAt: optionalTime(row.reversed_at),
		reversalReason: row.reversal_reason,
		deliveredAt: optionalTime(row.delivered_at),
		reversalDeliveredAt: optionalTime(row.reversal_delivered_at),
	};
}

/** A hit as a row of `refkit_hit`. */
function hitRow(hit: NewHit, helpers: DialectHelpers) {
	const at = toDbTime(hit.createdAt);
	return {
		id: hit.id,
		link_id: hit.linkId,
		source: hit.source,
		authenticated: helpers.bool(hit.authenticated),
		user_id: hit.userId,
		visitor_id: hit.visitorId,
		// An anonymous hit's browser id is most often its visitor id: stored once (see browserUsedBy).
		browser_id: hit.browserId === hit.visitorId ? null : (hit.browserId ?? null),
		ip: hit.ip,
		user_agent: hit.userAgent,
		referer: hit.referer,
		next: hit.next,
		confirmed_at: null,
		created_at: at,
		updated_at: at,
	};
}

/**
 * The first keys of the PostgreSQL advisory locks that serialise, per user, what must happen once: making
 * the user's link ({@link KyselyStore.userLink}) and applying their one code ({@link KyselyStore.insertCodeHit}).
 * SQLite's transactions take the write lock at once, which serialises them already.
 */
const USER_LINK_LOCK = 0x72666c6b;
const USER_CODE_LOCK = 0x72666364;

/** What an erased user's conversions keep of a reversal's reason, which is free text. */
const ERASED_REASON = "erased";

/** The store on Kysely: SQLite (better-sqlite3) and PostgreSQL (pg) alike. */
export class KyselyStore implements RefkitStore {
	readonly dialect: DialectName;
	readonly #db: Kysely<Database>;
	/** What the queries of visitors' requests run on (see {@link OpenedDatabase.visitorDb}). */
	readonly #visitorDb: Kysely<Database>;
	readonly #owned: boolean;
	readonly #close: () => Promise<void>;
	readonly #sql: DialectHelpers;
	readonly #inTransaction: boolean;
	/** Visitors' hits, written a batch per statement: see {@link GroupCommit}. */
	readonly #hits: GroupCommit<NewHit>;
	/** The summaries of `stats()`: see {@link SummaryStore}. */
	readonly #summaries: SummaryStore;

	/**
	 * `onHitsFailing` is told when visitors' hits start failing to be written for want of the database (they
	 * wait and are written again: see {@link GroupCommit}), once until a write succeeds again.
	 */
	constructor(opened: OpenedDatabase, inTransaction = false, onHitsFailing?: (error: unknown) => void) {
		this.#db = opened.db;
		this.#visitorDb = opened.visitorDb ?? opened.db;
		this.#owned = opened.owned;
		this.#close = opened.close ?? (() => opened.db.destroy());
		this.dialect = opened.dialect;
		this.#sql = dialectHelpers(opened.dialect);
		this.#inTransaction = inTransaction;
		this.#summaries = new SummaryStore({
			db: this.#db,
			dialect: this.dialect,
			helpers: this.#sql,
			transaction: (work) => this.transaction((_store, tx) => work(tx as Kysely<Database>)),
		});
		// 500 rows of 13 columns stay far below both databases' limits on bound parameters.
		this.#hits = new GroupCommit((hits) => this.#insertHits(hits), {
			maxBatch: 500,
			maxQueued: MAX_QUEUED_HITS,
			// #insertHits wraps the database's error in a RefkitError: judge the database's own. Only an error
			// saying the database is away is waited out; any other is one hit's, found by writing one by one.
			isItemError: (error) => !this.#sql.isUnavailable(isRefkitError(error) ? error.cause : error),
			onFailing: onHitsFailing,
		});
	}

	/** A database error as a {@link RefkitError} a caller can act on. */
	#refkitError(what: string, error: unknown): RefkitError {
		if (isRefkitError(error)) return error;
		if (this.#sql.isMissingTable(error)) {
			return new RefkitError(
				"NOT_MIGRATED",
				"refkit: the database has no refkit tables yet (or not the newest). Run `await refkit.migrate()` at start-up, or `npx refkit migrate`.",
				{ cause: error },
			);
		}
		const detail = error instanceof Error ? error.message : String(error);
		return new RefkitError("STORE_UNAVAILABLE", `refkit: could not ${what}: ${detail}`, { cause: error });
	}

	/** Runs a query, turning the database's errors into {@link RefkitError}s. */
	async #run<T>(what: string, query: () => Promise<T>): Promise<T> {
		try {
			return await query();
		} catch (error) {
			throw this.#refkitError(what, error);
		}
	}

	async transaction<T>(work: (store: RefkitStore, db: Kysely<unknown>) => Promise<T>): Promise<T> {
		if (this.#inTransaction) return work(this, this.#db as Kysely<unknown>);
		const bound = (db: Kysely<Database>) =>
			new KyselyStore({ db, dialect: this.dialect, owned: false }, true);
		// Errors thrown by `work` (a reward's, say) reach the caller as they are; the database's become RefkitErrors.
		let workFailed = false;
		const run = async (db: Kysely<Database>) => {
			try {
				return await work(bound(db), db as Kysely<unknown>);
			} catch (error) {
				workFailed = true;
				throw error;
			}
		};
		try {
			if (this.dialect === "postgres") return await this.#db.transaction().execute(run);
			return await this.#db.connection().execute(async (connection) => {
				await sql`begin immediate`.execute(connection);
				let result: T;
				try {
					result = await run(connection);
				} catch (error) {
					await sql`rollback`.execute(connection);
					throw error;
				}
				await sql`commit`.execute(connection);
				return result;
			});
		} catch (error) {
			if (workFailed) throw error;
			throw this.#refkitError("run a transaction", error);
		}
	}

	migrate(): Promise<MigrationResult[]> {
		return this.#run("migrate the database", () =>
			migrateToLatest(this.#db as Kysely<unknown>, this.dialect),
		);
	}

	findLink(identifier: string): Promise<ReferralLink | null> {
		return this.#run("read a link", async () => {
			const row = await this.#visitorDb
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

	userLink(userId: string, link: NewLink, now: Date): Promise<ReferralLink> {
		const find = (db: Kysely<Database>) =>
			db
				.selectFrom("refkit_link")
				.selectAll()
				.where("user_id", "=", userId)
				.orderBy("disabled")
				.orderBy("created_at")
				.orderBy("id")
				.limit(1)
				.executeTakeFirst();
		return this.#run("find or create a user's link", async () => {
			const existing = await find(this.#db);
			if (existing) return toLink(existing);
			return this.transaction(async (store, tx) => {
				const db = tx as Kysely<Database>;
				await this.#lockUser(db, USER_LINK_LOCK, userId);
				const found = await find(db);
				return found ? toLink(found) : store.insertLink({ ...link, userId }, now);
			});
		});
	}

	listLinks(query: LinkQuery): Promise<ReferralLink[]> {
		return this.#run("list links", async () => {
			let select = this.#db.selectFrom("refkit_link").selectAll();
			if (query.userId !== undefined) select = select.where("user_id", "=", query.userId);
			if (query.disabled !== undefined)
				select = select.where("disabled", "=", this.#sql.bool(query.disabled));
			const { search } = query;
			if (search !== undefined) {
				select = select.where((eb) =>
					eb.or([containsIgnoringCase("identifier", search), containsIgnoringCase("user_id", search)]),
				);
			}
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
		return this.#insertHits([hit]);
	}

	recordHit(hit: NewHit, deferred?: () => void): Promise<void> {
		return this.#inTransaction ? this.insertHit(hit) : this.#hits.add(hit, deferred);
	}

	/**
	 * Inserts hits at once, in one multi-row INSERT, skipping any already stored: atomic by itself, and on SQLite the cheapest way by far. In
	 * a transaction of several statements SQLite keeps a statement journal for each statement that fires a
	 * trigger, which cost a hit about 10 µs more (the trigger of migration 0005 that forgets summaries), half as
	 * much again as the hit's own INSERT.
	 */
	#insertHits(hits: NewHit[]): Promise<void> {
		return this.#run(hits.length === 1 ? "record a hit" : `record ${hits.length} hits`, async () => {
			await this.#visitorDb
				.insertInto("refkit_hit")
				.values(hits.map((hit) => hitRow(hit, this.#sql)))
				// Idempotent: a batch written again after a commit that timed out (or whose answer was lost)
				// adds nothing twice. A hit's id is a fresh UUIDv7, so no other hit can have it.
				.onConflict((conflict) => conflict.column("id").doNothing())
				.execute();
		});
	}

	claimVisitorHits(visitorId: string, userId: string, now: Date): Promise<number> {
		return this.#run("claim hits", async () => {
			const result = await this.#visitorDb
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
				select = select.where("refkit_hit.authenticated", "=", this.#sql.bool(query.authenticated));
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
		});
	}

	hasRecentHit(
		linkId: number,
		by: { visitorId: string | null; userId: string | null },
		since: Date,
	): Promise<boolean> {
		return this.#run("look for a recent hit", async () => {
			let select = this.#visitorDb
				.selectFrom("refkit_hit")
				.select("id")
				.where("link_id", "=", linkId)
				.where("created_at", ">=", toDbTime(since));
			select =
				by.userId !== null
					? select.where("user_id", "=", by.userId)
					: select.where("visitor_id", "=", by.visitorId);
			return (await select.limit(1).executeTakeFirst()) !== undefined;
		});
	}

	insertCodeHit(hit: NewHit & { userId: string }): Promise<boolean> {
		return this.#run("apply a code", () =>
			this.transaction(async (store, tx) => {
				await this.#lockUser(tx as Kysely<Database>, USER_CODE_LOCK, hit.userId);
				if (await store.hasHitOfSource(hit.userId, "code")) return false;
				await store.insertHit(hit);
				return true;
			}),
		);
	}

	/** Within a transaction, waits for the user's other transactions under `key` (PostgreSQL; see above). */
	async #lockUser(db: Kysely<Database>, key: number, userId: string): Promise<void> {
		if (this.dialect !== "postgres") return;
		await sql`select pg_advisory_xact_lock(${key}, hashtext(${userId}))`.execute(db);
	}

	hasHitOfSource(userId: string, source: Hit["source"]): Promise<boolean> {
		return this.#run("read hits", async () => {
			const row = await this.#db
				.selectFrom("refkit_hit")
				.select("id")
				.where("user_id", "=", userId)
				.where("source", "=", source)
				.limit(1)
				.executeTakeFirst();
			return row !== undefined;
		});
	}

	findConversion(referredUserId: string, goal: string): Promise<Conversion | null> {
		return this.#run("read a conversion", async () => {
			const row = await this.#db
				.selectFrom("refkit_conversion")
				.selectAll()
				.where("referred_user_id", "=", referredUserId)
				.where("goal", "=", goal)
				.executeTakeFirst();
			return row ? toConversion(row) : null;
		});
	}

	getConversion(id: string): Promise<Conversion | null> {
		return this.#run("read a conversion", async () => {
			const row = await this.#db
				.selectFrom("refkit_conversion")
				.selectAll()
				.where("id", "=", id)
				.executeTakeFirst();
			return row ? toConversion(row) : null;
		});
	}

	attributableHits(
		userId: string,
		window: { from: Date; to: Date },
		order: "first" | "last",
		limit: number,
	): Promise<CandidateHit[]> {
		return this.#run("read a user's hits", async () => {
			const direction = order === "first" ? "asc" : "desc";
			const rows = await this.#db
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
		});
	}

	hasHitsBefore(userId: string, before: Date): Promise<boolean> {
		return this.#run("read a user's hits", async () => {
			const row = await this.#db
				.selectFrom("refkit_hit")
				.select("id")
				.where("user_id", "=", userId)
				.where("created_at", "<", toDbTime(before))
				.limit(1)
				.executeTakeFirst();
			return row !== undefined;
		});
	}

	browserUsedBy(browserId: string, userId: string): Promise<boolean> {
		return this.#run("read a browser's hits", async () => {
			const row = await this.#db
				.selectFrom("refkit_hit")
				.select("id")
				.where("user_id", "=", userId)
				// A hit without a browser id came from the browser its visitor id names.
				.where((eb) =>
					eb.or([
						eb("browser_id", "=", browserId),
						eb.and([eb("browser_id", "is", null), eb("visitor_id", "=", browserId)]),
					]),
				)
				.limit(1)
				.executeTakeFirst();
			return row !== undefined;
		});
	}

	visitorUsedBy(visitorId: string, userId: string): Promise<boolean> {
		return this.#run("read a visitor's hits", async () => {
			const row = await this.#db
				.selectFrom("refkit_hit")
				.select("id")
				.where("visitor_id", "=", visitorId)
				.where("user_id", "=", userId)
				.limit(1)
				.executeTakeFirst();
			return row !== undefined;
		});
	}

	insertConversion(conversion: NewConversion): Promise<Conversion | null> {
		return this.#run("record a conversion", async () => {
			const at = toDbTime(conversion.createdAt);
			const row = await this.#db
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
		});
	}

	confirmHit(hitId: string, at: Date): Promise<void> {
		return this.#run("confirm a hit", async () => {
			await this.#db
				.updateTable("refkit_hit")
				.set({ confirmed_at: toDbTime(at), updated_at: toDbTime(at) })
				.where("id", "=", hitId)
				.where("confirmed_at", "is", null)
				.execute();
		});
	}

	reverseConversion(id: string, reason: string, at: Date): Promise<Conversion | null> {
		return this.#run("reverse a conversion", async () => {
			const now = toDbTime(at);
			const row = await this.#db
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
		});
	}

	listConversions(query: ConversionQuery): Promise<Conversion[]> {
		return this.#run("list conversions", async () => {
			let select = this.#db.selectFrom("refkit_conversion").selectAll();
			if (query.referrerUserId !== undefined)
				select = select.where("referrer_user_id", "=", query.referrerUserId);
			if (query.referredUserId !== undefined)
				select = select.where("referred_user_id", "=", query.referredUserId);
			if (query.goal !== undefined) select = select.where("goal", "=", query.goal);
			if (query.status !== undefined)
				select = select.where("reversed_at", query.status === "active" ? "is" : "is not", null);
			const { identifier, after } = query;
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
			if (after !== undefined) select = select.where(olderThan("created_at", "id", after));
			const rows = await select
				.orderBy("created_at", "desc")
				.orderBy("id", "desc")
				.limit(query.limit)
				.offset(query.offset)
				.execute();
			return rows.map(toConversion);
		});
	}

	summaries(days: string[], linkId: number | undefined): Promise<DaySummary[]> {
		return this.#run("read daily summaries", () => this.#summaries.summaries(days, linkId));
	}

	weekSummaries(firstWeek: string, lastWeek: string): Promise<WeekSummary[]> {
		return this.#run("read weekly summaries", () => this.#summaries.weekSummaries(firstWeek, lastWeek));
	}

	summarizeWeek(days: string[], summarize: (days: DaySummary[]) => WeekSummary): Promise<WeekSummary | null> {
		return this.#run("summarise a week", () => this.#summaries.summarizeWeek(days, summarize));
	}

	summarizeDay(
		day: string,
		until: Date,
		start: (previous: DaySummary[]) => DaySummarizer,
	): Promise<DaySummary[]> {
		return this.#run("summarise a day", () => this.#summaries.summarizeDay(day, until, start));
	}

	countedRows(query: StatsQuery): Promise<CountedRows> {
		return this.#run("read hits and conversions to count", () => this.#summaries.countedRows(query));
	}

	countLinks(): Promise<number> {
		return this.#run("count links", async () => {
			const row = await this.#db
				.selectFrom("refkit_link")
				.select(sql<Count>`count(*)`.as("n"))
				.executeTakeFirstOrThrow();
			return count(row.n);
		});
	}

	linkOwners(linkIds: number[]): Promise<Map<number, string>> {
		return this.#run("read links' owners", async () => {
			const owners = new Map<number, string>();
			if (linkIds.length === 0) return owners;
			const rows = await this.#db
				.selectFrom("refkit_link")
				.select(["id", "user_id"])
				.where(this.#sql.isAnyOf("id", linkIds))
				.where("user_id", "is not", null)
				.execute();
			for (const row of rows) owners.set(row.id, row.user_id as string);
			return owners;
		});
	}

	takeDueDeliveries(now: Date, leaseUntil: Date, limit: number): Promise<DueDelivery[]> {
		return this.#run("take conversions to deliver", async () => {
			const due = toDbTime(now);
			const rows = await this.#db
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
		});
	}

	markDelivered(id: string, type: "conversion" | "reversal", now: Date): Promise<void> {
		return this.#run("record a delivery", async () => {
			const at = toDbTime(now);
			await this.#db
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
		});
	}

	markDeliveryFailed(id: string, error: string, retryAt: Date): Promise<void> {
		return this.#run("record a failed delivery", async () => {
			await this.#db
				.updateTable("refkit_conversion")
				.set({ next_delivery_at: toDbTime(retryAt), last_delivery_error: error })
				.where("id", "=", id)
				.execute();
		});
	}

	countPrunableHits(before: Date): Promise<number> {
		return this.#run("count hits to prune", async () => {
			const row = await this.#db
				.selectFrom("refkit_hit")
				.select(sql<Count>`count(*)`.as("n"))
				.where(prunable((name) => `refkit_hit.${name}`, before))
				.executeTakeFirstOrThrow();
			return count(row.n);
		});
	}

	pruneHits(before: Date, limit: number): Promise<number> {
		return this.#run("prune hits", async () => {
			const result = await this.#db
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
		});
	}

	/**
	 * The distinct ids in `column` of the user's own hits, sorted: their browser ids, or their visitor ids
	 * (anonymous visits they claimed).
	 */
	async #idsOf(userId: string, column: "browser_id" | "visitor_id"): Promise<string[]> {
		const rows = await this.#db
			.selectFrom("refkit_hit")
			.select(column)
			.where("user_id", "=", userId)
			.where(column, "is not", null)
			.groupBy(column)
			.orderBy(this.#sql.binaryOrder(column))
			.execute();
		return rows.map((row) => row[column] as string);
	}

	readPersonData(userId: string): Promise<PersonData> {
		return this.#run("read a user's data", async () => {
			const hits = (whose: "own" | "visitor") =>
				this.#db
					.selectFrom("refkit_hit")
					.innerJoin("refkit_link", "refkit_link.id", "refkit_hit.link_id")
					.selectAll("refkit_hit")
					.select("refkit_link.identifier")
					.where(hitsOf(userId, whose))
					.orderBy("refkit_hit.created_at")
					.orderBy("refkit_hit.id")
					.execute();
			const conversions = (column: "referred_user_id" | "referrer_user_id") =>
				this.#db
					.selectFrom("refkit_conversion")
					.selectAll()
					.where(column, "=", userId)
					.orderBy("created_at")
					.orderBy("id")
					.execute();
			const visitorIds = await this.#idsOf(userId, "visitor_id");
			const browserIds = await this.#idsOf(userId, "browser_id");
			const links = await this.#db
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
		});
	}

	eraseHitsOf(userId: string, now: Date): Promise<ErasedHits> {
		return this.#run("erase a user's hits", async () => {
			const erased: ErasedHits = { deleted: 0, anonymised: 0 };
			// Their browsers' ids go from every hit, so that nothing left ties those browsers to them: the browser
			// cookies' ids, and the visitor ids that name a browser until it has one.
			const browserIds = [
				...(await this.#idsOf(userId, "browser_id")),
				...(await this.#idsOf(userId, "visitor_id")),
			];
			// The anonymous hits first: they are found through the visitor ids on the person's own hits.
			for (const whose of ["visitor", "own"] as const) {
				const anonymised = await this.#db
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
				const deleted = await this.#db
					.deleteFrom("refkit_hit")
					.where(hitsOf(userId, whose))
					.where(uncredited("refkit_hit.id"))
					.executeTakeFirst();
				erased.anonymised += Number(anonymised.numUpdatedRows);
				erased.deleted += Number(deleted.numDeletedRows);
			}
			if (browserIds.length > 0) {
				await this.#db
					.updateTable("refkit_hit")
					.set({ browser_id: null })
					.where("browser_id", "in", browserIds)
					.execute();
			}
			return erased;
		});
	}

	detachLinksOf(userId: string, now: Date, newIdentifier: () => string): Promise<string[]> {
		return this.#run("detach a user's links", async () => {
			const links = await this.#db
				.selectFrom("refkit_link")
				.select(["id", "identifier"])
				.where("user_id", "=", userId)
				.execute();
			for (const link of links) {
				await this.#db
					.updateTable("refkit_link")
					.set({
						user_id: null,
						identifier: newIdentifier(),
						disabled: this.#sql.bool(true),
						updated_at: toDbTime(now),
					})
					.where("id", "=", link.id)
					.execute();
			}
			return links.map((link) => link.identifier);
		});
	}

	pseudonymiseConversionsOf(userId: string, pseudonym: string, now: Date): Promise<number> {
		return this.#run("anonymise a user's conversions", async () => {
			const result = await this.#db
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
		});
	}

	async close(): Promise<void> {
		await this.#hits.settle();
		if (this.#owned) await this.#close();
	}
}
