import { toMajor } from "../programs/money.js";

/**
 * Numbers, money and days for people, in the page's locale, through `Intl`. Amounts stay exact: the whole
 * minor units become a decimal string (`toMajor`), which `Intl.NumberFormat` formats without a float.
 */
export interface Formats {
	locale: string;
	/** `1234` → `1,234` (en), `1 234` (fr). */
	number(value: number): string;
	/** A rate: `0.125` → `12.5%` (one decimal). */
	percent(ratio: number): string;
	/** A rule's percentage as declared (at most two decimals): `33.33` → `33.33%`. */
	share(percent: number): string;
	/** `500, "USD"` → `$5.00`. */
	money(minor: number, currency: string): string;
	/** A `YYYY-MM-DD` day (UTC) or a time, as a day: `Dec 7, 2026`. */
	day(value: string | Date): string;
	/** A `YYYY-MM-DD` day (UTC), short: `Dec 7`. */
	shortDay(date: string): string;
	/** A time, to the minute, in UTC: `Dec 7, 2026, 14:05`. */
	time(value: Date): string;
}

function asDate(value: string | Date): Date {
	return typeof value === "string" ? new Date(`${value}T00:00:00Z`) : value;
}

/** The formats of `locale`, a canonical BCP 47 tag. */
export function formatsFor(locale: string): Formats {
	const number = new Intl.NumberFormat(locale, { maximumFractionDigits: 2 });
	const percent = new Intl.NumberFormat(locale, { style: "percent", maximumFractionDigits: 1 });
	const share = new Intl.NumberFormat(locale, { style: "percent", maximumFractionDigits: 2 });
	const currencies = new Map<string, Intl.NumberFormat>();
	const day = new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeZone: "UTC" });
	const shortDay = new Intl.DateTimeFormat(locale, { month: "short", day: "numeric", timeZone: "UTC" });
	const time = new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" });
	return {
		locale,
		number: (value) => number.format(value),
		percent: (ratio) => percent.format(ratio),
		share: (value) => share.format(value / 100),
		money(minor, currency) {
			let format = currencies.get(currency);
			if (format === undefined) {
				format = new Intl.NumberFormat(locale, { style: "currency", currency });
				currencies.set(currency, format);
			}
			return format.format(toMajor(minor, currency) as `${number}`);
		},
		day: (value) => day.format(asDate(value)),
		shortDay: (date) => shortDay.format(asDate(date)),
		time: (value) => time.format(value),
	};
}
