import { randomUUID } from "node:crypto";

/**
 * A UUID version 7 (RFC 9562): its first 48 bits are the time in milliseconds, the rest random. Hit ids and
 * new visitors' ids are made so. Rows are then inserted in the order of their keys, at the right edge of an
 * index on them, instead of at a random place in it: on a large table each insert touches the same few pages,
 * and a batch's commit writes a few pages instead of one per row.
 */
export function uuid7(now: number = Date.now()): string {
	if (now !== last.time) {
		const hex = now.toString(16).padStart(12, "0");
		last.time = now;
		last.prefix = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7`;
	}
	// randomUUID()'s version 4 digit is at index 14; everything after it is random but the variant bits.
	return last.prefix + randomUUID().slice(15);
}

/** The time part of the last id made: ids made in the same millisecond share it. */
const last = { time: Number.NaN, prefix: "" };
