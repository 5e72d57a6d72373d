import type { Balance, Refkit } from "../../src/index.js";
import type { DatabaseKind } from "./databases.js";
import { runSql } from "./direct.js";

/**
 * The ledger's invariants, read with SQL straight from the tables (through a connection of the test's own) and
 * compared with what refkit answers. Each returns the violations it found, as sentences: a test expects `[]`,
 * so that a failure says which row broke which rule.
 */

export interface CommissionRow {
	id: string;
	userId: string;
	currency: string;
	amount: number;
	status: string;
	payableAt: number;
	payoutId: string | null;
	clawbackOf: string | null;
	replaces: string | null;
	sourceId: string;
	rule: string;
}

export interface PayoutRow {
	id: string;
	runId: string;
	userId: string;
	currency: string;
	amount: number;
	commissions: number;
	cutoff: number;
	status: string;
}

const time = (value: unknown) => new Date(value as string | Date).getTime();

/** Every commission, as stored. */
export async function commissionRows(kind: DatabaseKind, url: string): Promise<CommissionRow[]> {
	const rows = (await runSql(
		kind,
		url,
		`select id, beneficiary_user_id, currency, amount, status, payable_at, payout_id, clawback_of, replaces,
		        source_id, rule
		   from refkit_commission`,
	)) as Record<string, unknown>[];
	return rows.map((row) => ({
		id: String(row.id),
		userId: String(row.beneficiary_user_id),
		currency: String(row.currency),
		amount: Number(row.amount),
		status: String(row.status),
		payableAt: time(row.payable_at),
		payoutId: row.payout_id === null ? null : String(row.payout_id),
		clawbackOf: row.clawback_of === null ? null : String(row.clawback_of),
		replaces: row.replaces === null ? null : String(row.replaces),
		sourceId: String(row.source_id),
		rule: String(row.rule),
	}));
}

/** Every payout, as stored. */
export async function payoutRows(kind: DatabaseKind, url: string): Promise<PayoutRow[]> {
	const rows = (await runSql(
		kind,
		url,
		"select id, run_id, beneficiary_user_id, currency, amount, commissions, cutoff, status from refkit_payout",
	)) as Record<string, unknown>[];
	return rows.map((row) => ({
		id: String(row.id),
		runId: String(row.run_id),
		userId: String(row.beneficiary_user_id),
		currency: String(row.currency),
		amount: Number(row.amount),
		commissions: Number(row.commissions),
		cutoff: time(row.cutoff),
		status: String(row.status),
	}));
}

/**
 * The payouts' rules: each payout's amount and count are exactly those of the commissions that point to it
 * (a commission claimed twice would leave its first payout short), above zero; each commission was payable by
 * its payout's cutoff; a commission is `paid` exactly when its payout is, `approved` while its payout is
 * `created`, and never points to a failed payout; a voided commission is in no payout; one payout per
 * beneficiary and currency in a run. Checked with one SQL query too, in the database's own arithmetic.
 */
export async function payoutViolations(kind: DatabaseKind, url: string): Promise<string[]> {
	const commissions = await commissionRows(kind, url);
	const payouts = await payoutRows(kind, url);
	const problems: string[] = [];
	const byPayout = new Map<string, CommissionRow[]>();
	for (const c of commissions) {
		if (c.payoutId !== null) byPayout.set(c.payoutId, [...(byPayout.get(c.payoutId) ?? []), c]);
		if (c.status === "voided" && c.payoutId !== null)
			problems.push(`voided ${c.id} is in payout ${c.payoutId}`);
		if (c.status === "paid" && c.payoutId === null) problems.push(`paid ${c.id} is in no payout`);
	}
	const runs = new Set<string>();
	for (const p of payouts) {
		const claimed = byPayout.get(p.id) ?? [];
		byPayout.delete(p.id);
		const sum = claimed.reduce((total, c) => total + c.amount, 0);
		if (p.amount <= 0) problems.push(`payout ${p.id} of ${p.amount}`);
		if (p.status === "failed") {
			if (claimed.length > 0)
				problems.push(`failed payout ${p.id} still holds ${claimed.length} commissions`);
		} else {
			if (sum !== p.amount) problems.push(`payout ${p.id} of ${p.amount} holds commissions summing ${sum}`);
			if (claimed.length !== p.commissions)
				problems.push(`payout ${p.id} counts ${p.commissions} commissions, holds ${claimed.length}`);
		}
		for (const c of claimed) {
			if (c.userId !== p.userId || c.currency !== p.currency)
				problems.push(`commission ${c.id} of ${c.userId} is in ${p.userId}'s payout ${p.id}`);
			if (c.payableAt > p.cutoff)
				problems.push(`commission ${c.id} was not payable by payout ${p.id}'s cutoff`);
			const expected = p.status === "paid" ? "paid" : "approved";
			if (c.status !== expected)
				problems.push(`commission ${c.id} is ${c.status} in ${p.status} payout ${p.id}`);
		}
		const key = `${p.runId} ${p.userId} ${p.currency}`;
		if (runs.has(key)) problems.push(`run ${p.runId} made two payouts to ${p.userId} in ${p.currency}`);
		runs.add(key);
	}
	for (const [payoutId, claimed] of byPayout)
		problems.push(`${claimed.length} commissions point to a missing payout ${payoutId}`);
	// The same, in SQL: a payout whose commissions do not add up to it.
	const mismatched = await runSql(
		kind,
		url,
		`select p.id from refkit_payout p
		   left join (select payout_id, sum(amount) as total, count(*) as n from refkit_commission
		               where payout_id is not null group by payout_id) c on c.payout_id = p.id
		  where p.status <> 'failed' and (coalesce(c.total, 0) <> p.amount or coalesce(c.n, 0) <> p.commissions)`,
	);
	for (const row of mismatched as { id: string }[]) problems.push(`SQL: payout ${row.id} does not add up`);
	return problems;
}

