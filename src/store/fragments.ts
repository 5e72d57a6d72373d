import { type RawBuilder, type SelectQueryBuilder, sql } from "kysely";
import type { Page, RowPosition } from "./page.js";
import { toDbTime } from "./rows.js";

/* Pieces of SQL that several aggregates' queries share, the same on every database. */

/**
 * A LIKE pattern matching any text that contains `text`, with LIKE's own characters (`%`, `_`) and the escape
 * character (a backslash) escaped: use it with `escape` and a backslash.
 */
export function containsPattern(text: string): string {
	return `%${text.replace(/[\\%_]/g, "\\$&")}%`;
}

/** Whether `column` contains `text`, ignoring case. */
export function containsIgnoringCase(column: string, text: string): RawBuilder<boolean> {
	return sql<boolean>`lower(${sql.ref(column)}) like lower(${containsPattern(text)}) escape '\\'`;
}

/**
 * Rows older than `after` in a listing ordered by (`created_at`, `id`) descending: the row value
 * comparison `(created_at, id) < (at, id)`, written so that both databases use an index on `created_at`.
 */
export function olderThan(createdAt: string, id: string, after: RowPosition): RawBuilder<boolean> {
	const at = toDbTime(after.createdAt);
	return sql<boolean>`${sql.ref(createdAt)} <= ${at} and (${sql.ref(createdAt)} < ${at} or ${sql.ref(id)} < ${after.id})`;
}

/**
 * A page of a newest-first listing of one table: rows ordered by (`created_at`, `id`) descending, after the
 * keyset position `page.after` when there is one, `page.limit` of them from `page.offset`.
 */
export function newestFirst<DB, TB extends keyof DB, O>(
	select: SelectQueryBuilder<DB, TB, O>,
	page: Page,
): SelectQueryBuilder<DB, TB, O> {
	const after = page.after === undefined ? select : select.where(olderThan("created_at", "id", page.after));
	return after
		.orderBy(sql.ref("created_at"), "desc")
		.orderBy(sql.ref("id"), "desc")
		.limit(page.limit)
		.offset(page.offset);
}
