import fc from "fast-check";
import { describe, expect, test } from "vitest";
import type { Commission, Refkit } from "../../src/index.js";
import { isRefkitError } from "../../src/index.js";
import { DATABASES } from "../setup/databases.js";
import { ledger, referredSignup, refkitWithPrograms } from "./setup.js";

/*
 * Model-based tests of the ledger: random sequences of referrals, sales, refunds, reversals, reviews, payout runs
 * and payment outcomes run against refkit and against the simple in-memory model below, which applies the
 * documented rules its own way. After every step the invariants are checked on what the database holds.
 */

const FAST = {
	id: "fast",
	currency: "USD",
	holdDays: 0,
	minimumPayout: 1500,
	rules: [
		{ on: "goal" as const, goal: "signup", referrer: 500, referred: 300 },
		{ on: "sale" as const, percent: 15, capPerReferral: 5000 },
	],
};
const SLOW = {
	id: "slow",
	currency: "USD",
	holdDays: 3650,
	minimumPayout: 0,
	rules: [
		{ on: "goal" as const, goal: "signup", referrer: 700 },
		{ on: "sale" as const, amount: 250, maxSales: 3 },
	],
};
const PROGRAM_OF: Record<string, typeof FAST | typeof SLOW> = { r1: FAST, r2: SLOW, r3: FAST };
const REFERRERS = ["r1", "r2", "r3"];
const CUSTOMERS = ["c1", "c2", "c3", "c4", "c5"];
const HOLD_REASON = "divisible by 7";

type Status = Commission["status"];
interface MCommission {
	id: string;
	userId: string;
	role: "referrer" | "referred";
	program: string;
	rule: string;
	sourceId: string;
	referral: string;
	amount: number;
	status: Status;
	payoutId: string | null;
	clawback: boolean;
	original: boolean;
}
interface MSale {
	id: string;
	externalId: string;
	userId: string;
	amount: number;
	refunded: number;
	referral: string;
}
interface MPayout {
	id: string;
	userId: string;
	amount: number;
	status: "created" | "paid" | "failed";
	commissions: string[];
}
interface Model {
	coded: Set<string>;
	/** customer -> their signup conversion and referrer, while not reversed. */
	referral: Map<string, { conversion: string; referrer: string; reversed: boolean; sales: number }>;
	commissions: MCommission[];
	sales: Map<string, MSale>;
	refunds: Map<string, string>;
	payouts: MPayout[];
	/** Paid commissions as refkit returned them when they became paid: they must never change. */
	frozen: Map<string, Commission>;
}
interface Real {
	refkit: Refkit;
}

const key = (c: { userId: string; role: string; amount: number; status: string }) =>
	`${c.userId}/${c.role}/${c.amount}/${c.status}`;

/** What a new commission's status is: held by the review (amount divisible by 7), else as its program's hold says. */
function newStatus(program: string, amount: number): Status {
	if (amount % 7 === 0) return "held";
	return program === "fast" ? "approved" : "pending";
}

/** Takes the new rows refkit returned in the model's expected order (they are compared as multisets). */
function adopt(model: Model, expected: Omit<MCommission, "id">[], actual: Commission[]): void {
	expect(actual.map(key).sort()).toEqual(expected.map(key).sort());
	const pool = [...actual];
	for (const row of expected) {
		const index = pool.findIndex((c) => key(c) === key(row));
		const [match] = pool.splice(index, 1);
		model.commissions.push({ ...row, id: (match as Commission).id });
	}
}

function earn(
	base: Omit<MCommission, "id" | "amount" | "status">,
	amount: number,
	out: Omit<MCommission, "id">[],
) {
	if (amount > 0) out.push({ ...base, amount, status: newStatus(base.program, amount) });
}

class Refer implements fc.AsyncCommand<Model, Real> {
	constructor(
		readonly customer: string,
		readonly referrer: string,
	) {}
	check = (m: Readonly<Model>) => !m.coded.has(this.customer);
	async run(m: Model, r: Real) {
		const result = await referredSignup(r.refkit, this.referrer, this.customer, {
			linkProgram: PROGRAM_OF[this.referrer]?.id as string,
		});
		m.coded.add(this.customer);
		expect(result.status).toBe("converted");
		if (result.status !== "converted") return;
		const program = PROGRAM_OF[this.referrer] as typeof FAST;
		const rule = program.rules[0] as { referrer: number; referred?: number };
		const conversion = result.conversion.id;
		m.referral.set(this.customer, { conversion, referrer: this.referrer, reversed: false, sales: 0 });
		const base = {
			program: program.id,
			rule: "signup",
			sourceId: conversion,
			referral: conversion,
			payoutId: null,
			clawback: false,
			original: true,
		};
		const expected: Omit<MCommission, "id">[] = [];
		earn({ ...base, userId: this.referrer, role: "referrer" }, rule.referrer, expected);
		earn({ ...base, userId: this.customer, role: "referred" }, rule.referred ?? 0, expected);
		adopt(m, expected, result.commissions);
	}
	toString = () => `refer(${this.customer} by ${this.referrer})`;
}