const zero = () => ({ pending: 0, held: 0, approved: 0, paid: 0 });

/**
 * The balances' rules: `refkit.balances()` of every beneficiary equals the ledger summed by status (a pending
 * commission past its hold counting as approved), and `refkit_balance` equals the ledger summed by stored
 * status; so the sum of a beneficiary's commissions (clawbacks included, voided ones not) is pending + held +
 * approved + paid.
 */
export async function balanceViolations(kind: DatabaseKind, url: string, refkit: Refkit): Promise<string[]> {
	const now = Date.now();
	const commissions = await commissionRows(kind, url);
	const read = new Map<string, ReturnType<typeof zero>>();
	const stored = new Map<string, ReturnType<typeof zero>>();
	const totals = new Map<string, number>();
	for (const c of commissions) {
		if (c.status === "voided") continue;
		const key = `${c.userId} ${c.currency}`;
		const s = stored.get(key) ?? zero();
		s[c.status as keyof typeof s] += c.amount;
		stored.set(key, s);
		const r = read.get(key) ?? zero();
		const status = c.status === "pending" && c.payableAt <= now ? "approved" : c.status;
		r[status as keyof typeof r] += c.amount;
		read.set(key, r);
		totals.set(key, (totals.get(key) ?? 0) + c.amount);
	}
	const problems: string[] = [];
	const table = (await runSql(
		kind,
		url,
		"select beneficiary_user_id, currency, pending, held, approved, paid from refkit_balance",
	)) as Record<string, unknown>[];
	const seen = new Set<string>();
	for (const row of table) {
		const key = `${row.beneficiary_user_id} ${row.currency}`;
		seen.add(key);
		const got = {
			pending: Number(row.pending),
			held: Number(row.held),
			approved: Number(row.approved),
			paid: Number(row.paid),
		};
		const want = stored.get(key) ?? zero();
		if (JSON.stringify(got) !== JSON.stringify(want))
			problems.push(
				`refkit_balance of ${key} is ${JSON.stringify(got)}, the ledger sums ${JSON.stringify(want)}`,
			);
	}
	for (const key of stored.keys()) if (!seen.has(key)) problems.push(`refkit_balance has no row for ${key}`);
	const answered: Balance[] = await refkit.balances();
	for (const b of answered) {
		const key = `${b.userId} ${b.currency}`;
		const want = read.get(key) ?? zero();
		const got = { pending: b.pending, held: b.held, approved: b.approved, paid: b.paid };
		// A commission whose hold ended between the two reads moved from pending to approved.
		if (
			got.held !== want.held ||
			got.paid !== want.paid ||
			got.pending + got.approved !== want.pending + want.approved
		)
			problems.push(
				`balances() of ${key} is ${JSON.stringify(got)}, the ledger reads ${JSON.stringify(want)}`,
			);
		const sum = got.pending + got.held + got.approved + got.paid;
		if (sum !== (totals.get(key) ?? 0))
			problems.push(`${key}: commissions sum ${totals.get(key)}, pending + held + approved + paid is ${sum}`);
	}
	return problems;
}
