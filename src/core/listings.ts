import type { RowPosition } from "../store/store.js";
import type { Conversion, HitWithLink } from "../types.js";
import {
	filtersObject,
	invalid,
	isUuid,
	optionalBoolean,
	optionalLink,
	optionalSearch,
	optionalUserId,
	page,
	timeRange,
} from "./arguments.js";
import type { CoreContext } from "./context.js";

/**
 * Reading hits and conversions: their filters checked, a page of them, one conversion by id, or every row
 * that matches, read in batches by keyset pagination.
 */

/** Filters of {@link Refkit.listHits}. Newest hits first. */
export interface ListHitsInput {
	/** Only the hits of the link with this identifier. */
	link?: string | undefined;
	/** Only the hits of this (referred) user. */
	userId?: string | undefined;
	/** Only the hits on links this user owns. */
	referrerUserId?: string | undefined;
	/** Only the hits of logged-in visitors (`true`) or of anonymous ones (`false`). */
	authenticated?: boolean | undefined;
	/** Only the hits made at or after this time. */
	from?: Date | undefined;
	/** Only the hits made before this time. */
	to?: Date | undefined;
	/**
	 * Only the hits whose user id, visitor id, IP, User-Agent, Referer or link identifier contains this text,
	 * ignoring case (`%`, `_` and `\` are plain characters). At most 200 characters; `""` matches every hit.
	 */
	search?: string | undefined;
	/** At most this many, 1 to 1000; default 100. */
	limit?: number | undefined;
	offset?: number | undefined;
}

/** Filters of {@link Refkit.listConversions}. Newest conversions first. */
export interface ListConversionsInput {
	/** Only the conversions credited to this referrer. */
	referrerUserId?: string | undefined;
	/** Only the conversions of this referred user. */
	referredUserId?: string | undefined;
	goal?: string | undefined;
	/** Only the conversions that stand (`active`) or only the reversed ones (`reversed`). */
	status?: "active" | "reversed" | undefined;
	/** Only the conversions credited to the link with this identifier. */
	link?: string | undefined;
	/** Only the conversions made at or after this time. */
	from?: Date | undefined;
	/** Only the conversions made before this time. */
	to?: Date | undefined;
	/** At most this many, 1 to 1000; default 100. */
	limit?: number | undefined;
	offset?: number | undefined;
}

/** Filters of {@link Refkit.exportHits}: those of {@link ListHitsInput}, without paging. */
export type ExportHitsInput = Omit<ListHitsInput, "limit" | "offset">;

/** Filters of {@link Refkit.exportConversions}: those of {@link ListConversionsInput}, without paging. */
export type ExportConversionsInput = Omit<ListConversionsInput, "limit" | "offset">;

/** How many rows an export reads per query. */
const EXPORT_BATCH_SIZE = 500;

/** The filters of a listing or export of hits, checked. */
function hitFilters(input: ExportHitsInput | undefined, method: string) {
	const filters: ExportHitsInput = filtersObject(input, method);
	return {
		identifier: optionalLink(filters.link),
		userId: optionalUserId(filters.userId, "userId"),
		referrerUserId: optionalUserId(filters.referrerUserId, "referrerUserId"),
		authenticated: optionalBoolean(filters.authenticated, "authenticated"),
		...timeRange(filters),
		search: optionalSearch(filters.search),
	};
}

/** The filters of a listing or export of conversions, checked. */
function conversionFilters(input: ExportConversionsInput | undefined, method: string) {
	const filters: ExportConversionsInput = filtersObject(input, method);
	if (filters.goal !== undefined && (typeof filters.goal !== "string" || filters.goal === ""))
		invalid("goal must be a non-empty string.");
	const { status } = filters;
	if (status !== undefined && status !== "active" && status !== "reversed")
		invalid(`status must be "active" or "reversed" (got ${JSON.stringify(status)}).`);
	return {
		referrerUserId: optionalUserId(filters.referrerUserId, "referrerUserId"),
		referredUserId: optionalUserId(filters.referredUserId, "referredUserId"),
		goal: filters.goal,
		status,
		identifier: optionalLink(filters.link),
		...timeRange(filters),
	};
}

/**
 * Every row of a newest-first listing, read `batchSize` at a time: each batch continues after the last row
 * of the one before (keyset pagination), so rows added or removed meanwhile neither repeat nor shift.
 */
export function keysetExport<T extends RowPosition>(
	batch: (after: RowPosition | undefined, limit: number) => Promise<T[]>,
): AsyncIterable<T> {
	return {
		async *[Symbol.asyncIterator]() {
			let after: RowPosition | undefined;
			for (;;) {
				const rows = await batch(after, EXPORT_BATCH_SIZE);
				yield* rows;
				const last = rows.at(-1);
				if (last === undefined || rows.length < EXPORT_BATCH_SIZE) return;
				after = { createdAt: last.createdAt, id: last.id };
			}
		},
	};
}

/** A page of hits, newest first, after their filters are checked. */
export async function listHits(ctx: CoreContext, input: ListHitsInput = {}): Promise<HitWithLink[]> {
	return ctx.store.listHits({ ...hitFilters(input, "listHits()"), ...page(input) });
}

/** Every hit that matches, newest first, read as the caller iterates; bad filters throw here, at once. */
export function exportHits(ctx: CoreContext, input?: ExportHitsInput): AsyncIterable<HitWithLink> {
	const filters = hitFilters(input, "exportHits()");
	return keysetExport((after, limit) => ctx.store.listHits({ ...filters, after, limit, offset: 0 }));
}

/** The conversion with this id, or `null` (also for an id that is no UUID). */
export async function getConversion(ctx: CoreContext, id: string): Promise<Conversion | null> {
	if (typeof id !== "string") invalid("getConversion() needs the conversion's id, a string.");
	return isUuid(id) ? ctx.store.getConversion(id) : null;
}

/** A page of conversions, newest first, after their filters are checked. */
export async function listConversions(
	ctx: CoreContext,
	input: ListConversionsInput = {},
): Promise<Conversion[]> {
	return ctx.store.listConversions({ ...conversionFilters(input, "listConversions()"), ...page(input) });
}

/** Every conversion that matches, newest first, read as the caller iterates; bad filters throw here, at once. */
export function exportConversions(
	ctx: CoreContext,
	input?: ExportConversionsInput,
): AsyncIterable<Conversion> {
	const filters = conversionFilters(input, "exportConversions()");
	return keysetExport((after, limit) => ctx.store.listConversions({ ...filters, after, limit, offset: 0 }));
}