class Sell implements fc.AsyncCommand<Model, Real> {
	constructor(
		readonly customer: string,
		readonly amount: number,
		readonly order: number,
	) {}
	check = () => true;
	async run(m: Model, r: Real) {
		const externalId = `o${this.order}`;
		const result = await r.refkit.recordSale({
			externalId,
			userId: this.customer,
			amount: this.amount,
			currency: "USD",
		});
		const existing = m.sales.get(externalId);
		if (existing !== undefined) {
			expect(result.status === "duplicate" && result.sale.id).toBe(existing.id);
			return;
		}
		const referral = m.referral.get(this.customer);
		if (referral === undefined || referral.reversed) {
			expect(result).toEqual({ status: "not-referred" });
			return;
		}
		expect(result.status).toBe("recorded");
		if (result.status !== "recorded") return;
		referral.sales++;
		m.sales.set(externalId, {
			id: result.sale.id,
			externalId,
			userId: this.customer,
			amount: this.amount,
			refunded: 0,
			referral: referral.conversion,
		});
		const program = PROGRAM_OF[referral.referrer] as typeof FAST;
		let amount: number;
		if (program.id === "fast") {
			const earned = m.commissions
				.filter((c) => c.referral === referral.conversion && c.rule === "sale" && c.status !== "voided")
				.reduce((sum, c) => sum + c.amount, 0);
			amount = Math.min(Math.floor((this.amount * 15) / 100), Math.max(0, 5000 - earned));
		} else {
			amount = referral.sales <= 3 ? 250 : 0;
		}
		const expected: Omit<MCommission, "id">[] = [];
		const base = {
			userId: referral.referrer,
			role: "referrer" as const,
			program: program.id,
			rule: "sale",
			sourceId: result.sale.id,
			referral: referral.conversion,
			payoutId: null,
			clawback: false,
			original: true,
		};
		earn(base, amount, expected);
		adopt(m, expected, result.commissions);
	}
	toString = () => `sell(${this.customer}, ${this.amount}, o${this.order})`;
}

/** Takes `part` of a live commission back, as the rules say: void and replace it, or claw it back. */
function takeBack(
	live: MCommission,
	part: number,
	expected: {
		voided: string[];
		replacements: Omit<MCommission, "id">[];
		clawbacks: Omit<MCommission, "id">[];
	},
) {
	if (part <= 0) return;
	if (live.payoutId === null && live.status !== "paid") {
		// What is left is a new row in the state the voided one was in.
		if (live.amount - part > 0)
			expected.replacements.push({ ...live, amount: live.amount - part, original: false });
		live.status = "voided";
		expected.voided.push(live.id);
	} else {
		expected.clawbacks.push({
			...live,
			amount: -part,
			status: "approved",
			payoutId: null,
			clawback: true,
			original: false,
		});
	}
}

async function applyTakeBack(
	m: Model,
	expected: Parameters<typeof takeBack>[2],
	actual: { voided: Commission[]; replacements: Commission[]; clawbacks: Commission[] },
) {
	expect(actual.voided.map((c) => c.id).sort()).toEqual([...expected.voided].sort());
	adopt(m, expected.replacements, actual.replacements);
	adopt(m, expected.clawbacks, actual.clawbacks);
}

/** How much a refund asks: all that is left, a percentage of it, or one cent more than is left. */
type Asked = { kind: "all" } | { kind: "part"; percent: number } | { kind: "over" };

