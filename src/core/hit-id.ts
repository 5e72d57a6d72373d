import { randomUUID } from "node:crypto";

/**
 * A new hit's id: a UUID version 7 (RFC 9562), whose first 48 bits are the time in milliseconds and the rest
 * random. Hits are inserted in the order of their ids, at the right edge of the primary key's index, instead of
 * at a random place in it: on a large table each insert touches the same few pages.
 */
export function newHitId(now: number = Date.now()): string {
	const time = now.toString(16).padStart(12, "0");
	// randomUUID()'s version 4 digit is at index 14; everything after it is random but the variant bits.
	return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${randomUUID().slice(15)}`;
}
