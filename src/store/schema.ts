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
	/** Migration 0009: the program its referrals earn under; `null` for the default program. */
	program: ColumnType<string | null, string | null | undefined, string | null>;
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

/** Amounts: PostgreSQL's `bigint` reads back as a string; `rows.ts` turns it into a number. */
type Money = ColumnType<number | string, number, number>;

/** Migration 0009: a program's terms as the application last declared them. */
export interface ProgramTable {
	id: string;
	currency: string;
	hold_days: number;
	minimum_payout: Money;
	is_default: Bool;
	terms: string;
	updated_at: Timestamp;
}

export interface SaleTable {
	id: string;
	external_id: string;
	user_id: string;
	referrer_user_id: string;
	conversion_id: string;
	program: string;
	amount: Money;
	currency: string;
	refunded: Money;
	sequence: number;
	created_at: Timestamp;
	recorded_at: Timestamp;
}

export interface RefundTable {
	id: string;
	external_id: string;
	sale_id: string;
	amount: Money;
	reason: string;
	created_at: Timestamp;
}

export interface CommissionTable {
	id: string;
	program: string;
	rule: string;
	terms: string;
	beneficiary_user_id: string;
	role: string;
	source_type: string;
	source_id: string;
	referral_id: string | null;
	amount: Money;
	currency: string;
	status: string;
	payable_at: Timestamp;
	held_reason: string | null;
	void_reason: string | null;
	clawback_of: string | null;
	replaces: string | null;
	payout_id: string | null;
	created_at: Timestamp;
	updated_at: Timestamp;
}

export interface BalanceTable {
	beneficiary_user_id: string;
	currency: string;
	pending: Money;
	held: Money;
	approved: Money;
	paid: Money;
}

export interface PayoutTable {
	id: string;
	run_id: string;
	beneficiary_user_id: string;
	currency: string;
	amount: Money;
	commissions: number;
	cutoff: Timestamp;
	status: string;
	reference: string | null;
	failure_reason: string | null;
	created_at: Timestamp;
	paid_at: NullableTimestamp;
	failed_at: NullableTimestamp;
}

export interface EventTable {
	id: string;
	type: string;
	data: string;
	created_at: Timestamp;
	position: number;
	delivered_at: NullableTimestamp;
	next_delivery_at: NullableTimestamp;
	delivery_attempts: ColumnType<number, number | undefined, number>;
	last_delivery_error: string | null;
}

/** Migration 0010: a billing system's event, once by its id. */
export interface BillingEventTable {
	provider: string;
	id: string;
	type: string;
	object_id: string | null;
	status: "received" | "applied" | "ignored" | "waiting" | "failed";
	outcome: string;
	waiting_for: string | null;
	payload: string;
	attempts: number;
	received_at: Timestamp;
	updated_at: Timestamp;
}

/** Migration 0010: the payment (a Stripe payment intent or charge) a sale was paid by. */
export interface BillingPaymentTable {
	provider: string;
	payment_id: string;
	sale_external_id: string;
	created_at: Timestamp;
}

export interface Database {
	refkit_link: LinkTable;
	refkit_hit: HitTable;
	refkit_conversion: ConversionTable;
	refkit_stats_day: StatsDayTable;
	refkit_stats_week: StatsWeekTable;
	refkit_program: ProgramTable;
	refkit_sale: SaleTable;
	refkit_refund: RefundTable;
	refkit_commission: CommissionTable;
	refkit_balance: BalanceTable;
	refkit_payout: PayoutTable;
	refkit_event: EventTable;
	refkit_billing_event: BillingEventTable;
	refkit_billing_payment: BillingPaymentTable;
}