class Refund implements fc.AsyncCommand<Model, Real> {
	/** `pick`: the sale (by its place among those recorded); a missing one now and then, to see it refused. */
	constructor(
		readonly pick: number,
		readonly asked: Asked,
		readonly refund: number,
	) {}
	check = () => true;
	async run(m: Model, r: Real) {
		const recorded = [...m.sales.keys()];
		const index = this.pick % (recorded.length + 1);
		const externalId = index < recorded.length ? (recorded[index] as string) : `missing${this.pick}`;
		const refundId = `r${this.refund}`;
		const sale = m.sales.get(externalId);
		const left = sale === undefined ? 1 : sale.amount - sale.refunded;
		const amount =
			this.asked.kind === "all"
				? undefined
				: this.asked.kind === "over"
					? left + 1
					: Math.max(1, Math.floor((left * this.asked.percent) / 100));
		const call = r.refkit.refundSale({ externalId, refundId, amount, reason: "model" });
		if (sale === undefined) {
			await expect(call).rejects.toSatisfy((e: unknown) => isRefkitError(e, "SALE_NOT_FOUND"));
			return;
		}
		const refunded = m.refunds.get(refundId);
		if (refunded !== undefined) {
			// A refund id names one refund of one sale: repeated, it answers the first; for another sale, it is refused.
			if (refunded === externalId) expect((await call).status).toBe("duplicate");
			else await expect(call).rejects.toSatisfy((e: unknown) => isRefkitError(e, "INVALID_ARGUMENT"));
			return;
		}
		const refunding = amount ?? left;
		if (refunding <= 0 || refunding > left) {
			await expect(call).rejects.toSatisfy((e: unknown) => isRefkitError(e, "REFUND_EXCEEDS_SALE"));
			return;
		}
		const result = await call;
		expect(result.status).toBe("refunded");
		if (result.status !== "refunded") return;
		m.refunds.set(refundId, externalId);
		const before = sale.refunded;
		sale.refunded += refunding;
		expect(result.sale.refunded).toBe(sale.refunded);
		const expected = {
			voided: [] as string[],
			replacements: [] as Omit<MCommission, "id">[],
			clawbacks: [] as Omit<MCommission, "id">[],
		};
		const live = m.commissions.filter((c) => c.sourceId === sale.id && c.status !== "voided" && c.amount > 0);
		for (const commission of live) {
			const base =
				m.commissions.find((c) => c.sourceId === sale.id && c.rule === commission.rule && c.original)
					?.amount ?? 0;
			const part =
				Math.floor((base * sale.refunded) / sale.amount) - Math.floor((base * before) / sale.amount);
			takeBack(commission, Math.min(part, commission.amount), expected);
		}
		await applyTakeBack(m, expected, result);
	}
	toString = () => `refund(sale #${this.pick}, ${JSON.stringify(this.asked)}, r${this.refund})`;
}

class Reverse implements fc.AsyncCommand<Model, Real> {
	constructor(readonly customer: string) {}
	check = (m: Readonly<Model>) => m.referral.get(this.customer)?.reversed === false;
	async run(m: Model, r: Real) {
		const referral = m.referral.get(this.customer) as { conversion: string; reversed: boolean };
		await r.refkit.reverseConversion(referral.conversion, { reason: "model" });
		referral.reversed = true;
		const expected = {
			voided: [] as string[],
			replacements: [] as Omit<MCommission, "id">[],
			clawbacks: [] as Omit<MCommission, "id">[],
		};
		for (const commission of m.commissions.filter(
			(c) => c.sourceId === referral.conversion && c.status !== "voided" && c.amount > 0,
		)) {
			takeBack(commission, commission.amount, expected);
		}
		const rows = await ledger(r.refkit);
		const newRows = rows.filter((c) => !m.commissions.some((k) => k.id === c.id));
		await applyTakeBack(m, expected, {
			voided: rows.filter((c) => expected.voided.includes(c.id) && c.status === "voided"),
			replacements: newRows.filter((c) => c.amount > 0),
			clawbacks: newRows.filter((c) => c.amount < 0),
		});
	}
	toString = () => `reverse(${this.customer})`;
}

