import { toMajor } from "../programs/money.js";
import type { CommissionStatus, Payout } from "../programs/types.js";
import { type Html, html } from "./html.js";

/**
 * Money on the dashboard's pages: in major units with its currency for people (`12.34 USD`), the exact minor
 * units beside it in `data-minor` and the title, for a script or a careful reader. Never a float.
 */
export function amount(minor: number, currency: string): Html {
	return html`<span class="amount${minor < 0 ? " negative" : ""}" data-minor="${minor}" data-currency="${currency}" title="${minor} minor units of ${currency}">${toMajor(minor, currency)} ${currency}</span>`;
}

const COMMISSION_TAGS: Record<CommissionStatus, string> = {
	pending: "",
	held: "warn",
	approved: "ok",
	paid: "ok",
	voided: "off",
};

/** A commission's status as a tag; `approved` reads "payable". */
export function commissionStatus(status: CommissionStatus): Html {
	const kind = COMMISSION_TAGS[status];
	return html`<span class="tag${kind ? ` ${kind}` : ""}">${status === "approved" ? "payable" : status}</span>`;
}

const PAYOUT_TAGS: Record<Payout["status"], string> = { created: "warn", paid: "ok", failed: "off" };

/** A payout's status as a tag: `created` reads "to pay". */
export function payoutStatus(status: Payout["status"]): Html {
	return html`<span class="tag ${PAYOUT_TAGS[status]}">${status === "created" ? "to pay" : status}</span>`;
}

/** Sums per currency, exactly: in BigInt, so that no total of safe amounts can lose a unit. */
export class Totals<Key extends string> {
	readonly #sums = new Map<string, Map<Key, bigint>>();

	add(currency: string, key: Key, minor: number): void {
		const sums = this.#sums.get(currency) ?? new Map<Key, bigint>();
		sums.set(key, (sums.get(key) ?? 0n) + BigInt(minor));
		this.#sums.set(currency, sums);
	}

	/** The currencies, in alphabetical order. */
	currencies(): string[] {
		return [...this.#sums.keys()].sort();
	}

	/** The sum of `key` in `currency`, in minor units. */
	get(currency: string, key: Key): bigint {
		return this.#sums.get(currency)?.get(key) ?? 0n;
	}
}

/** A sum that may exceed a safe integer, in major units with its currency. */
export function total(minor: bigint, currency: string): Html {
	const safe = minor <= BigInt(Number.MAX_SAFE_INTEGER) && minor >= BigInt(Number.MIN_SAFE_INTEGER);
	return safe
		? amount(Number(minor), currency)
		: html`<span class="amount" data-minor="${String(minor)}" data-currency="${currency}">${String(minor)} minor units of ${currency}</span>`;
}
