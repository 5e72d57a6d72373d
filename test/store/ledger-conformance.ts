import { describe, expect, onTestFinished, test } from "vitest";
import type { Program } from "../../src/index.js";
import { earnedKey, type NewCommission } from "../../src/store/ledger-roles.js";
import type { RefkitStore } from "../../src/store/store.js";

/*
 * The contract of the ledger's roles (LedgerStore, SaleStore, PayoutStore in src/store/ledger-roles.ts), for
 * every store: appended rows, balances kept with them, moves only from the states named, claims only of
 * unclaimed rows, external ids once, refunds bounded by their sale, payouts closed once.
 */

const T0 = Date.parse("2024-03-04T10:00:00.000Z");
const at = (minutes: number) => new Date(T0 + minutes * 60_000);
const uuid = (prefix: number, n: number) =>
	`01900000-0000-7000-${8000 + prefix}-${String(n).padStart(12, "0")}`;

function commission(n: number, fields: Partial<NewCommission> = {}): NewCommission {
	return {
		id: uuid(1, n),
		program: "standard",
		rule: "sale",
		terms: { percent: 20 },
		userId: "alice",
		role: "referrer",
		sourceType: "sale",
		sourceId: uuid(2, n),
		referralId: uuid(3, 1),
		amount: 100 * n,
		currency: "USD",
		status: "approved",
		payableAt: at(0),
		heldReason: null,
		clawbackOf: null,
		replaces: null,
		createdAt: at(0),
		...fields,
	};
}

const PROGRAM: Program = {
	id: "standard",
	currency: "USD",
	holdDays: 14,
	minimumPayout: 2000,
	isDefault: true,
	rules: [],
};

