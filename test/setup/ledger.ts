import type { Commission, Refkit, RefkitOptions } from "../../src/index.js";

/** A small ledger for the dashboard's tests (HTTP and browser): two programs, a review, five users. */

/** Two programs, and a review that holds the commissions of referred users whose id starts with `sus`. */
export const PROGRAMS: Partial<RefkitOptions> = {
	programs: [
		{
			id: "main",
			currency: "USD",
			holdDays: 0,
			minimumPayout: 1000,
			rules: [
				{ on: "goal", goal: "signup", referrer: 500, referred: 300 },
				{ on: "sale", percent: 20, months: 12, capPerReferral: 50_000 },
			],
		},
		{ id: "partners", currency: "EUR", holdDays: 30, rules: [{ on: "sale", amount: 250, minimumSale: 500 }] },
	],
	defaultProgram: "main",
	review: {
		hook: (candidate) =>
			candidate.referredUserId.startsWith("sus") ? { hold: "Signed up from a flagged network" } : "approve",
	},
};

export async function refer(refkit: Refkit, userId: string, link: string): Promise<void> {
	const applied = await refkit.applyCode(userId, link, { signedUpAt: new Date() });
	if (applied.status !== "applied") throw new Error(`${userId}: ${applied.status}`);
	// A hit is credited only when it was made before the conversion.
	await new Promise((resolve) => setTimeout(resolve, 5));
	const converted = await refkit.confirm({ userId, goal: "signup" });
	if (converted.status !== "converted") throw new Error(`${userId}: ${converted.status}`);
}

/**
 * Alice refers Bob (both earn at signup; Bob's 50.00 sale earns her 10.00) and sus_carol (both held); Eve
 * refers Dan under `partners` (his 10.00 EUR sale earns her 2.50 EUR, pending 30 days). USD: Alice 15.00
 * payable and 5.00 held, Bob 3.00 payable, sus_carol 3.00 held.
 */
export async function seedLedger(refkit: Refkit) {
	await refkit.createLink({ identifier: "alice_link", userId: "alice" });
	await refkit.createLink({ identifier: "eve_link", userId: "eve", program: "partners" });
	await refer(refkit, "bob", "alice_link");
	await refer(refkit, "sus_carol", "alice_link");
	await refer(refkit, "dan", "eve_link");
	await refkit.recordSale({ externalId: "inv-bob-1", userId: "bob", amount: 5000, currency: "USD" });
	await refkit.recordSale({ externalId: "inv-dan-1", userId: "dan", amount: 1000, currency: "EUR" });
	const held = await refkit.listCommissions({ status: "held" });
	const of = (userId: string) => held.find((c) => c.userId === userId) as Commission;
	return { heldAlice: of("alice"), heldCarol: of("sus_carol") };
}
