import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
	type Commission,
	type PayoutRun,
	type ProgramOptions,
	type RecordSaleResult,
	type Refkit,
	type RefundSaleResult,
	takenBack,
} from "../src/index.js";
import { createTestRefkit, DATABASES, type DatabaseKind, freshDatabaseUrl } from "./setup/databases.js";
import { runSql } from "./setup/direct.js";
import { balanceViolations, commissionRows, payoutRows, payoutViolations } from "./setup/ledger-checks.js";
import { type Call, type RacerOptions, Racers, type Result, race, values } from "./setup/racers.js";

/**
 * Races of the ledger, decided by the database: several refkits in processes of their own (see
 * test/setup/racers.ts) call at once on one database, and the tables are then checked with SQL. Each test
 * names the guards it relies on; each test failed when its guard was removed (docs/development.md, "Race
 * tests", says how). On SQLite, BEGIN IMMEDIATE makes writers take turns and the ledger locks are no-ops.
 */

const PROGRAM: ProgramOptions = {
	id: "main",
	currency: "USD",
	holdDays: 0,
	minimumPayout: 0,
	rules: [
		{ on: "goal", goal: "signup", referrer: 500, referred: 300 },
		{ on: "sale", percent: 10 },
	],
};

/** Runs `work(0)` ... `work(count - 1)`, `width` at a time. */
async function inTurns(count: number, width: number, work: (i: number) => Promise<unknown>): Promise<void> {
	for (let start = 0; start < count; start += width) {
		await Promise.all(Array.from({ length: Math.min(width, count - start) }, (_, j) => work(start + j)));
	}
}

/** `referred` signs up with `referrer`'s code: a conversion, and the signup's commissions. */
async function refer(refkit: Refkit, referrer: string, referred: string): Promise<void> {
	const applied = await refkit.applyCode(referred, `code_${referrer}`, { signedUpAt: new Date() });
	if (applied.status !== "applied") throw new Error(`applyCode: ${applied.status}`);
	const converted = await refkit.confirm({ userId: referred, goal: "signup" });
	if (converted.status !== "converted") throw new Error(`confirm: ${converted.status}`);
}

/** Referrers `r0`... each with a link of code `code_rN`, and `perReferrer` referred users `rN-bM` each. */
async function seedReferrals(refkit: Refkit, referrers: number, perReferrer: number): Promise<string[]> {
	await inTurns(referrers, 20, (i) => refkit.createLink({ identifier: `code_r${i}`, userId: `r${i}` }));
	const buyers = Array.from({ length: referrers * perReferrer }, (_, k) => ({
		referrer: `r${k % referrers}`,
		buyer: `r${k % referrers}-b${Math.floor(k / referrers)}`,
	}));
	await inTurns(buyers.length, 20, (k) => refer(refkit, buyers[k]?.referrer ?? "", buyers[k]?.buyer ?? ""));
	return buyers.map((b) => b.buyer);
}

const sale = (externalId: string, userId: string, amount: number): Call => ({
	method: "recordSale",
	args: [{ externalId, userId, amount, currency: "USD" }],
});

/** What each call answered, in a few words: its status or its error. */
function summary(results: readonly Result[]): string {
	return results
		.map((r) =>
			r.ok ? ((r.value as { status?: string }).status ?? "ok") : `${r.code ?? "Error"}: ${r.message}`,
		)
		.join(", ");
}

async function events(kind: DatabaseKind, url: string, type: string): Promise<Record<string, unknown>[]> {
	const rows = (await runSql(kind, url, "select data from refkit_event where type = $1", [type])) as {
		data: string;
	}[];
	return rows.map((row) => JSON.parse(row.data) as Record<string, unknown>);
}

