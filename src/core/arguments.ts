import { RefkitError } from "../errors.js";
import { assertIdentifier } from "./identifiers.js";

/**
 * The checks of what an application passes to refkit's methods. Each throws `INVALID_ARGUMENT` (or, for
 * `createRefkit()`'s options, `INVALID_OPTION`) with a message that says what to change, and returns the value
 * it checked, normalised where it says so.
 */

/** Throws `INVALID_ARGUMENT` with `message`, prefixed `refkit: `; `cause` is kept as the error's cause. */
export function invalid(message: string, cause?: unknown): never {
	throw new RefkitError(
		"INVALID_ARGUMENT",
		`refkit: ${message}`,
		cause === undefined ? undefined : { cause },
	);
}

/** Throws `INVALID_OPTION` with `message`, prefixed `refkit: `: a bad option of `createRefkit()`. */
export function invalidOption(message: string): never {
	throw new RefkitError("INVALID_OPTION", `refkit: ${message}`);
}

/** Throws `INVALID_ARGUMENT` unless `userId` is a non-empty string. */
export function assertUserId(userId: unknown, method: string): string {
	if (typeof userId !== "string" || userId === "" || userId.length > 255) {
		invalid(`${method} needs the user id as a non-empty string of at most 255 characters.`);
	}
	return userId;
}

/** Throws `INVALID_ARGUMENT` unless `at` is undefined or a valid `Date`; returns it or now. */
export function assertTime(at: unknown, name: string, now: () => Date): Date {
	if (at === undefined) return now();
	if (!(at instanceof Date) || Number.isNaN(at.getTime())) invalid(`${name} must be a valid Date.`);
	return at;
}

/** Whether `value` looks like the UUID refkit gives hits and conversions. */
export function isUuid(value: unknown): value is string {
	return (
		typeof value === "string" && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value)
	);
}

/** A filter's user id: absent (`undefined` or `null`), or a non-empty string. */
export function optionalUserId(value: unknown, name: string): string | undefined {
	if (value === undefined || value === null) return undefined;
	if (typeof value !== "string" || value === "") invalid(`${name} must be a non-empty string.`);
	return value;
}

/** A filter's flag: absent (`undefined` or `null`), `true` or `false`. */
export function optionalBoolean(value: unknown, name: string): boolean | undefined {
	if (value === undefined || value === null) return undefined;
	if (typeof value !== "boolean") invalid(`${name} must be true or false (got ${JSON.stringify(value)}).`);
	return value;
}

/** A filter's time: absent (`undefined` or `null`), or a valid `Date`. */
export function optionalDate(value: unknown, name: string): Date | undefined {
	if (value === undefined || value === null) return undefined;
	if (!(value instanceof Date) || Number.isNaN(value.getTime())) invalid(`${name} must be a valid Date.`);
	return value;
}

/** `from` and `to` as Dates, `from` not after `to`. */
export function timeRange(input: { from?: unknown; to?: unknown }): { from?: Date; to?: Date } {
	const from = optionalDate(input.from, "from");
	const to = optionalDate(input.to, "to");
	if (from !== undefined && to !== undefined && from.getTime() > to.getTime()) {
		invalid(`from (${from.toISOString()}) must not be after to (${to.toISOString()}).`);
	}
	return { from, to };
}

/** A search text; `""` is no filter (every text contains it). */
export function optionalSearch(value: unknown): string | undefined {
	if (value === undefined || value === null) return undefined;
	if (typeof value !== "string" || value.length > 200)
		invalid("search must be a string of at most 200 characters.");
	return value === "" ? undefined : value;
}

/** A filter's link identifier: absent (`undefined` or `null`), or a valid identifier (else `INVALID_IDENTIFIER`). */
export function optionalLink(value: unknown): string | undefined {
	return value === undefined || value === null ? undefined : assertIdentifier(value);
}

/** A method's filters: an object, or nothing (no filter). */
export function filtersObject<T extends object>(
	input: T | undefined,
	method: string,
): T | Record<string, never> {
	if (input === undefined) return {};
	if (typeof input !== "object" || input === null)
		invalid(`${method} takes an object of filters, or nothing.`);
	return input;
}

/** A listing's page: `limit` 1 to 1000 (default 100) and `offset` ≥ 0 (default 0). */
export function page(input: { limit?: number | undefined; offset?: number | undefined }): {
	limit: number;
	offset: number;
} {
	const limit = input.limit ?? 100;
	const offset = input.offset ?? 0;
	if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
		invalid(`limit must be a whole number from 1 to 1000 (got ${limit}).`);
	}
	if (!Number.isInteger(offset) || offset < 0) invalid(`offset must be a whole number ≥ 0 (got ${offset}).`);
	return { limit, offset };
}
