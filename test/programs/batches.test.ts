import { describe, expect, test } from "vitest";
import { createRefkit, isRefkitError, type RecordSaleResult } from "../../src/index.js";
import { createTestRefkit, DATABASES, freshDatabaseUrl, TEST_SECRET } from "../setup/databases.js";
import { program, referredSignup, refkitWithPrograms } from "./setup.js";

/*
 * Sales that arrive together are recorded in one transaction (src/programs/record-sales.ts). Calls made in one
 * turn of the event loop share a batch: these tests make them so, and check that each sale still gets the
 * outcome it would get alone, and that what one sale of the batch counts (sequence, cap, review) the next
 * one sees.
 */

const sale = (externalId: string, userId: string, amount: number, currency = "USD") => ({
	externalId,
	userId,
	amount,
	currency,
});

function commissionsOf(result: PromiseSettledResult<RecordSaleResult> | undefined) {
	if (result?.status !== "fulfilled" || result.value.status !== "recorded") return null;
	return result.value.commissions.map((c) => c.amount);
}

describe.each(DATABASES)("sales recorded together on %s", (kind) => {
	test("each sale of a batch gets its own outcome; sequences, a cap and a sale count carry from one to the next", async () => {
		const refkit = await refkitWithPrograms(kind, [
			program({
				rules: [{ on: "sale", percent: 20, months: 12, capPerReferral: 5000, maxSales: 3 }],
			}),
		]);
		await referredSignup(refkit, "alice", "bob");
		await referredSignup(refkit, "alice", "carol");
		const results = await Promise.allSettled([
			refkit.recordSale(sale("o1", "bob", 10000)),
			refkit.recordSale(sale("o1", "bob", 10000)),
			refkit.recordSale(sale("o2", "nobody", 10000)),
			refkit.recordSale(sale("o3", "bob", 10000, "EUR")),
			refkit.recordSale(sale("o4", "bob", 20000)),
			refkit.recordSale(sale("o5", "bob", 10000)),
			refkit.recordSale(sale("o6", "bob", 10000)),
			refkit.recordSale(sale("o7", "carol", 5000)),
		]);
		const statuses = results.map((r) =>
			r.status === "fulfilled" ? r.value.status : isRefkitError(r.reason) ? r.reason.code : r.reason,
		);
		expect(statuses).toEqual([
			"recorded",
			"duplicate",
			"not-referred",
			"CURRENCY_MISMATCH",
			"recorded",
			"recorded",
			"recorded",
			"recorded",
		]);
		const first =
			results[0]?.status === "fulfilled" && "sale" in results[0].value ? results[0].value.sale : null;
		const repeat =
			results[1]?.status === "fulfilled" && "sale" in results[1].value ? results[1].value.sale : null;
		expect(repeat, "the repeat answers the first").toEqual(first);
		// 20 % of each, up to 5000 per referral (2000 + 3000), for the first 3 sales of bob's referral.
		expect(results.map(commissionsOf)).toEqual([[2000], null, null, null, [3000], [], [], [1000]]);
		const sequences = await Promise.all(
			["o1", "o4", "o5", "o6", "o7"].map(async (id) => (await refkit.getSale(id))?.sequence),
		);
		expect(sequences).toEqual([1, 2, 3, 4, 1]);
		expect(await refkit.getSale("o2")).toBeNull();
		expect(await refkit.getSale("o3"), "the sale in the wrong currency is not recorded").toBeNull();
		expect(await refkit.balances("alice")).toEqual([
			{ userId: "alice", currency: "USD", pending: 0, held: 0, approved: 6000, paid: 0 },
		]);
	});

	test("maxPerHour counts the commissions earlier in the same batch", async () => {
		const refkit = await refkitWithPrograms(kind, [program()], { review: { maxPerHour: 2 } });
		await referredSignup(refkit, "alice", "bob"); // alice's first commission of the hour
		const results = await Promise.all(
			["o1", "o2", "o3"].map((id) => refkit.recordSale(sale(id, "bob", 10000))),
		);
		expect(results.map((r) => (r.status === "recorded" ? r.commissions[0]?.status : r.status))).toEqual([
			"approved",
			"held",
			"held",
		]);
	});

	test("a review hook that throws for one sale fails that sale alone; the others of its batch are recorded", async () => {
		let calls = 0;
		const refkit = await refkitWithPrograms(kind, [program()], {
			review: {
				hook: (candidate) => {
					calls++;
					if (candidate.sourceType === "sale" && candidate.referredUserId === "carol")
						throw new Error("the fraud service is down");
					return "approve";
				},
			},
		});
		await referredSignup(refkit, "alice", "bob");
		await referredSignup(refkit, "alice", "carol");
		calls = 0;
		const results = await Promise.allSettled([
			refkit.recordSale(sale("o1", "bob", 10000)),
			refkit.recordSale(sale("o2", "carol", 10000)),
			refkit.recordSale(sale("o3", "bob", 10000)),
		]);
		expect(results.map((r) => (r.status === "fulfilled" ? r.value.status : String(r.reason)))).toEqual([
			"recorded",
			"Error: the fraud service is down",
			"recorded",
		]);
		expect(calls, "the batch, then each sale on its own").toBeGreaterThan(3);
		expect(await refkit.getSale("o2")).toBeNull();
		const bobs = await refkit.listSales({ userId: "bob" });
		expect(bobs.map((s) => [s.externalId, s.sequence]).sort()).toEqual([
			["o1", 1],
			["o3", 2],
		]);
	});

	test("close() waits for the sales still waiting for their batch", async () => {
		const database = await freshDatabaseUrl(kind);
		const options = { database, secret: TEST_SECRET, programs: [program()] };
		const first = createRefkit(options);
		await first.migrate();
		await referredSignup(first, "alice", "bob");
		const recording = first.recordSale(sale("o1", "bob", 10000));
		await first.close();
		expect((await recording).status).toBe("recorded");
		const second = await createTestRefkit(kind, options);
		expect((await second.getSale("o1"))?.amount).toBe(10000);
	});
});
