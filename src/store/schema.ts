import type { ColumnType, Generated } from "kysely";

/**
 * refkit's tables as Kysely sees them. Times are written as ISO-8601 strings (SQLite stores them as text,
 * PostgreSQL as timestamptz) and read back as `string` (SQLite) or `Date` (PostgreSQL). Booleans are
 * `boolean` on PostgreSQL and `0 | 1` on SQLite. `rows.ts` maps rows to the public types.
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
	source: ColumnType<string, string | undefined, string>;
	authenticated: Bool;
	user_id: string | null;
	visitor_id: string | null;
	/** Migration 0008: the browser's id from its signed browser cookie; absent on older hits. */
	browser_id: ColumnType<string | null, string | null | undefined, string | null>;
	ip: string | null;
	user_agent: string | null;
	referer: string | null;
	next: string | null;
	confirmed_at: NullableTimestamp;
	created_at: Timestamp;
	updated_at: Timestamp;
}

type NullableTimestamp = ColumnType<Date | string | null, string | null, string | null>;

export interface ConversionTable {
	id: string;
	goal: string;
	referred_user_id: string;
	referrer_user_id: string | null;
	hit_id: string | null;
	link_id: number | null;
	value: number | null;
	created_at: Timestamp;
	updated_at: Timestamp;
	reversed_at: NullableTimestamp;
	reversal_reason: string | null;
	delivered_at: NullableTimestamp;
	reversal_delivered_at: NullableTimestamp;
	/** When the outbox should next try to deliver; `null` when nothing is left to deliver. */
	next_delivery_at: NullableTimestamp;
	/** Attempts at the pending delivery; back to 0 once it succeeds. */
	delivery_attempts: ColumnType<number, number | undefined, number>;
	last_delivery_error: string | null;
}

/**
 * A summary of one UTC day's hits and conversions (see migrations 0004 and 0005): `link_id` 0 for all links.
 * It counts those made before `covered_until`: the next midnight, or earlier for the day under way.
 */
export interface StatsDayTable {
	/** `YYYY-MM-DD`. */
	day: string;
	covered_until: Timestamp;
	link_id: number;
	hits: number;
	/** `{ "<goal>": [not reversed, reversed] }`. */
	goals: string;
	/** All links' row only: (link id, hits) pairs of little-endian uint32s. */
	link_hits: Uint8Array | null;
	/** All links' row only: `{ "<referrer user id>": conversions not reversed }`. */
	referrers: string | null;
	visitors: Uint8Array;
	users: Uint8Array;
	converted: Uint8Array;
}

/** A week's all-links summaries added up (see migration 0006), from Monday (`week`) to Sunday, UTC. */
export interface StatsWeekTable {
	/** Its Monday: `YYYY-MM-DD`. */
	week: string;
	hits: number;
	goals: string;
	/** `{ "<YYYY-MM-DD>": [hits, conversions] }`. */
	daily: string;
	link_hits: Uint8Array;
	referrers: string;
	visitors: Uint8Array;
	users: Uint8Array;
	converted: Uint8Array;
}

export interface Database {
	refkit_link: LinkTable;
	refkit_hit: HitTable;
	refkit_conversion: ConversionTable;
	refkit_stats_day: StatsDayTable;
	refkit_stats_week: StatsWeekTable;
}
