import { describe, expect, test } from "vitest";
import { createTestRefkit, DATABASES } from "./setup/databases.js";

/**
 * A billing system's webhook may deliver one refund several times at once. Each repeat answers the first
 * refund, even when the first left nothing of the sale to refund (it once threw REFUND_EXCEEDS_SALE on
 * PostgreSQL, where the repeats waited for the first's lock and then found the sale refunded).
 */
describe.each(DATABASES)("a refund's repeats, racing, on %s", (kind) => {
	test("four calls with one refund id at once: one refunded, three duplicates, never an error", async () => {
		const refkit = await createTestRefkit(kind, {
			programs: [{ id: "p", currency: "USD", holdDays: 0, rules: [{ on: "sale", percent: 10 }] }],
		});
		const link = await refkit.linkFor("alice");
		await refkit.applyCode("bob", link.identifier, { signedUpAt: new Date() });
		await new Promise((resolve) => setTimeout(resolve, 5)); // the code's hit, strictly before the signup
		await refkit.confirm({ userId: "bob", goal: "signup" });
		const outcomes: string[] = [];
		for (let i = 0; i < 10; i++) {
			await refkit.recordSale({ externalId: `s${i}`, userId: "bob", amount: 1000, currency: "USD" });
			const results = await Promise.allSettled(
				Array.from({ length: 4 }, () =>
					refkit.refundSale({ externalId: `s${i}`, refundId: `r${i}`, amount: 1000, reason: "x" }),
				),
			);
			outcomes.push(
				results
					.map((result) =>
						result.status === "fulfilled" ? result.value.status : (result.reason as { code?: string }).code,
					)
					.sort()
					.join(","),
			);
		}
		expect(outcomes.filter((outcome) => outcome !== "duplicate,duplicate,duplicate,refunded")).toEqual([]);
		const sales = await refkit.listSales({ userId: "bob" });
		expect(sales.map((sale) => sale.refunded)).toEqual(sales.map(() => 1000));
		expect(await refkit.balances("alice")).toEqual([
			{ userId: "alice", currency: "USD", pending: 0, held: 0, approved: 0, paid: 0 },
		]);
	});
});
