import { isValidIdentifier } from "../core/identifiers.js";
import { isRefkitError } from "../errors.js";
import type { Section } from "./layout.js";

/** How many rows a listing shows on a page. */
export const PAGE_SIZE = 50;

/** The notices of `?done=`, shown after a form did what it said. */
export const DONE: Record<string, string> = {
	created: "The link was created.",
	disabled: "The link was disabled: following it now records nothing.",
	enabled: "The link was enabled.",
	reversed: "The conversion was reversed.",
	released: "The commission was released: it becomes payable when its holding period ends.",
	rejected: "The commission was rejected: it is voided, with your reason.",
	paid: "The payout was marked paid: its commissions are paid.",
	"already-paid": "The payout had already been marked paid: nothing changed.",
	failed: "The payout was marked failed: its commissions are payable again at the next run.",
	"already-failed": "The payout had already been marked failed: nothing changed.",
};

/**
 * Why the dashboard answers with its error page instead of what was asked: thrown by a route, caught once
 * by the dashboard, which renders it (see {@link failureOf}).
 */
export class Failure extends Error {
	constructor(
		readonly status: 400 | 403 | 404 | 409 | 503,
		readonly heading: string,
		message: string,
		readonly section: Section | null = null,
	) {
		super(message);
	}
}

/** Input that does not make sense: a 400. */
export function badInput(message: string): Failure {
	return new Failure(400, "That request did not make sense", message);
}

/** A refkit error's message for people: without the `refkit: ` it starts with for developers. */
export function plainMessage(error: Error): string {
	return error.message.replace(/^refkit: /, "");
}

/**
 * The failure an error thrown by a route stands for: itself, or a refkit error the visitor caused (an
 * unknown link or conversion, an invalid argument); `null` for anything else, which is the database's.
 */
export function failureOf(error: unknown): Failure | null {
	if (error instanceof Failure) return error;
	if (!isRefkitError(error)) return null;
	if (error.code === "LINK_NOT_FOUND") return new Failure(404, "No such link", plainMessage(error), "links");
	if (error.code === "CONVERSION_NOT_FOUND")
		return new Failure(404, "No such conversion", plainMessage(error), "conversions");
	if (error.code === "COMMISSION_NOT_FOUND")
		return new Failure(404, "No such commission", plainMessage(error), "commissions");
	if (error.code === "PAYOUT_NOT_FOUND")
		return new Failure(404, "No such payout", plainMessage(error), "payouts");
	if (error.code === "INVALID_STATE") return new Failure(409, "That cannot be done now", plainMessage(error));
	if (error.code === "INVALID_ARGUMENT" || error.code === "INVALID_IDENTIFIER")
		return badInput(plainMessage(error));
	return null;
}

export function pageNumber(value: string | null): number {
	if (value === null || value === "") return 1;
	const page = Number(value);
	if (!Number.isInteger(page) || page < 1 || page > 10_000)
		throw badInput("The page number must be from 1 to 10000.");
	return page;
}

export function days(value: string | null): number {
	if (value === null || value === "") return 30;
	if (value === "30" || value === "90") return Number(value);
	throw badInput("The period must be 30 or 90 days.");
}

/** `YYYY-MM-DD` as the start of that day in UTC; `plusDay` gives the start of the next day. */
export function dayStart(value: string, name: string, plusDay = false): Date | undefined {
	if (value === "") return undefined;
	const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
	const [year, month, day] = match ? [Number(match[1]), Number(match[2]), Number(match[3])] : [0, 0, 0];
	const date = new Date(Date.UTC(year, month - 1, day));
	// Date.UTC rolls 2026-02-30 over to March: a day that does not exist is refused, not moved.
	if (
		match === null ||
		date.getUTCFullYear() !== year ||
		date.getUTCMonth() !== month - 1 ||
		date.getUTCDate() !== day
	)
		throw badInput(`"${name}" must be a date such as 2026-11-23.`);
	if (plusDay) date.setUTCDate(day + 1);
	return date;
}

/** A field of a query or form, trimmed and cut to `max` characters; "" when absent. */
export function text(params: URLSearchParams, name: string, max = 200): string {
	return (params.get(name) ?? "").trim().slice(0, max);
}

/** A path segment decoded, or `null` when its percent-encoding is malformed. */
export function segment(value: string): string | null {
	try {
		return decodeURIComponent(value);
	} catch {
		return null;
	}
}

export function identifierFilter(value: string): string | undefined {
	if (value === "") return undefined;
	if (!isValidIdentifier(value))
		throw badInput("A link identifier is 1 to 50 letters, digits or underscores.");
	return value;
}

/** A same-dashboard path to go back to after a form, from the form's `back` field. */
export function backTo(base: string, value: string | null, fallback: string): string {
	const path =
		value !== null && /^\/[A-Za-z0-9_\-/?=&%.+]*$/.test(value) && !value.startsWith("//") ? value : fallback;
	return `${base}${path}`;
}

export function withDone(location: string, done: string): string {
	return `${location}${location.includes("?") ? "&" : "?"}done=${done}`;
}

/** The query of a form's `back` path (see {@link backTo}): to show that page again, with what the form could not do. */
export function backQuery(value: string | null): URLSearchParams {
	const path = backTo("", value, "/");
	const q = path.indexOf("?");
	return new URLSearchParams(q < 0 ? "" : path.slice(q + 1));
}
