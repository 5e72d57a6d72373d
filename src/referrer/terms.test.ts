import { expect, test } from "vitest";
import type { NamedRule, Program } from "../programs/types.js";
import { formatsFor } from "./format.js";
import { DEFAULT_REFERRER_MESSAGES as MESSAGES } from "./messages.js";
import { termsOf } from "./terms.js";

function program(rules: NamedRule[], extra: Partial<Program> = {}): Program {
	return { id: "main", currency: "USD", holdDays: 30, minimumPayout: 0, isDefault: true, rules, ...extra };
}

const en = formatsFor("en");

test("a goal rule: what the referrer earns, and what the friend gets on a double-sided one", () => {
	const both = program([{ name: "signup", on: "goal", goal: "signup", referrer: 500, referred: 300 }]);
	expect(termsOf(both, MESSAGES, en)[0]).toBe(
		"You earn $5.00 when someone you refer signs up, and they get $3.00.",
	);
	const one = program([{ name: "purchase", on: "goal", goal: "purchase", referrer: 1250 }]);
	expect(termsOf(one, MESSAGES, en)[0]).toBe("You earn $12.50 when someone you refer makes a purchase.");
	const friend = program([{ name: "trial", on: "goal", goal: "trial", referred: 1000 }]);
	expect(termsOf(friend, MESSAGES, en)[0]).toBe(
		"When someone you refer reaches the goal “trial”, they get $10.00.",
	);
	const none = program([{ name: "signup", on: "goal", goal: "signup", referrer: 0 }]);
	expect(termsOf(none, MESSAGES, en)[0]).toBe("Nothing is earned when someone you refer signs up.");
});

test("a sale rule: a percentage or an amount, with each of its limits", () => {
	const percent = program([{ name: "sale", on: "sale", percent: 12.5, months: 12, capPerReferral: 50_000 }]);
	expect(termsOf(percent, MESSAGES, en)[0]).toBe(
		"You earn 12.5% of every payment made by someone you refer, during the first 12 months after they were referred, up to $500.00 per person you refer.",
	);
	const amount = program(
		[{ name: "sale", on: "sale", amount: 250, maxSales: 3, minimumSale: 500, months: 1 }],
		{
			currency: "EUR",
		},
	);
	expect(termsOf(amount, MESSAGES, en)[0]).toBe(
		"You earn €2.50 for every payment made by someone you refer, during the first month after they were referred, on their first 3 payments, on payments of at least €5.00.",
	);
	const first = program([{ name: "sale", on: "sale", percent: 33.33, maxSales: 1 }]);
	expect(termsOf(first, MESSAGES, en)[0]).toBe(
		"You earn 33.33% of every payment made by someone you refer, on their first payment.",
	);
});

test("the holding period and the minimum payout, in the program's currency", () => {
	const held = program([], { holdDays: 30, minimumPayout: 5000, currency: "JPY" });
	expect(termsOf(held, MESSAGES, en)).toEqual([
		"Earnings become payable 30 days after they are earned, once the refund window is over.",
		"Payouts are made once your payable balance reaches ¥5,000.",
	]);
	const now = program([], { holdDays: 0, minimumPayout: 0 });
	expect(termsOf(now, MESSAGES, en)).toEqual([
		"Earnings are payable at once.",
		"Any positive balance is paid at the next payout.",
	]);
	expect(termsOf(program([], { holdDays: 1 }), MESSAGES, en)[0]).toMatch(/payable 1 day after/);
});

test("the words are the messages', the amounts the locale's", () => {
	const fr = formatsFor("fr");
	const terms = termsOf(
		program([{ name: "sale", on: "sale", percent: 20, capPerReferral: 123_456 }], {
			currency: "EUR",
			holdDays: 14,
		}),
		{
			...MESSAGES,
			saleRule: ({ percent, capPerReferral }) => `${percent} de chaque paiement, au plus ${capPerReferral}.`,
			holdingPeriod: (days, formatted) => `Payable après ${formatted} jour${days === 1 ? "" : "s"}.`,
		},
		fr,
	);
	expect(terms[0]).toBe(
		`${new Intl.NumberFormat("fr", { style: "percent" }).format(0.2)} de chaque paiement, au plus ${new Intl.NumberFormat("fr", { style: "currency", currency: "EUR" }).format(1234.56)}.`,
	);
	expect(terms[1]).toBe("Payable après 14 jours.");
});
