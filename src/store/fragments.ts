import { type RawBuilder, sql } from "kysely";
import { toDbTime } from "./rows.js";
import type { RowPosition } from "./store.js";

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
