import { setTimeout as sleep } from "node:timers/promises";
import { expect } from "vitest";
import type { Commission, ExportCommissionsInput, Refkit, Sale } from "../../src/index.js";

/** Referrals, sales and the ledger, made and read through the public API, for tests of what reads them. */

/** `referred` signs up with `referrer`'s code (a link of `program`, made if `referrer` has none): converted. */
export async function refer(
	refkit: Refkit,
	referrer: string,
	referred: string,
	program?: string,
): Promise<void> {
	const [own] = await refkit.listLinks({ userId: referrer });
	const link = own ?? (await refkit.createLink({ userId: referrer, program }));
	expect((await refkit.applyCode(referred, link.identifier, { signedUpAt: new Date() })).status).toBe(
		"applied",
	);
	// A hit is credited when made before the conversion.
	await sleep(5);
	expect((await refkit.confirm({ userId: referred, goal: "signup" })).status).toBe("converted");
}

/** Records a sale in USD, which must be `recorded`. */
export async function sale(
	refkit: Refkit,
	externalId: string,
	userId: string,
	amount: number,
): Promise<Sale> {
	const result = await refkit.recordSale({ externalId, userId, amount, currency: "USD" });
	if (result.status !== "recorded") throw new Error(`sale ${externalId}: ${result.status}`);
	return result.sale;
}

/** Every commission that matches, newest first. */
export async function everyCommission(
	refkit: Refkit,
	filters: ExportCommissionsInput = {},
): Promise<Commission[]> {
	const all: Commission[] = [];
	for await (const commission of refkit.exportCommissions(filters)) all.push(commission);
	return all;
}

/** A value as JSON has it: dates as ISO strings. */
export function plain(value: unknown): unknown {
	return JSON.parse(JSON.stringify(value));
}

/** Asserts that every number in `value`, however deep, is whole: amounts are minor units, never floats. */
export function expectWholeNumbers(value: unknown): void {
	if (typeof value === "number") expect(Number.isInteger(value), String(value)).toBe(true);
	else if (typeof value === "object" && value !== null)
		for (const v of Object.values(value)) expectWholeNumbers(v);
}