class Run implements fc.AsyncCommand<Model, Real> {
	check = () => true;
	async run(m: Model, r: Real) {
		const run = await r.refkit.createPayouts();
		const byUser = new Map<string, MCommission[]>();
		for (const c of m.commissions) {
			if (c.status === "approved" && c.payoutId === null)
				byUser.set(c.userId, [...(byUser.get(c.userId) ?? []), c]);
		}
		const made = await r.refkit.listPayouts({ runId: run.runId, limit: 1000 });
		const expected: string[] = [];
		for (const [userId, rows] of byUser) {
			const net = rows.reduce((sum, c) => sum + c.amount, 0);
			const minimum = Math.max(
				...rows.map((c) => (c.program === "fast" ? FAST.minimumPayout : SLOW.minimumPayout)),
			);
			if (net <= 0 || net < minimum) continue;
			expected.push(`${userId}:${net}:${rows.length}`);
			const payout = made.find((p) => p.userId === userId);
			if (payout === undefined) continue;
			for (const c of rows) c.payoutId = payout.id;
			m.payouts.push({
				id: payout.id,
				userId,
				amount: net,
				status: "created",
				commissions: rows.map((c) => c.id),
			});
		}
		expect(made.map((p) => `${p.userId}:${p.amount}:${p.commissions}`).sort()).toEqual(expected.sort());
	}
	toString = () => "payout run";
}

class Close implements fc.AsyncCommand<Model, Real> {
	constructor(
		readonly pick: number,
		readonly paid: boolean,
	) {}
	check = (m: Readonly<Model>) => m.payouts.some((p) => p.status === "created");
	async run(m: Model, r: Real) {
		const open = m.payouts.filter((p) => p.status === "created");
		const payout = open[this.pick % open.length] as MPayout;
		if (this.paid) {
			const result = await r.refkit.markPayoutPaid(payout.id, { reference: `t-${payout.id.slice(0, 8)}` });
			expect(result.status).toBe("paid");
			payout.status = "paid";
			for (const c of m.commissions) if (c.payoutId === payout.id) c.status = "paid";
			for (const c of await r.refkit.listCommissions({ payoutId: payout.id, limit: 1000 }))
				m.frozen.set(c.id, c);
		} else {
			expect((await r.refkit.failPayout(payout.id, { reason: "bounced" })).status).toBe("failed");
			payout.status = "failed";
			for (const c of m.commissions) if (c.payoutId === payout.id) c.payoutId = null;
		}
	}
	toString = () => `${this.paid ? "pay" : "fail"} payout #${this.pick}`;
}

class Review implements fc.AsyncCommand<Model, Real> {
	constructor(
		readonly pick: number,
		readonly release: boolean,
	) {}
	check = (m: Readonly<Model>) => m.commissions.some((c) => c.status === "held");
	async run(m: Model, r: Real) {
		const held = m.commissions.filter((c) => c.status === "held");
		const commission = held[this.pick % held.length] as MCommission;
		const result = this.release
			? await r.refkit.releaseCommission(commission.id)
			: await r.refkit.rejectCommission(commission.id, { reason: "model" });
		commission.status = this.release ? (commission.program === "fast" ? "approved" : "pending") : "voided";
		expect(result.status).toBe(commission.status);
	}
	toString = () => `${this.release ? "release" : "reject"} held #${this.pick}`;
}

/** The invariants, on what the database holds, after every step. */
async function checkInvariants(m: Model, r: Real) {
	const rows = await ledger(r.refkit);
	// The ledger is the model's: the same rows, amounts and states.
	expect(rows.map((c) => `${c.id}:${c.userId}:${c.amount}:${c.status}:${c.payoutId}`).sort()).toEqual(
		m.commissions.map((c) => `${c.id}:${c.userId}:${c.amount}:${c.status}:${c.payoutId}`).sort(),
	);
	// Balances equal the model's, and each beneficiary's commissions add up to pending + held + approved + paid.
	const balances = await r.refkit.balances();
	const users = new Set([...m.commissions.map((c) => c.userId), ...balances.map((b) => b.userId)]);
	for (const userId of users) {
		const mine = m.commissions.filter((c) => c.userId === userId);
		const sum = (status: Status) => mine.filter((c) => c.status === status).reduce((s, c) => s + c.amount, 0);
		const balance = balances.find((b) => b.userId === userId) ?? {
			pending: 0,
			held: 0,
			approved: 0,
			paid: 0,
		};
		expect({
			userId,
			pending: balance.pending,
			held: balance.held,
			approved: balance.approved,
			paid: balance.paid,
		}).toEqual({
			userId,
			pending: sum("pending"),
			held: sum("held"),
			approved: sum("approved"),
			paid: sum("paid"),
		});
		const ledgerSum = rows
			.filter((c) => c.userId === userId && c.status !== "voided")
			.reduce((s, c) => s + c.amount, 0);
		expect(balance.pending + balance.held + balance.approved + balance.paid).toBe(ledgerSum);
	}
	// Payouts: never negative nor below the minimum; each holds exactly its commissions; no commission in two.
	const payouts = await r.refkit.listPayouts({ limit: 1000 });
	const claimedBy = new Map<string, string>();
	for (const payout of payouts) {
		expect(payout.amount).toBeGreaterThan(0);
		const model = m.payouts.find((p) => p.id === payout.id) as MPayout;
		expect(payout.status).toBe(model.status);
		const programs = model.commissions.map((id) => m.commissions.find((c) => c.id === id)?.program);
		expect(payout.amount).toBeGreaterThanOrEqual(programs.includes("fast") ? FAST.minimumPayout : 0);
		if (payout.status === "failed") continue;
		const claimed = rows.filter((c) => c.payoutId === payout.id);
		expect([claimed.reduce((s, c) => s + c.amount, 0), claimed.length]).toEqual([
			payout.amount,
			payout.commissions,
		]);
		for (const c of claimed) {
			expect(claimedBy.has(c.id)).toBe(false);
			claimedBy.set(c.id, payout.id);
			if (payout.status === "paid") expect(c.status).toBe("paid");
		}
	}
	// A paid commission never changes.
	for (const [id, paid] of m.frozen) expect(rows.find((c) => c.id === id)).toEqual(paid);
	// Refunds never exceed their sale.
	for (const sale of m.sales.values()) {
		const stored = await r.refkit.getSale(sale.externalId);
		expect(stored?.refunded).toBe(sale.refunded);
		expect(sale.refunded).toBeLessThanOrEqual(sale.amount);
	}
}

