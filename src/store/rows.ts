import type { Insertable, Selectable } from "kysely";
import type { Conversion, Hit, ReferralLink } from "../types.js";
import type { Dialect } from "./dialect.js";
import type { ConversionTable, HitTable, LinkTable, StatsDayTable, StatsWeekTable } from "./schema.js";
import type { CountedConversion, CountedHit, DaySummary, NewHit, WeekSummary } from "./store.js";

/*
 * Rows as the databases hold them, and the public types refkit makes of them: one codec per table, the same
 * for every database (the dialect only says how a boolean is stored).
 */

/** A time as refkit writes it to every database. */
export function toDbTime(date: Date): string {
	return date.toISOString();
}

/** A time as read back from any database: text (SQLite) or a Date (PostgreSQL). */
export function fromDbTime(value: Date | string): Date {
	return value instanceof Date ? value : new Date(value);
}

function optionalTime(value: Date | string | null): Date | null {
	return value === null ? null : fromDbTime(value);
}

/** A count as the driver returns it: a number (SQLite) or a bigint/numeric string (PostgreSQL). */
export type Count = number | string | bigint | null;

export function count(value: Count | undefined): number {
	return value === null || value === undefined ? 0 : Number(value);
}

export function toLink(row: Selectable<LinkTable>): ReferralLink {
	return {
		id: row.id,
		identifier: row.identifier,
		userId: row.user_id,
		disabled: Boolean(row.disabled),
		target: row.target,
		program: row.program ?? null,
		createdAt: fromDbTime(row.created_at),
		updatedAt: fromDbTime(row.updated_at),
	};
}

export function toHit(row: Selectable<HitTable>): Hit {
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

/** A hit as a row of `refkit_hit`. */
export function hitRow(hit: NewHit, dialect: Dialect) {
	const at = toDbTime(hit.createdAt);
	return {
		id: hit.id,
		link_id: hit.linkId,
		source: hit.source,
		authenticated: dialect.bool(hit.authenticated),
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

export function toConversion(row: Selectable<ConversionTable>): Conversion {
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

export function toCountedHit(row: {
	day: string;
	link_id: number;
	user_id: string | null;
	visitor_id: string | null;
}): CountedHit {
	return { day: row.day, linkId: row.link_id, userId: row.user_id, visitorId: row.visitor_id };
}

export function toCountedConversion(row: {
	day: string;
	link_id: number | null;
	goal: string;
	referred_user_id: string;
	referrer_user_id: string | null;
	reversed_at: Date | string | null;
}): CountedConversion {
	return {
		day: row.day,
		linkId: row.link_id,
		goal: row.goal,
		referredUserId: row.referred_user_id,
		referrerUserId: row.referrer_user_id,
		reversed: row.reversed_at !== null,
	};
}

/** A `Uint8Array` as the `Buffer` both drivers bind as a blob, without copying. */
function asBuffer(bytes: Uint8Array): Buffer {
	return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Hits per link as (link id, hits) pairs of little-endian uint32s: far quicker to read than JSON. */
function encodeLinkHits(linkHits: Uint32Array): Buffer {
	const bytes = Buffer.alloc(linkHits.length * 4);
	for (let i = 0; i < linkHits.length; i++) bytes.writeUInt32LE(linkHits[i] as number, i * 4);
	return bytes;
}

export function decodeLinkHits(bytes: Uint8Array): Uint32Array {
	const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
	const linkHits = new Uint32Array(bytes.byteLength >>> 2);
	for (let i = 0; i < linkHits.length; i++) linkHits[i] = view.getUint32(i * 4, true);
	return linkHits;
}

export function toDaySummary(row: Selectable<StatsDayTable>): DaySummary {
	const json = <T>(text: string | null) => (text === null ? null : (JSON.parse(text) as T));
	return {
		day: row.day,
		until: fromDbTime(row.covered_until),
		linkId: row.link_id,
		hits: count(row.hits),
		goals: json<DaySummary["goals"]>(row.goals) ?? {},
		linkHits: row.link_hits === null ? null : decodeLinkHits(row.link_hits),
		referrers: json(row.referrers),
		visitors: row.visitors,
		users: row.users,
		converted: row.converted,
	};
}

export function toStatsDayRow(summary: DaySummary): Insertable<StatsDayTable> {
	const json = (value: object | null) => (value === null ? null : JSON.stringify(value));
	return {
		day: summary.day,
		covered_until: toDbTime(summary.until),
		link_id: summary.linkId,
		hits: summary.hits,
		goals: JSON.stringify(summary.goals),
		link_hits: summary.linkHits === null ? null : encodeLinkHits(summary.linkHits),
		referrers: json(summary.referrers),
		visitors: asBuffer(summary.visitors),
		users: asBuffer(summary.users),
		converted: asBuffer(summary.converted),
	};
}

export function toWeekSummary(row: Selectable<StatsWeekTable>): WeekSummary {
	return {
		week: row.week,
		hits: count(row.hits),
		goals: JSON.parse(row.goals) as WeekSummary["goals"],
		daily: JSON.parse(row.daily) as WeekSummary["daily"],
		linkHits: decodeLinkHits(row.link_hits),
		referrers: JSON.parse(row.referrers) as WeekSummary["referrers"],
		visitors: row.visitors,
		users: row.users,
		converted: row.converted,
	};
}

export function toStatsWeekRow(summary: WeekSummary): Insertable<StatsWeekTable> {
	return {
		week: summary.week,
		hits: summary.hits,
		goals: JSON.stringify(summary.goals),
		daily: JSON.stringify(summary.daily),
		link_hits: encodeLinkHits(summary.linkHits),
		referrers: JSON.stringify(summary.referrers),
		visitors: asBuffer(summary.visitors),
		users: asBuffer(summary.users),
		converted: asBuffer(summary.converted),
	};
}
