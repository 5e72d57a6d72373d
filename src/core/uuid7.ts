import { randomUUID } from "node:crypto";

/**
 * A UUID version 7 (RFC 9562): its first 48 bits are the time in milliseconds, the rest random. Hit ids and
 * new visitors' ids are made so. Rows are then inserted in the order of their keys, at the right edge of an
 * index on them, instead of at a random place in it: on a large table each insert touches the same few pages,
 * and a batch's commit writes a few pages instead of one per row.
 */
export function uuid7(now: number = Date.now()): string {
	const time = now.toString(16).padStart(12, "0");
	// randomUUID()'s version 4 digit is at index 14; everything after it is random but the variant bits.
	return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${randomUUID().slice(15)}`;
}
