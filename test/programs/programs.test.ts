import { describe, expect, test } from "vitest";
import { createRefkit, isRefkitError, type ProgramOptions, type RefkitErrorCode } from "../../src/index.js";
import { createTestRefkit, DATABASES, freshDatabaseUrl, TEST_SECRET } from "../setup/databases.js";
import { expectCode, visit } from "../setup/direct.js";
import { ledger, program, referredSignup, refkitWithPrograms } from "./setup.js";

const MONTH = 31 * 24 * 60 * 60 * 1000;

/** The code createRefkit() throws for these programs, or "none". */
function optionError(programs: unknown, extra: Record<string, unknown> = {}): RefkitErrorCode | "none" {
	try {
		createRefkit({
			database: ":memory:",
			secret: TEST_SECRET,
			programs: programs as ProgramOptions[],
			...extra,
		});
		return "none";
	} catch (error) {
		return isRefkitError(error) ? error.code : "none";
	}
}

describe("programs that make no sense are refused at start", () => {
	const rule = (r: object) => [program({ rules: [r as never] })];
	test.each([
		["an unknown currency", [program({ currency: "XXY" })]],
		["a currency in lower case", [program({ currency: "usd" })]],
		["a negative goal amount", rule({ on: "goal", goal: "signup", referrer: -1 })],
		["a fractional goal amount", rule({ on: "goal", goal: "signup", referrer: 4.5 })],
		["a goal rule that rewards nobody", rule({ on: "goal", goal: "signup" })],
		["a percentage above 100", rule({ on: "sale", percent: 101 })],
		["a negative percentage", rule({ on: "sale", percent: -5 })],
		["a percentage with three decimals", rule({ on: "sale", percent: 12.345 })],
		["both a percentage and an amount", rule({ on: "sale", percent: 10, amount: 100 })],
		["a cap below the amount", rule({ on: "sale", amount: 500, capPerReferral: 100 })],
		["zero months", rule({ on: "sale", percent: 10, months: 0 })],
		["an unknown rule", rule({ on: "click", amount: 1 })],
		["an unknown key", rule({ on: "sale", percent: 10, monthz: 3 })],
		["no rules", [program({ rules: [] })]],
		["a negative minimum payout", [program({ minimumPayout: -100 })]],
		["a fractional hold", [program({ holdDays: 1.5 })]],
		["two programs of one name", [program(), program()]],
		[
			"two rules for one goal",
			[
				program({
					rules: [
						{ on: "goal", goal: "signup", referrer: 1 },
						{ on: "goal", goal: "signup", referred: 1 },
					],
				}),
			],
		],
	])("%s", (_name, programs) => {
		expect(optionError(programs)).toBe("INVALID_OPTION");
	});

	test("a default program that is not one of them, and a review that is not an object", () => {
		expect(optionError([program()], { defaultProgram: "other" })).toBe("INVALID_OPTION");
		expect(optionError([program()], { review: { sameIp: "yes" } })).toBe("INVALID_OPTION");
		expect(optionError([program()], { review: { maxPerHour: 0 } })).toBe("INVALID_OPTION");
		expect(optionError([program()])).toBe("none");
		expect(
			optionError([
				program({ currency: "JPY", rules: [{ on: "sale", percent: 12.5, capPerReferral: 10000 }] }),
			]),
		).toBe("none");
	});
});

