import { invalid } from "../core/arguments.js";
import { RefkitError } from "../errors.js";

/**
 * Money's arithmetic, in one place: amounts are whole minor units (safe integers), percentages are basis
 * points, and the one rounding rule is here. See docs/programs.md, "Rounding".
 */

/** The largest amount refkit accepts: 10^15 minor units, far inside a safe integer even summed by the million. */
export const MAX_AMOUNT = 1e15;

let currencies: Set<string> | undefined;

/**
 * Whether `code` is an ISO 4217 currency code this Node knows (`USD`, `EUR`, `JPY`...).
 *
 * @example
 * isCurrency("EUR"); // true
 * isCurrency("usd"); // false: codes are in capitals
 */
export function isCurrency(code: unknown): code is string {
	if (typeof code !== "string" || !/^[A-Z]{3}$/.test(code)) return false;
	currencies ??= new Set(Intl.supportedValuesOf("currency"));
	return currencies.has(code);
}

/**
 * How many decimals a currency's minor unit has: 2 for USD, 0 for JPY, 3 for KWD.
 *
 * @example
 * minorDigits("JPY"); // 0: 500 JPY is 500 minor units
 */
export function minorDigits(currency: string): number {
	return (
		new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits ?? 2
	);
}

/**
 * An amount in minor units as a decimal string in major units: 1234 USD is `12.34`, -5 is `-0.05`.
 *
 * @example
 * `${toMajor(balance.approved, balance.currency)} ${balance.currency}`; // "12.34 USD"
 */
export function toMajor(amount: number, currency: string): string {
	const digits = minorDigits(currency);
	if (digits === 0) return String(amount);
	const sign = amount < 0 ? "-" : "";
	const text = String(Math.abs(amount)).padStart(digits + 1, "0");
	return `${sign}${text.slice(0, -digits)}.${text.slice(-digits)}`;
}

/** Throws `INVALID_ARGUMENT` unless `value` is a whole number of minor units in [min, MAX_AMOUNT]. */
export function assertAmount(value: unknown, name: string, min = 0): number {
	if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > MAX_AMOUNT) {
		const float = typeof value === "number" && Number.isFinite(value) && !Number.isInteger(value);
		invalid(
			`${name} must be a whole number of minor units (cents) from ${min} to ${MAX_AMOUNT} (got ${JSON.stringify(value)})${
				float ? ": amounts are never fractions; 12.34 USD is 1234" : ""
			}.`,
		);
	}
	return value;
}

/** Throws `INVALID_ARGUMENT` unless `value` is an ISO 4217 code. */
export function assertCurrency(value: unknown, name: string): string {
	if (!isCurrency(value)) {
		invalid(
			`${name} must be an ISO 4217 currency code in capitals, such as "USD" (got ${JSON.stringify(value)}).`,
		);
	}
	return value;
}

/** A percentage (0 to 100, at most two decimals) in basis points, or `null` when it is not one. */
export function basisPoints(percent: unknown): number | null {
	if (typeof percent !== "number" || !Number.isFinite(percent) || percent < 0 || percent > 100) return null;
	const points = Math.round(percent * 100);
	return Math.abs(points - percent * 100) < 1e-6 ? points : null;
}

/**
 * `points` basis points of `amount`, rounded down to the minor unit: the one rounding rule. Exact for any
 * safe amount (computed in BigInt).
 *
 * @example
 * percentOf(999, 2000); // 199: 20 % of 9.99 is 1.998, rounded down to 1.99
 */
export function percentOf(amount: number, points: number): number {
	return Number((BigInt(amount) * BigInt(points)) / 10_000n);
}

/**
 * The part of a commission of `commission` that refunds totalling `refunded` of a sale of `sale` take back,
 * rounded down: computed on the cumulative refunded amount, so that partial refunds adding up to the whole
 * sale take back exactly the whole commission, however they are split.
 *
 * @example
 * // A commission of 124 on a sale of 999, refunded 333 at a time: 41, then 41, then 42.
 * takenBack(124, 666, 999) - takenBack(124, 333, 999); // 41, what the second refund takes back
 */
export function takenBack(commission: number, refunded: number, sale: number): number {
	if (sale <= 0) return commission;
	return Number((BigInt(commission) * BigInt(refunded)) / BigInt(sale));
}

/** The currency mismatch of a sale and its program, as the error a caller can act on. */
export function currencyMismatch(currency: string, program: { id: string; currency: string }): RefkitError {
	return new RefkitError(
		"CURRENCY_MISMATCH",
		`refkit: the sale is in ${currency}, but its referral earns under program "${program.id}", which pays in ${program.currency}. Record sales in the program's currency (convert them first), or give the link a program in ${currency}.`,
	);
}