const refer = fc
	.tuple(fc.constantFrom(...CUSTOMERS), fc.constantFrom(...REFERRERS))
	.map(([c, r]) => new Refer(c, r));
const sell = fc
	.tuple(fc.constantFrom(...CUSTOMERS), fc.integer({ min: 1, max: 40000 }), fc.nat(40))
	.map(([c, a, o]) => new Sell(c, a, o));
const refund = fc
	.tuple(
		fc.nat(12),
		fc.oneof(
			{ weight: 2, arbitrary: fc.constant<Asked>({ kind: "all" }) },
			{
				weight: 5,
				arbitrary: fc.integer({ min: 1, max: 99 }).map((percent): Asked => ({ kind: "part", percent })),
			},
			{ weight: 1, arbitrary: fc.constant<Asked>({ kind: "over" }) },
		),
		fc.nat(60),
	)
	.map(([pick, asked, id]) => new Refund(pick, asked, id));
const reverse = fc.constantFrom(...CUSTOMERS).map((c) => new Reverse(c));
const run = fc.constant(new Run());
const close = fc.tuple(fc.nat(5), fc.boolean()).map(([p, paid]) => new Close(p, paid));
const review = fc.tuple(fc.nat(5), fc.boolean()).map(([p, release]) => new Review(p, release));
/** Each command as often as it is listed: sales and refunds most, reversals least. */
const commands = [
	refer,
	refer,
	sell,
	sell,
	sell,
	sell,
	refund,
	refund,
	refund,
	reverse,
	run,
	run,
	close,
	close,
	review,
];

describe.each(DATABASES)("the ledger against its model on %s", (kind) => {
	test("random referrals, sales, refunds, reversals, reviews, payout runs and outcomes keep every invariant", async () => {
		await fc.assert(
			fc.asyncProperty(fc.commands(commands, { maxCommands: 60, size: "max" }), async (cmds) => {
				const refkit = await refkitWithPrograms(kind, [FAST, SLOW], {
					review: { hook: (c) => (c.amount % 7 === 0 ? { hold: HOLD_REASON } : "approve") },
				});
				const model: Model = {
					coded: new Set(),
					referral: new Map(),
					commissions: [],
					sales: new Map(),
					refunds: new Map(),
					payouts: [],
					frozen: new Map(),
				};
				const real: Real = { refkit };
				const checked = cmds as Iterable<fc.AsyncCommand<Model, Real>>;
				const wrapped = [...checked].map((cmd) => ({
					check: (m: Readonly<Model>) => cmd.check(m),
					run: async (m: Model, r: Real) => {
						await cmd.run(m, r);
						await checkInvariants(m, r);
					},
					toString: () => cmd.toString(),
				}));
				await fc.asyncModelRun(() => ({ model, real }), wrapped);
				await refkit.close();
			}),
			{ numRuns: Number(process.env.MODEL_RUNS ?? (kind === "sqlite" ? 30 : 20)), endOnFailure: true },
		);
	}, 600_000);
});