describe.each(DATABASES)("referral programs on %s", (kind) => {
	test("a signup pays both sides (double-sided), once, with the terms as applied", async () => {
		const refkit = await refkitWithPrograms(kind);
		const result = await referredSignup(refkit, "alice", "bob");
		expect(result.status).toBe("converted");
		if (result.status !== "converted") return;
		expect(result.commissions.map((c) => [c.userId, c.role, c.amount, c.currency, c.rule])).toEqual([
			["alice", "referrer", 500, "USD", "signup"],
			["bob", "referred", 500, "USD", "signup"],
		]);
		expect(result.commissions[0]?.terms).toMatchObject({
			on: "goal",
			goal: "signup",
			referrer: 500,
			referred: 500,
		});
		const again = await refkit.confirm({ userId: "bob", goal: "signup" });
		expect(again.status).toBe("already-converted");
		expect(await ledger(refkit)).toHaveLength(2);
		expect(await refkit.balances("alice")).toEqual([
			{ userId: "alice", currency: "USD", pending: 0, held: 0, approved: 500, paid: 0 },
		]);
	});

	test("a goal without a rule earns nothing; without programs confirm() records no commission", async () => {
		const refkit = await refkitWithPrograms(kind);
		const other = await referredSignup(refkit, "alice", "bob", { goal: "newsletter" });
		expect(other.status === "converted" && other.commissions).toEqual([]);
		const plain = await createTestRefkit(kind);
		const result = await referredSignup(plain, "alice", "bob");
		expect(result.status === "converted" && result.commissions).toEqual([]);
		await expectCode(
			plain.recordSale({ externalId: "o1", userId: "bob", amount: 100, currency: "USD" }),
			"NO_PROGRAMS",
		);
	});

	test("a sale pays 20 %, rounded down to the cent, exactly once per external id", async () => {
		const refkit = await refkitWithPrograms(kind);
		await referredSignup(refkit, "alice", "bob");
		const sale = await refkit.recordSale({
			externalId: "inv_1",
			userId: "bob",
			amount: 999,
			currency: "USD",
		});
		expect(sale.status).toBe("recorded");
		if (sale.status !== "recorded") return;
		expect(sale.sale).toMatchObject({
			externalId: "inv_1",
			userId: "bob",
			referrerUserId: "alice",
			amount: 999,
			refunded: 0,
			sequence: 1,
		});
		expect(sale.commissions.map((c) => [c.userId, c.amount, c.sourceType, c.rule])).toEqual([
			["alice", 199, "sale", "sale"],
		]);
		expect(sale.commissions[0]?.terms).toMatchObject({ percent: 20, months: 12, saleAmount: 999 });
		const repeat = await refkit.recordSale({
			externalId: "inv_1",
			userId: "bob",
			amount: 5000,
			currency: "USD",
		});
		expect(repeat).toEqual({ status: "duplicate", sale: sale.sale });
		expect((await refkit.listSales()).map((s) => s.externalId)).toEqual(["inv_1"]);
		expect(await refkit.getSale("inv_1")).toEqual(sale.sale);
	});

	test("a sale credits the referrer of the first conversion, whatever links the user follows later", async () => {
		const refkit = await refkitWithPrograms(kind);
		await referredSignup(refkit, "alice", "bob");
		await refkit.createLink({ identifier: "carol_link", userId: "carol" });
		await visit(refkit, "/ref/carol_link", { user: "bob" });
		const later = await refkit.confirm({ userId: "bob", goal: "purchase" });
		expect(later.status === "converted" && later.referrerUserId).toBe("carol");
		const sale = await refkit.recordSale({ externalId: "o1", userId: "bob", amount: 1000, currency: "USD" });
		expect(sale.status === "recorded" && sale.commissions.map((c) => c.userId)).toEqual(["alice"]);
	});

	test("outcomes: not referred, outside the months, beyond the sales, below the minimum sale, capped", async () => {
		const refkit = await refkitWithPrograms(kind, [
			program({
				rules: [{ on: "sale", amount: 300, months: 2, maxSales: 3, minimumSale: 1000, capPerReferral: 700 }],
			}),
		]);
		expect(
			await refkit.recordSale({ externalId: "x", userId: "nobody", amount: 100, currency: "USD" }),
		).toEqual({ status: "not-referred" });
		expect(await refkit.getSale("x")).toBeNull();
		await referredSignup(refkit, "alice", "bob");
		const amounts = [];
		for (const [i, amount] of [5000, 500, 5000, 5000, 5000].entries()) {
			const result = await refkit.recordSale({ externalId: `o${i}`, userId: "bob", amount, currency: "USD" });
			expect(result.status).toBe("recorded");
			amounts.push(result.status === "recorded" ? result.commissions.map((c) => c.amount) : null);
		}
		// 300, below the minimum sale, 300, the cap's last 100, beyond maxSales (the fifth sale is the fourth... no: sale 5 > 3).
		expect(amounts).toEqual([[300], [], [300], [], []]);
		const late = await refkit.recordSale({
			externalId: "late",
			userId: "bob",
			amount: 5000,
			currency: "USD",
			at: new Date(Date.now() + 3 * MONTH),
		});
		expect(late.status).toBe("outside-duration");
		expect(await refkit.getSale("late")).not.toBeNull();
	});

	test("a per-referral cap truncates the sale that reaches it", async () => {
		const refkit = await refkitWithPrograms(kind, [
			program({ rules: [{ on: "sale", percent: 50, capPerReferral: 700 }] }),
		]);
		await referredSignup(refkit, "alice", "bob");
		const earned = [];
		for (const id of ["a", "b", "c"]) {
			const result = await refkit.recordSale({
				externalId: id,
				userId: "bob",
				amount: 1000,
				currency: "USD",
			});
			earned.push(result.status === "recorded" ? result.commissions.map((c) => c.amount) : null);
		}
		expect(earned).toEqual([[500], [200], []]);
	});

	test("bad input is refused with a clear error and records nothing", async () => {
		const refkit = await refkitWithPrograms(kind);
		await referredSignup(refkit, "alice", "bob");
		const sale = (amount: unknown, currency = "USD") =>
			refkit.recordSale({ externalId: "o1", userId: "bob", amount: amount as number, currency });
		expect(await expectCode(sale(19.99), "INVALID_ARGUMENT")).toMatch(/whole number of minor units.*1234/);
		await expectCode(sale(-1), "INVALID_ARGUMENT");
		await expectCode(sale("100"), "INVALID_ARGUMENT");
		await expectCode(sale(100, "usd"), "INVALID_ARGUMENT");
		expect(await expectCode(sale(100, "EUR"), "CURRENCY_MISMATCH")).toMatch(/EUR.*"standard".*USD/);
		expect(await refkit.getSale("o1")).toBeNull();
		await refkit.recordSale({ externalId: "o1", userId: "bob", amount: 1000, currency: "USD" });
		await expectCode(
			refkit.refundSale({ externalId: "o1", refundId: "r1", amount: 1001, reason: "too much" }),
			"REFUND_EXCEEDS_SALE",
		);
		await expectCode(
			refkit.refundSale({ externalId: "o1", refundId: "r1", amount: 10.5, reason: "float" }),
			"INVALID_ARGUMENT",
		);
		await expectCode(
			refkit.refundSale({ externalId: "nope", refundId: "r1", reason: "none" }),
			"SALE_NOT_FOUND",
		);
		expect((await refkit.getSale("o1"))?.refunded).toBe(0);
		expect((await ledger(refkit)).filter((c) => c.status === "voided")).toEqual([]);
		await expectCode(
			refkit.markPayoutPaid("00000000-0000-4000-8000-000000000000", { reference: "x" }),
			"PAYOUT_NOT_FOUND",
		);
		await expectCode(refkit.failPayout("not-a-uuid", { reason: "x" }), "INVALID_ARGUMENT");
		await expectCode(refkit.exportPayouts("00000000-0000-4000-8000-000000000000"), "PAYOUT_NOT_FOUND");
		await expectCode(
			refkit.releaseCommission("00000000-0000-4000-8000-000000000000"),
			"COMMISSION_NOT_FOUND",
		);
		await expectCode(refkit.listCommissions({ status: "owed" as never }), "INVALID_ARGUMENT");
		await expectCode(refkit.createPayouts({ asOf: new Date(Date.now() + MONTH) }), "INVALID_ARGUMENT");
	});

	test("partial refunds adding up to the sale take back exactly the whole commission, each refund once", async () => {
		const refkit = await refkitWithPrograms(kind);
		await referredSignup(refkit, "alice", "bob");
		await refkit.recordSale({ externalId: "o1", userId: "bob", amount: 999, currency: "USD" }); // 199
		const first = await refkit.refundSale({
			externalId: "o1",
			refundId: "r1",
			amount: 333,
			reason: "one third",
		});
		expect(first.status).toBe("refunded");
		if (first.status !== "refunded") return;
		// floor(199 × 333 / 999) = 66 taken back: the 199 is voided and 133 appended in its place.
		expect(first.voided.map((c) => c.amount)).toEqual([199]);
		expect(first.replacements.map((c) => [c.amount, c.replaces])).toEqual([[133, first.voided[0]?.id]]);
		expect(first.clawbacks).toEqual([]);
		expect(
			await refkit.refundSale({ externalId: "o1", refundId: "r1", amount: 333, reason: "again" }),
		).toMatchObject({ status: "duplicate" });
		await refkit.refundSale({ externalId: "o1", refundId: "r2", amount: 333, reason: "two thirds" }); // 132 in all: 67 left
		const last = await refkit.refundSale({ externalId: "o1", refundId: "r3", reason: "the rest" });
		expect(last.status === "refunded" && [last.sale.refunded, last.refund.amount]).toEqual([999, 333]);
		const live = (await ledger(refkit)).filter((c) => c.sourceType === "sale" && c.status !== "voided");
		expect(live).toEqual([]);
		expect(await refkit.balances("alice")).toEqual([
			{ userId: "alice", currency: "USD", pending: 0, held: 0, approved: 500, paid: 0 },
		]);
		await expectCode(
			refkit.refundSale({ externalId: "o1", refundId: "r4", amount: 1, reason: "nothing left" }),
			"REFUND_EXCEEDS_SALE",
		);
	});

	test("a refund id names one refund of one sale: used for another sale, it is refused", async () => {
		const refkit = await refkitWithPrograms(kind);
		await referredSignup(refkit, "alice", "bob");
		await refkit.recordSale({ externalId: "o1", userId: "bob", amount: 1000, currency: "USD" });
		await refkit.recordSale({ externalId: "o2", userId: "bob", amount: 1000, currency: "USD" });
		await refkit.refundSale({ externalId: "o1", refundId: "r1", amount: 100, reason: "part" });
		expect(
			await expectCode(
				refkit.refundSale({ externalId: "o2", refundId: "r1", reason: "reused id" }),
				"INVALID_ARGUMENT",
			),
		).toMatch(/"r1" was used for another sale's refund/);
		expect((await refkit.getSale("o2"))?.refunded).toBe(0);
	});

	test("a refund after payout claws back, the next payout nets it, and a negative net is carried forward", async () => {
		const refkit = await refkitWithPrograms(kind);
		await referredSignup(refkit, "alice", "bob");
		await refkit.recordSale({ externalId: "o1", userId: "bob", amount: 10000, currency: "USD" }); // 2000
		const run = await refkit.createPayouts();
		expect(run).toMatchObject({ payouts: 1, totals: { USD: 2500 }, carriedForward: 1 }); // bob's 500 < 2000
		const [payout] = await refkit.listPayouts({ runId: run.runId });
		expect(payout).toMatchObject({ userId: "alice", amount: 2500, commissions: 2, status: "created" });
		await refkit.markPayoutPaid(payout?.id as string, { reference: "tr_1" });
		const paidBefore = (await ledger(refkit)).filter((c) => c.status === "paid");
		const refund = await refkit.refundSale({ externalId: "o1", refundId: "r1", reason: "refund" });
		expect(refund.status === "refunded" && refund.clawbacks.map((c) => [c.amount, c.clawbackOf])).toEqual([
			[-2000, paidBefore.find((c) => c.sourceType === "sale")?.id],
		]);
		expect(refund.status === "refunded" && refund.voided).toEqual([]);
		// The paid rows never change.
		expect((await ledger(refkit)).filter((c) => c.status === "paid")).toEqual(paidBefore);
		expect(await refkit.balances("alice")).toEqual([
			{ userId: "alice", currency: "USD", pending: 0, held: 0, approved: -2000, paid: 2500 },
		]);
		expect(await refkit.liabilities()).toEqual([
			{
				currency: "USD",
				pending: 0,
				held: 0,
				approved: -1500,
				paid: 2500,
				beneficiaries: 2,
				negative: { beneficiaries: 1, amount: -2000 },
			},
		]);
		const next = await refkit.createPayouts();
		expect(next).toMatchObject({ payouts: 0, carriedForward: 2 });
		// New earnings first pay back the clawback: 2000 + 2000 - 2000 reaches the minimum again.
		await refkit.recordSale({ externalId: "o2", userId: "bob", amount: 20000, currency: "USD" }); // 4000
		const third = await refkit.createPayouts();
		const [netted] = await refkit.listPayouts({ runId: third.runId, userId: "alice" });
		expect(netted).toMatchObject({ amount: 2000, commissions: 2 });
	});

	test("a failed payout releases its commissions to the next run; a paid one is closed", async () => {
		const refkit = await refkitWithPrograms(kind);
		await referredSignup(refkit, "alice", "bob");
		await refkit.recordSale({ externalId: "o1", userId: "bob", amount: 10000, currency: "USD" });
		const run = await refkit.createPayouts();
		const [payout] = await refkit.listPayouts({ runId: run.runId });
		const id = payout?.id as string;
		expect((await refkit.createPayouts()).payouts).toBe(0); // nothing is in two payouts
		expect(await refkit.failPayout(id, { reason: "account closed" })).toMatchObject({
			status: "failed",
			payout: { status: "failed", failureReason: "account closed" },
		});
		expect(await refkit.failPayout(id, { reason: "again" })).toMatchObject({ status: "already-failed" });
		await expectCode(refkit.markPayoutPaid(id, { reference: "late" }), "INVALID_STATE");
		expect((await ledger(refkit)).filter((c) => c.payoutId !== null)).toEqual([]);
		const again = await refkit.createPayouts();
		const [second] = await refkit.listPayouts({ runId: again.runId });
		expect(second).toMatchObject({ amount: 2500 });
		expect(await refkit.markPayoutPaid(second?.id as string, { reference: "tr_2" })).toMatchObject({
			status: "paid",
			payout: { reference: "tr_2" },
		});
		expect(await refkit.markPayoutPaid(second?.id as string, { reference: "tr_2" })).toMatchObject({
			status: "already-paid",
		});
		await expectCode(refkit.failPayout(second?.id as string, { reason: "too late" }), "INVALID_STATE");
		expect(await refkit.balances("alice")).toEqual([
			{ userId: "alice", currency: "USD", pending: 0, held: 0, approved: 0, paid: 2500 },
		]);
		const csv = [];
		for await (const line of await refkit.exportPayouts(again.runId)) csv.push(line);
		expect(csv[0]).toBe(
			"payout_id,user_id,currency,amount_minor,amount,commissions,status,reference,cutoff,created_at,paid_at,failure_reason,run_id\r\n",
		);
		expect(csv[1]).toMatch(/^[0-9a-f-]{36},alice,USD,2500,25\.00,2,paid,tr_2,/);
	});

	test("the holding period: pending until it ends, with the date it becomes payable; runs pay only what is due by the cutoff", async () => {
		const refkit = await refkitWithPrograms(kind, [program({ holdDays: 14, minimumPayout: 0 })]);
		const result = await referredSignup(refkit, "alice", "bob");
		const commission = result.status === "converted" ? result.commissions[0] : undefined;
		expect(commission?.status).toBe("pending");
		expect((commission?.payableAt.getTime() ?? 0) - (commission?.createdAt.getTime() ?? 0)).toBe(
			14 * 24 * 3600 * 1000,
		);
		expect(await refkit.balances("alice")).toEqual([
			{ userId: "alice", currency: "USD", pending: 500, held: 0, approved: 0, paid: 0 },
		]);
		expect((await refkit.createPayouts()).payouts).toBe(0);
		expect((await refkit.liabilities())[0]).toMatchObject({ pending: 1000, approved: 0, beneficiaries: 2 });
	});

	test("a reversed conversion voids its unpaid commissions, and claws back a paid one", async () => {
		const refkit = await refkitWithPrograms(kind, [program({ minimumPayout: 0 })]);
		const bob = await referredSignup(refkit, "alice", "bob");
		const run = await refkit.createPayouts();
		for (const payout of await refkit.listPayouts({ runId: run.runId })) {
			if (payout.userId === "alice") await refkit.markPayoutPaid(payout.id, { reference: "t" });
		}
		const carol = await referredSignup(refkit, "alice", "carol");
		await refkit.reverseConversion(carol.status === "converted" ? carol.conversion.id : "", {
			reason: "fraud",
		});
		await refkit.reverseConversion(bob.status === "converted" ? bob.conversion.id : "", { reason: "fraud" });
		const rows = await ledger(refkit);
		const sorted = (list: unknown[][]) => list.map((r) => r.join(" ")).sort();
		expect(
			sorted(rows.map((c) => [c.userId, c.amount, c.status, c.payoutId === null ? "unclaimed" : "claimed"])),
		).toEqual(
			sorted([
				["alice", 500, "paid", "claimed"], // bob's signup, paid: frozen...
				["alice", -500, "approved", "unclaimed"], // ...so its reversal is a clawback
				["bob", 500, "approved", "claimed"], // in a payout not yet paid: never voided...
				["bob", -500, "approved", "unclaimed"], // ...clawed back too
				["alice", 500, "voided", "unclaimed"], // carol's signup, unpaid: voided
				["carol", 500, "voided", "unclaimed"],
			]),
		);
		expect(rows.find((c) => c.amount === -500 && c.userId === "alice")?.clawbackOf).toBe(
			rows.find((c) => c.status === "paid")?.id,
		);
	});

	test("a campaign link earns under its own program, and changing the rules never rewrites history", async () => {
		const vip = program({ id: "vip", rules: [{ on: "goal", goal: "signup", referrer: 2500 }] });
		const url = await freshDatabaseUrl(kind);
		const refkit = await createTestRefkit(kind, { database: url, programs: [program(), vip] });
		await expectCode(
			refkit.createLink({ identifier: "x", userId: "alice", program: "gold" }),
			"INVALID_ARGUMENT",
		);
		const result = await referredSignup(refkit, "alice", "bob", { linkProgram: "vip" });
		expect(result.status === "converted" && result.commissions.map((c) => [c.program, c.amount])).toEqual([
			["vip", 2500],
		]);
		await refkit.close();
		const changed = await createTestRefkit(kind, {
			database: url,
			programs: [program(), { ...vip, rules: [{ on: "goal", goal: "signup", referrer: 1 }] }],
		});
		const [kept] = await changed.listCommissions({ userId: "alice" });
		expect([kept?.amount, kept?.terms]).toEqual([
			2500,
			{ on: "goal", goal: "signup", referrer: 2500, referred: 0 },
		]);
	});

	test("the programs' terms are kept in the database: a refkit without them (the CLI) pays by their minimum", async () => {
		const url = await freshDatabaseUrl(kind);
		const app = await createTestRefkit(kind, { database: url, programs: [program({ minimumPayout: 600 })] });
		await referredSignup(app, "alice", "bob");
		const cli = await createTestRefkit(kind, { database: url });
		const run = await cli.createPayouts();
		expect(run).toMatchObject({ payouts: 0, carriedForward: 2 }); // 500 < 600
		await referredSignup(app, "alice", "carol");
		expect((await cli.createPayouts()).totals).toEqual({ USD: 1000 });
	});

	test("review: the hook, the same IP, and too many in an hour hold commissions; an admin releases or rejects each", async () => {
		const refkit = await refkitWithPrograms(kind, [program({ minimumPayout: 0 })], {
			review: {
				maxPerHour: 2,
				hook: (c) => (c.role === "referred" && c.userId === "dave" ? { hold: "manual check" } : "approve"),
			},
		});
		await referredSignup(refkit, "alice", "bob");
		await referredSignup(refkit, "alice", "carol");
		const third = await referredSignup(refkit, "alice", "dave");
		const held = third.status === "converted" ? third.commissions : [];
		expect(held.map((c) => [c.userId, c.status, c.heldReason])).toEqual([
			["alice", "held", "The referrer earned more than 2 commissions in an hour."],
			["dave", "held", "manual check"],
		]);
		expect(await refkit.balances("alice")).toEqual([
			{ userId: "alice", currency: "USD", pending: 0, held: 500, approved: 1000, paid: 0 },
		]);
		expect((await refkit.listCommissions({ status: "held" })).length).toBe(2);
		const released = await refkit.releaseCommission(held[0]?.id as string);
		expect(released.status).toBe("approved"); // its holding period (0 days) is over
		const rejected = await refkit.rejectCommission(held[1]?.id as string, { reason: "same household" });
		expect([rejected.status, rejected.voidReason]).toEqual(["voided", "rejected: same household"]);
		await expectCode(refkit.releaseCommission(held[1]?.id as string), "INVALID_STATE");
		expect(await refkit.balances("alice")).toEqual([
			{ userId: "alice", currency: "USD", pending: 0, held: 0, approved: 1500, paid: 0 },
		]);

		const byIp = await refkitWithPrograms(kind, [program()], { review: { sameIp: true } });
		await byIp.createLink({ identifier: "erin_link", userId: "erin" });
		await byIp.createLink({ identifier: "other", userId: "zed" });
		await visit(byIp, "/ref/other", { user: "erin" }); // erin's own visit, from 127.0.0.1
		await visit(byIp, "/ref/erin_link", { user: "frank" }); // frank's, from the same address
		const frank = await byIp.confirm({ userId: "frank", goal: "signup" });
		expect(frank.status === "converted" && frank.commissions.map((c) => c.status)).toEqual(["held", "held"]);
	});

	test("exportUser() includes the person's commissions, sales and payouts; eraseUser() keeps the ledger", async () => {
		const refkit = await refkitWithPrograms(kind);
		await referredSignup(refkit, "alice", "bob");
		await refkit.recordSale({ externalId: "o1", userId: "bob", amount: 10000, currency: "USD" });
		await refkit.createPayouts();
		const alice = await refkit.exportUser("alice");
		expect(alice.commissions.map((c) => c.amount)).toEqual([500, 2000]);
		expect(alice.sales.map((s) => s.externalId)).toEqual(["o1"]);
		expect(alice.payouts.map((p) => p.amount)).toEqual([2500]);
		const bob = await refkit.exportUser("bob");
		expect([bob.commissions.map((c) => c.amount), bob.sales.length, bob.payouts]).toEqual([[500], 1, []]);
		await refkit.eraseUser("bob");
		expect((await refkit.exportUser("bob")).commissions).toHaveLength(1);
	});

	test("events: every ledger change is delivered at least once, in order", async () => {
		const reported: unknown[] = [];
		const refkit = await refkitWithPrograms(kind, [program()], { onError: (error) => reported.push(error) });
		await referredSignup(refkit, "alice", "bob");
		await refkit.recordSale({ externalId: "o1", userId: "bob", amount: 10000, currency: "USD" });
		const run = await refkit.createPayouts();
		const [payout] = await refkit.listPayouts({ runId: run.runId });
		await refkit.refundSale({ externalId: "o1", refundId: "r1", amount: 5000, reason: "half" });
		await refkit.markPayoutPaid(payout?.id as string, { reference: "t1" });
		const seen: string[] = [];
		let fail = true;
		const first = await refkit.deliverEvents(
			(delivery) => {
				if (fail && delivery.type === "payout.created") {
					fail = false;
					throw new Error("receiver down");
				}
				seen.push(delivery.type);
			},
			{ retryDelay: 1 },
		);
		expect(first.failed).toBe(1);
		expect(reported).toHaveLength(1);
		await new Promise((resolve) => setTimeout(resolve, 5));
		await refkit.deliverEvents((delivery) => void seen.push(`retry:${delivery.type}:${delivery.attempt}`));
		expect(seen).toEqual([
			"commission.created",
			"commission.created",
			"sale.recorded",
			"commission.created",
			"commission.approved",
			"commission.approved",
			"commission.approved",
			"sale.refunded",
			"commission.clawed_back",
			"payout.paid",
			"retry:payout.created:2",
		]);
	});
});
