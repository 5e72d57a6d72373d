import { type LedgerEvent, type ProgramOptions, toMajor } from "refkit";

/**
 * The demo's referral program, declared in code as an application declares its own (see docs/programs.md):
 * 5.00 USD to the referrer and 5.00 USD to the new user at signup, 20% of every purchase to the referrer for
 * 12 months, commissions payable after a 14-day hold, and payouts from 20.00 USD.
 */

/** The hold, in days, unless `REFKIT_DEMO_HOLD_DAYS` says otherwise (0 makes earnings payable at once). */
export const DEFAULT_HOLD_DAYS = 14;

/** The program, with `holdDays` days before a commission is payable. Amounts in cents: 500 is 5.00 USD. */
export function demoProgram(holdDays: number): ProgramOptions {
	return {
		id: "demo",
		currency: "USD",
		holdDays,
		minimumPayout: 2000,
		rules: [
			{ on: "goal", goal: "signup", referrer: 500, referred: 500 },
			{ on: "sale", percent: 20, months: 12 },
		],
	};
}

/**
 * The hold from `REFKIT_DEMO_HOLD_DAYS`: unset or empty for the default, else a whole number of days from 0
 * to 3650. Returns an error message for anything else.
 */
export function holdDaysFrom(value: string | undefined): number | { error: string } {
	if (value === undefined || value.trim() === "") return DEFAULT_HOLD_DAYS;
	const days = Number(value.trim());
	if (!/^[0-9]{1,4}$/.test(value.trim()) || days > 3650) {
		return {
			error: `REFKIT_DEMO_HOLD_DAYS must be a whole number of days from 0 to 3650 (got ${JSON.stringify(value)}).`,
		};
	}
	return days;
}

/** An amount in minor units as people read it: 510 USD is "5.10 USD". */
export function money(amount: number, currency: string): string {
	return `${toMajor(amount, currency)} ${currency}`;
}

/** A price typed in the demo's form ("25", "9.99", "12.5") in cents, without a float on the way. */
export function toCents(text: string): number {
	const [whole = "0", fraction = ""] = text.split(".");
	return Number(whole) * 100 + Number(fraction.padEnd(2, "0"));
}

/** One line of the console for a ledger event that the demo's outbox delivered. */
export function describeEvent(event: LedgerEvent): string {
	const { data } = event;
	if ("role" in data) {
		return `${event.type}: ${money(data.amount, data.currency)} to ${data.userId} (${data.role}, rule ${data.rule}, ${data.status})`;
	}
	if ("runId" in data) return `${event.type}: ${money(data.amount, data.currency)} to ${data.userId}`;
	if ("sequence" in data) {
		return `${event.type}: ${data.userId}'s purchase of ${money(data.amount, data.currency)} (order ${data.externalId}), credited to ${data.referrerUserId}`;
	}
	return `${event.type}: refund ${data.externalId} of ${data.amount} cents`;
}