describe.each(DATABASES)("referral programs racing on %s", (kind) => {
	const processes = new Racers(5);
	beforeAll(() => processes.start());
	afterAll(() => processes.stop());

	/** A refkit on a new database for the test's own steps, and the racers on the same database. */
	async function setUp(options: RacerOptions = {}) {
		const url = await freshDatabaseUrl(kind);
		const refkit = await createTestRefkit(kind, { database: url, programs: [PROGRAM], ...options });
		return { url, refkit, racers: await processes.on(url, { programs: [PROGRAM], ...options }) };
	}

	test("50 concurrent recordSale() calls with one external id record one sale and one commission", async () => {
		const { url, refkit, racers } = await setUp();
		await refkit.createLink({ identifier: "code_alice", userId: "alice" });
		await refer(refkit, "alice", "bob");
		const results = values<RecordSaleResult>(
			await race(
				racers,
				Array.from({ length: 50 }, () => sale("inv-1", "bob", 1999)),
			),
		);
		// Guards: refkit_sale's unique external_id, with ON CONFLICT DO NOTHING and the winner read back; on
		// SQLite, the write lock taken before the transaction's first read of the sale.
		const recorded = results.filter((r) => r.status === "recorded");
		expect(recorded).toHaveLength(1);
		expect(results.filter((r) => r.status === "duplicate")).toHaveLength(49);
		const winner = recorded[0] as Extract<RecordSaleResult, { status: "recorded" }>;
		expect(new Set(results.map((r) => (r as { sale: { id: string } }).sale.id))).toEqual(
			new Set([winner.sale.id]),
		);
		expect(winner.commissions.map((c) => [c.userId, c.amount])).toEqual([["alice", 199]]);

		expect(
			await runSql(kind, url, "select count(*) as n from refkit_sale where external_id = 'inv-1'"),
		).toEqual([{ n: kind === "postgres" ? "1" : 1 }]);
		const ofSale = (await commissionRows(kind, url)).filter((c) => c.sourceId === winner.sale.id);
		expect(ofSale.map((c) => [c.userId, c.amount])).toEqual([["alice", 199]]);
		expect(await events(kind, url, "sale.recorded")).toHaveLength(1);
		expect(
			(await events(kind, url, "commission.created")).filter((e) => e.sourceId === winner.sale.id),
		).toHaveLength(1);
		expect(await refkit.listSales({ userId: "bob" })).toHaveLength(1);
		expect((await refkit.balances("alice"))[0]?.approved).toBe(500 + 199);
		expect(await balanceViolations(kind, url, refkit)).toEqual([]);
	});

	test("50 concurrent sales of one referral take turns: sequences 1 to 50, a cap and a sale count never passed", async () => {
		const capped: ProgramOptions = {
			...PROGRAM,
			rules: [
				{ on: "sale", percent: 10, capPerReferral: 1000 },
				{ on: "sale", amount: 50, maxSales: 5 },
			],
		};
		const { url, refkit, racers } = await setUp({ programs: [capped] });
		await refkit.createLink({ identifier: "code_alice", userId: "alice" });
		await refer(refkit, "alice", "bob");
		const results = values<RecordSaleResult>(
			await race(
				racers,
				Array.from({ length: 50 }, (_, i) => sale(`inv-${i}`, "bob", 1999)),
			),
		);
		// Guard: recordSale() takes the referrer's ledger lock before it counts the referral's sales and sums
		// what the capped rule paid it (on SQLite, BEGIN IMMEDIATE makes writers take turns).
		expect(results.every((r) => r.status === "recorded")).toBe(true);
		const sales = await refkit.listSales({ userId: "bob", limit: 100 });
		expect(sales.map((s) => s.sequence).sort((a, b) => a - b)).toEqual(
			Array.from({ length: 50 }, (_, i) => i + 1),
		);
		const rows = await commissionRows(kind, url);
		const sum = (rule: string) => rows.filter((c) => c.rule === rule).reduce((n, c) => n + c.amount, 0);
		expect(sum("sale")).toBe(1000);
		expect(sum("sale:2")).toBe(250);
		expect(rows.filter((c) => c.rule === "sale:2")).toHaveLength(5);
		// The first five sales by sequence earned the fixed amount, whichever call got there first.
		const bySequence = new Map(sales.map((s) => [s.id, s.sequence]));
		expect(
			rows
				.filter((c) => c.rule === "sale:2")
				.map((c) => bySequence.get(c.sourceId))
				.sort(),
		).toEqual([1, 2, 3, 4, 5]);
		expect(await balanceViolations(kind, url, refkit)).toEqual([]);
	});

	test("20 concurrent payout runs, with sales arriving, pay every commission once", async () => {
		const { url, refkit, racers } = await setUp();
		// 100 referrers with 2 referred users each: 300 beneficiaries, 400 signup commissions.
		const buyers = await seedReferrals(refkit, 100, 2);
		const buy = (externalId: string, k: number) =>
			refkit.recordSale({ externalId, userId: buyers[k] ?? "", amount: 1000 + k, currency: "USD" });
		const runs: PayoutRun[] = [];
		for (let round = 0; round < 3; round++) {
			// Each round, every referrer earns more: from the second round on, every run finds beneficiaries
			// already paid (the claim must skip their claimed rows), and a run with the earlier cutoff leaves
			// some for the others.
			await inTurns(buyers.length, 20, (k) => buy(`early-${round}-${k}`, k));
			await sleep(20);
			const middle = new Date();
			await sleep(20);
			await inTurns(buyers.length / 2, 20, (k) => buy(`late-${round}-${k}`, 2 * k));
			// 20 runs, every other one with the earlier cutoff, started 5 ms apart (each takes far longer, so they
			// overlap), and sales that keep arriving (so approving) while they run.
			const calls: Call[] = [];
			for (let i = 0; i < 20; i++) {
				const delay = i * 5;
				calls.push({ method: "createPayouts", args: i % 2 ? [] : [{ asOf: middle }], delay });
				calls.push({ ...sale(`racing-${round}-${i}-a`, buyers[(i * 7) % 200] ?? "", 3000 + i), delay });
				calls.push({ ...sale(`racing-${round}-${i}-b`, buyers[(i * 13 + 5) % 200] ?? "", 4000 + i), delay });
			}
			// Guards: the beneficiaries' ledger locks around summing and claiming, and the claim's `payout_id is
			// null`, whose row count createPayouts() checks against what it summed (a mismatch rolls the run back
			// and throws): no run may fail.
			const answers = values<unknown>(await race(racers, calls));
			runs.push(...(answers.filter((_, i) => calls[i]?.method === "createPayouts") as PayoutRun[]));
			expect(await payoutViolations(kind, url)).toEqual([]);
		}
		expect(runs).toHaveLength(60);
		// What was approved after the last run is paid by one more.
		const last = await refkit.createPayouts();
		const made = [...runs, last];

		expect(await payoutViolations(kind, url)).toEqual([]);
		const commissions = await commissionRows(kind, url);
		expect(commissions.filter((c) => c.status !== "voided" && c.payoutId === null)).toEqual([]);
		expect(commissions).toHaveLength(400 + 3 * (200 + 100 + 40));
		const payouts = await payoutRows(kind, url);
		const paidOut = payouts.reduce((n, p) => n + p.amount, 0);
		expect(paidOut).toBe(commissions.reduce((n, c) => n + c.amount, 0));
		// What the runs answered is what they committed: no rolled-back payout counted.
		expect(made.reduce((n, r) => n + r.payouts, 0)).toBe(payouts.length);
		expect(made.reduce((n, r) => n + (r.totals.USD ?? 0), 0)).toBe(paidOut);
		expect(await events(kind, url, "payout.created")).toHaveLength(payouts.length);
		// Each commission was claimed once: no id appears in two payouts' commissions.
		const claimed = new Map<string, string>();
		for (const p of payouts) {
			for await (const c of refkit.exportCommissions({ payoutId: p.id })) {
				expect(claimed.get(c.id), `commission ${c.id} in two payouts`).toBeUndefined();
				claimed.set(c.id, p.id);
			}
		}
		expect(claimed.size).toBe(commissions.length);
		expect(await balanceViolations(kind, url, refkit)).toEqual([]);
	});

	test("refunds racing payout runs: each commission voided or clawed back, never neither, never both", async () => {
		const { url, refkit, racers } = await setUp();
		const buyers = await seedReferrals(refkit, 10, 3);
		const ROUNDS = 8;
		// Who goes first is steered from round to round, so that about half the refunds come before a run's
		// claim and half after, whatever the machine's load: `shift` ms later for the refunds (or, negative, for
		// the runs), moved by half a run's time towards the side that lost the last round.
		// The refunds are spread over twice as long as the last round's quickest run took (`width` ms).
		let shift = 0;
		let width = 30;
		const outcomes = { voided: 0, clawedBack: 0 };
		let previous: string[] = [];
		for (let round = 0; round < ROUNDS; round++) {
			// 30 sales, approved at once (holdDays 0); a third of them will be refunded by half, the rest in full.
			const sales = await Promise.all(
				buyers.map((buyer, k) =>
					refkit.recordSale({
						externalId: `s${round}-${k}`,
						userId: buyer,
						amount: 1001 + 37 * k,
						currency: "USD",
					}),
				),
			);
			const voidedBefore = outcomes.voided;
			const calls: Call[] = sales.map((s, k) => ({
				method: "refundSale",
				delay: Math.round(Math.max(0, shift) + (((k * 7) % 30) * width) / 30),
				args: [
					{
						externalId: (s as { sale: { externalId: string } }).sale.externalId,
						refundId: `rf${round}-${k}`,
						...(k % 3 === 0 ? { amount: Math.floor((1001 + 37 * k) / 2) } : {}),
						reason: "requested by customer",
					},
				],
			}));
			// Payout runs in the middle of the refunds, and last round's payouts marked paid meanwhile.
			const run: Call = { method: "createPayouts", args: [], delay: Math.max(0, -shift) };
			calls.splice(10, 0, ...Array.from({ length: 6 }, () => run));
			calls.push(
				...previous.map((id) => ({ method: "markPayoutPaid", args: [id, { reference: `t-${id}` }] })),
			);
			const raced = await race(racers, calls);
			const results = values<unknown>(raced);
			// Guards: the referrer's ledger lock, taken by refundSale() and by each run's claim, and takeBack()'s
			// void of unclaimed rows only (`payout_id is null`), whose miss means "claimed: claw back".
			const rows = await commissionRows(kind, url);
			const byId = new Map(rows.map((c) => [c.id, c]));
			for (const [k, s] of sales.entries()) {
				const recorded = s as Extract<RecordSaleResult, { status: "recorded" }>;
				const original = recorded.commissions[0] as Commission;
				const stored = byId.get(original.id);
				const clawbacks = rows.filter((c) => c.clawbackOf === original.id);
				const replacements = rows.filter((c) => c.replaces === original.id);
				const refunded = k % 3 === 0 ? Math.floor(recorded.sale.amount / 2) : recorded.sale.amount;
				const part = takenBack(original.amount, refunded, recorded.sale.amount);
				const refund = results.find(
					(r) => (r as RefundSaleResult).refund?.externalId === `rf${round}-${k}`,
				) as Extract<RefundSaleResult, { status: "refunded" }>;
				const label = `round ${round}, sale ${k}: ${JSON.stringify({ stored, clawbacks, replacements })}`;
				if (stored?.status === "voided") {
					outcomes.voided++;
					expect(stored.payoutId, label).toBeNull();
					expect(clawbacks, label).toEqual([]);
					expect(
						replacements.map((c) => c.amount),
						label,
					).toEqual(part < original.amount ? [original.amount - part] : []);
					expect(refund.voided.map((c) => c.id)).toEqual([original.id]);
				} else {
					outcomes.clawedBack++;
					expect(stored?.payoutId, label).not.toBeNull();
					expect(
						clawbacks.map((c) => c.amount),
						label,
					).toEqual([-part]);
					expect(replacements, label).toEqual([]);
					expect(refund.clawbacks.map((c) => c.clawbackOf)).toEqual([original.id]);
				}
			}
			const voided = outcomes.voided - voidedBefore;
			const runTime = Math.min(
				...raced.filter((_, i) => calls[i] === run).map((r) => (r.ended ?? 0) - (r.started ?? 0)),
			);
			width = Math.max(30, 2 * runTime);
			if (voided < 10) shift -= Math.max(20, runTime / 2);
			else if (voided > 20) shift += Math.max(20, runTime / 2);
			expect(await payoutViolations(kind, url)).toEqual([]);
			expect(await balanceViolations(kind, url, refkit)).toEqual([]);
			const runs = results.filter((_, i) => calls[i]?.method === "createPayouts") as PayoutRun[];
			previous = (
				await Promise.all(runs.map((run) => refkit.listPayouts({ runId: run.runId, limit: 1000 })))
			).flatMap((payouts) => payouts.map((p) => p.id));
		}
		// Both sides of the race happened: the test raced, it did not run one order only.
		expect(outcomes.voided + outcomes.clawedBack).toBe(ROUNDS * 30);
		expect(outcomes.voided, JSON.stringify(outcomes)).toBeGreaterThan(0);
		expect(outcomes.clawedBack, JSON.stringify(outcomes)).toBeGreaterThan(0);
	});
	test("concurrent release and reject of one held commission: exactly one wins", async () => {
		const url = await freshDatabaseUrl(kind);
		// Held for review by the application's hook (the racers need no hook: they only decide).
		const refkit = await createTestRefkit(kind, {
			database: url,
			programs: [PROGRAM],
			review: { hook: () => ({ hold: "new referrer" }) },
		});
		const racers = await processes.on(url, { programs: [PROGRAM] });
		await seedReferrals(refkit, 4, 2);
		const held = (await refkit.listCommissions({ status: "held", limit: 100 })).filter(
			(c) => c.role === "referrer",
		);
		expect(held).toHaveLength(8);
		const calls = held.flatMap((c) =>
			Array.from(
				{ length: 10 },
				(_, i): Call =>
					i % 2
						? { method: "releaseCommission", args: [c.id] }
						: { method: "rejectCommission", args: [c.id, { reason: "same household" }] },
			),
		);
		const results = await race(racers, calls);
		// Guard: moveCommissions() moves a row only from the status it names (`status = 'held'`), and the
		// review checks the row count.
		const released = await events(kind, url, "commission.released");
		const voided = await events(kind, url, "commission.voided");
		for (const [n, commission] of held.entries()) {
			const mine = results.slice(n * 10, n * 10 + 10);
			const won = mine.flatMap((r, i) => (r.ok ? [i % 2 ? "release" : "reject"] : []));
			expect(won, summary(mine)).toHaveLength(1);
			expect(mine.filter((r) => !r.ok).map((r) => (r as { code: string }).code)).toEqual(
				Array(9).fill("INVALID_STATE"),
			);
			const now = await refkit.getCommission(commission.id);
			expect(now?.status).toBe(won[0] === "release" ? "approved" : "voided");
			expect(released.filter((e) => e.id === commission.id)).toHaveLength(won[0] === "release" ? 1 : 0);
			expect(voided.filter((e) => e.id === commission.id)).toHaveLength(won[0] === "reject" ? 1 : 0);
		}
		expect(await balanceViolations(kind, url, refkit)).toEqual([]);
	});

	test("concurrent markPayoutPaid() and failPayout() of one payout: exactly one wins", async () => {
		const { url, refkit, racers } = await setUp();
		await seedReferrals(refkit, 5, 2);
		const run = await refkit.createPayouts();
		const payouts = await refkit.listPayouts({ runId: run.runId, limit: 100 });
		expect(payouts).toHaveLength(15);
		const calls = payouts.flatMap((p) =>
			Array.from(
				{ length: 10 },
				(_, i): Call =>
					i % 2
						? { method: "markPayoutPaid", args: [p.id, { reference: `transfer-${i}` }] }
						: { method: "failPayout", args: [p.id, { reason: `bank said no ${i}` }] },
			),
		);
		const results = await race(racers, calls);
		// Guard: closePayout() changes a payout only while it is `created`, and the loser reads it back.
		const closedEvents = [
			...(await events(kind, url, "payout.paid")),
			...(await events(kind, url, "payout.failed")),
		];
		for (const [n, payout] of payouts.entries()) {
			const mine = results.slice(n * 10, n * 10 + 10);
			const winners = mine.flatMap((r) => {
				const status = r.ok ? (r.value as { status: string }).status : null;
				return status === "paid" || status === "failed" ? [status] : [];
			});
			expect(winners, summary(mine)).toHaveLength(1);
			const winner = winners[0];
			for (const [i, r] of mine.entries()) {
				const asked = i % 2 ? "paid" : "failed";
				if (r.ok) {
					const status = (r.value as { status: string }).status;
					expect([winner, `already-${winner}`]).toContain(status);
					expect(status === winner || asked === winner).toBe(true);
				} else {
					// Failing a paid payout, or paying a failed one, is refused.
					expect(asked).not.toBe(winner);
					expect(r.code).toBe("INVALID_STATE");
				}
			}
			const now = await refkit.getPayout(payout.id);
			expect(now?.status).toBe(winner);
			expect(closedEvents.filter((e) => e.id === payout.id)).toHaveLength(1);
			const own = await refkit.listCommissions({ userId: payout.userId, limit: 100 });
			expect(own.every((c) => c.status === (winner === "paid" ? "paid" : "approved"))).toBe(true);
			expect(own.every((c) => c.payoutId === (winner === "paid" ? payout.id : null))).toBe(true);
		}
		expect(await payoutViolations(kind, url)).toEqual([]);
		expect(await balanceViolations(kind, url, refkit)).toEqual([]);
	});
});