export function ledgerConformance(name: string, makeStore: () => Promise<RefkitStore>): void {
	async function fresh(): Promise<RefkitStore> {
		const store = await makeStore();
		onTestFinished(() => store.close());
		await store.migrate();
		return store;
	}

	describe(`ledger conformance: ${name}`, () => {
		test("savePrograms keeps the terms; saving again replaces them and one program stays the default", async () => {
			const store = await fresh();
			await store.savePrograms(
				[PROGRAM, { ...PROGRAM, id: "vip", isDefault: false, minimumPayout: 0 }],
				at(0),
			);
			await store.savePrograms([{ ...PROGRAM, id: "vip", isDefault: true, minimumPayout: 5 }], at(1));
			expect((await store.savedPrograms()).map((p) => [p.id, p.minimumPayout, p.isDefault])).toEqual([
				["standard", 2000, false],
				["vip", 5, true],
			]);
		});

		test("insertCommissions appends rows and adds them to the balances; a pending one past its date reads approved", async () => {
			const store = await fresh();
			const rows = await store.insertCommissions(
				[
					commission(1),
					commission(2, { status: "pending", payableAt: at(10) }),
					commission(3, { status: "held", heldReason: "why" }),
				],
				at(5),
			);
			expect(rows.map((c) => [c.amount, c.status])).toEqual([
				[100, "approved"],
				[200, "pending"],
				[300, "held"],
			]);
			expect(await store.balances("alice", at(5))).toEqual([
				{ userId: "alice", currency: "USD", pending: 200, held: 300, approved: 100, paid: 0 },
			]);
			expect(await store.balances("alice", at(10))).toEqual([
				{ userId: "alice", currency: "USD", pending: 0, held: 300, approved: 300, paid: 0 },
			]);
			expect((await store.getCommission(uuid(1, 2), at(10)))?.status).toBe("approved");
			expect(await store.balances("nobody", at(10))).toEqual([]);
		});

		test("moveCommissions moves only rows in the named states (and unclaimed ones when asked), keeping balances", async () => {
			const store = await fresh();
			await store.insertCommissions([commission(1), commission(2, { status: "held" })], at(0));
			const voided = await store.moveCommissions([uuid(1, 1), uuid(1, 2)], {
				from: ["held"],
				to: "voided",
				voidReason: "no",
				now: at(1),
			});
			expect(voided.map((c) => [c.id, c.status, c.voidReason])).toEqual([[uuid(1, 2), "voided", "no"]]);
			expect(
				await store.moveCommissions([uuid(1, 2)], { from: ["held"], to: "pending", now: at(2) }),
			).toEqual([]);
			expect(await store.balances("alice", at(2))).toEqual([
				{ userId: "alice", currency: "USD", pending: 0, held: 0, approved: 100, paid: 0 },
			]);
		});

		test("a payout claims only approved, unclaimed rows due by its cutoff; closing it is done once", async () => {
			const store = await fresh();
			await store.insertCommissions(
				[
					commission(1),
					commission(2),
					commission(3, { payableAt: at(60) }),
					commission(4, { userId: "bob" }),
				],
				at(0),
			);
			expect(await store.payableBeneficiaries(at(30), null, 10)).toEqual(["alice", "bob"]);
			expect((await store.payableSums(["alice"], at(30))).map((s) => [s.userId, s.amount, s.count])).toEqual([
				["alice", 300, 2],
			]);
			const payout = {
				id: uuid(4, 1),
				runId: uuid(5, 1),
				userId: "alice",
				currency: "USD",
				amount: 300,
				commissions: 2,
				cutoff: at(30),
				createdAt: at(30),
			};
			await store.insertPayouts([payout]);
			expect(await store.claimForRun(payout.runId, ["alice"], at(30), at(30))).toBe(2);
			expect(
				await store.claimForRun(payout.runId, ["alice"], at(30), at(31)),
				"a second claim finds nothing",
			).toBe(0);
			expect(await store.payableBeneficiaries(at(30), null, 10)).toEqual(["bob"]);
			// Claimed rows are not voided by a move that asks for unclaimed ones.
			expect(
				await store.moveCommissions([uuid(1, 1)], {
					from: ["approved"],
					to: "voided",
					unclaimed: true,
					now: at(32),
				}),
			).toEqual([]);
			expect((await store.closePayout(payout.id, { status: "paid", reference: "t" }, at(33)))?.status).toBe(
				"paid",
			);
			expect(await store.closePayout(payout.id, { status: "failed", reason: "late" }, at(34))).toBeNull();
			const paid = await store.moveCommissions(
				{ payoutId: payout.id },
				{ from: ["approved"], to: "paid", now: at(33) },
			);
			expect(paid).toHaveLength(2);
			expect(await store.balances("alice", at(60))).toEqual([
				{ userId: "alice", currency: "USD", pending: 0, held: 0, approved: 300, paid: 300 },
			]);
		});

		test("a failed payout's commissions are released", async () => {
			const store = await fresh();
			await store.insertCommissions([commission(1)], at(0));
			const payout = {
				id: uuid(4, 1),
				runId: uuid(5, 1),
				userId: "alice",
				currency: "USD",
				amount: 100,
				commissions: 1,
				cutoff: at(1),
				createdAt: at(1),
			};
			await store.insertPayouts([payout]);
			await store.claimForRun(payout.runId, ["alice"], at(1), at(1));
			await store.closePayout(payout.id, { status: "failed", reason: "bounced" }, at(2));
			expect(await store.releasePayout(payout.id, at(2))).toBe(1);
			expect(await store.payableBeneficiaries(at(3), null, 10)).toEqual(["alice"]);
		});

		test("a sale and a refund are stored once per external id; refunds never pass the sale", async () => {
			const store = await fresh();
			const sale = {
				id: uuid(6, 1),
				externalId: "inv_1",
				userId: "bob",
				referrerUserId: "alice",
				referralId: uuid(3, 1),
				program: "standard",
				amount: 1000,
				currency: "USD",
				sequence: 1,
				createdAt: at(0),
			};
			expect((await store.insertSales([sale], at(0))).map((s) => s.refunded)).toEqual([0]);
			const second = { ...sale, id: uuid(6, 3), externalId: "inv_2", userId: "carol", sequence: 2 };
			const inserted = await store.insertSales([{ ...sale, id: uuid(6, 2) }, second], at(1));
			expect(
				inserted.map((s) => s.externalId),
				"the repeat is left out",
			).toEqual(["inv_2"]);
			expect(await store.lastSaleSequences([uuid(3, 1), uuid(3, 2)])).toEqual(new Map([[uuid(3, 1), 2]]));
			expect([...(await store.findSales(["inv_1", "inv_2", "inv_3"])).keys()].sort()).toEqual([
				"inv_1",
				"inv_2",
			]);
			expect((await store.addRefunded(sale.id, 600))?.refunded).toBe(600);
			expect(await store.addRefunded(sale.id, 401)).toBeNull();
			expect((await store.findSale("inv_1"))?.refunded).toBe(600);
			const refund = {
				id: uuid(7, 1),
				externalId: "re_1",
				saleId: sale.id,
				amount: 600,
				reason: "r",
				createdAt: at(2),
			};
			expect(await store.insertRefund(refund)).toEqual(refund);
			expect(await store.insertRefund({ ...refund, id: uuid(7, 2) })).toBeNull();
			expect(
				(await store.listSales({ userId: "bob", limit: 10, offset: 0 })).map((s) => s.externalId),
			).toEqual(["inv_1"]);
		});

		test("what referrals earned is summed by referral and rule, voided rows left out", async () => {
			const store = await fresh();
			await store.insertCommissions(
				[
					commission(1),
					commission(2),
					commission(3, { rule: "bonus" }),
					commission(4, { referralId: uuid(3, 2) }),
					commission(5, { status: "pending" }),
				],
				at(0),
			);
			await store.moveCommissions([uuid(1, 5)], { from: ["pending"], to: "voided", now: at(1) });
			const earned = await store.earnedByReferrals([uuid(3, 1), uuid(3, 2), uuid(3, 3)], ["sale"]);
			expect(earned).toEqual(
				new Map([
					[earnedKey(uuid(3, 1), "sale"), 300],
					[earnedKey(uuid(3, 2), "sale"), 400],
				]),
			);
		});

		test("events are taken once, in the order they were written, until delivered", async () => {
			const store = await fresh();
			const [a] = await store.insertCommissions([commission(1)], at(0));
			await store.insertEvents(
				[
					{ type: "commission.created", data: a as never },
					{ type: "commission.approved", data: a as never },
				],
				at(0),
			);
			const taken = await store.takeDueEvents(at(1), at(10), 10);
			expect(taken.map((e) => [e.event.type, e.attempt])).toEqual([
				["commission.created", 1],
				["commission.approved", 1],
			]);
			expect(taken[0]?.event.data).toMatchObject({ id: uuid(1, 1), payableAt: at(0) });
			expect(await store.takeDueEvents(at(1), at(10), 10), "leased").toEqual([]);
			await store.markEventDelivered(taken[0]?.event.id as string, at(2));
			await store.markEventFailed(taken[1]?.event.id as string, "down", at(3));
			expect((await store.takeDueEvents(at(4), at(20), 10)).map((e) => [e.event.type, e.attempt])).toEqual([
				["commission.approved", 2],
			]);
		});

		test("lockBeneficiaries in two transactions with overlapping names in any order never deadlocks", async () => {
			const store = await fresh();
			const work = (names: string[]) =>
				store.transaction(async (tx) => {
					await tx.lockBeneficiaries(names);
					await tx.insertCommissions([commission(Math.floor(Math.random() * 1e9))], at(0));
				});
			await Promise.all(
				Array.from({ length: 10 }, (_, i) => work(i % 2 ? ["a", "b", "c"] : ["c", "b", "a"])),
			);
			expect((await store.balances("alice", at(1)))[0]?.approved).toBeGreaterThan(0);
		});
	});
}
