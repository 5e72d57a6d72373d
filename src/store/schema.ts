import type { ColumnType, Generated } from "kysely";

/**
 * refkit's tables as Kysely sees them. Times are written as ISO-8601 strings (SQLite stores them as text,
 * PostgreSQL as timestamptz) and read back as `string` (SQLite) or `Date` (PostgreSQL). Booleans are
 * `boolean` on PostgreSQL and `0 | 1` on SQLite. `kysely-store.ts` maps rows to the public types.
 */
type Timestamp = ColumnType<Date | string, string, string>;
type Bool = ColumnType<boolean | number, boolean | number, boolean | number>;

export interface LinkTable {
	id: Generated<number>;
	identifier: string;
	user_id: string | null;
	disabled: Bool;
	target: string | null;
	created_at: Timestamp;
	updated_at: Timestamp;
}

export interface HitTable {
	id: string;
	link_id: number;
	authenticated: Bool;
	user_id: string | null;
	visitor_id: string | null;
	ip: string | null;
	user_agent: string | null;
	referer: string | null;
	next: string | null;
	confirmed_at: ColumnType<Date | string | null, string | null, string | null>;
	created_at: Timestamp;
	updated_at: Timestamp;
}

export interface Database {
	refkit_link: LinkTable;
	refkit_hit: HitTable;
}
