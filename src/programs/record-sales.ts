import { randomUUID } from "node:crypto";
import type { CoreContext } from "../core/context.js";
import { GroupCommit } from "../store/group-commit.js";
import {
	earnedKey,
	type NewCommission,
	type NewEvent,
	type NewSale,
	type Referral,
} from "../store/ledger-roles.js";
import type { TransactionStore } from "../store/store.js";
import { type Earned, programNamed, reviewCommissions, savePrograms } from "./ledger.js";
import { basisPoints, currencyMismatch, percentOf } from "./money.js";
import type { Commission, Program, RecordSaleResult, Sale, SaleRule } from "./types.js";

/**
 * Recording sales by group commit: the sales that arrive while the previous batch is being written are
 * recorded together, in one transaction of about ten statements whatever their number (their referrals, one
 * lock statement for all their referrers, their external ids, one INSERT each of sales, commissions, balances
 * and events), instead of ten statements each. Each sale still gets its own outcome: a duplicate, a user not
 * referred or a currency that is not the program's is that sale's answer and fails no other.
 */

/** A checked sale, and what recording it came to (set by its batch). */
export interface SaleRequest {
	externalId: string;
	userId: string;
	amount: number;
	currency: string;
	at: Date;
	outcome?: RecordSaleResult | undefined;
	/** This sale's own error (`CURRENCY_MISMATCH`): thrown to its caller alone. */
	error?: unknown;
}

/** The most sales one transaction records. */
const MAX_BATCH = 100;
/** The most sales waiting at once, beyond which `recordSale()` fails at once with `QUEUE_FULL`. */
const MAX_QUEUED = 10_000;

/** A batch met a sale recorded meanwhile under another referrer: its sales are recorded again one by one. */
class RecordAlone extends Error {}

const queues = new WeakMap<CoreContext, GroupCommit<SaleRequest>>();

/**
 * Records a checked sale in the next batch, and answers its outcome once the batch is committed. The sale joins
 * the queue before this function first awaits, so that `close()` called right after waits for it.
 */
export async function recordInBatch(ctx: CoreContext, request: SaleRequest): Promise<RecordSaleResult> {
	let queue = queues.get(ctx);
	if (queue === undefined) {
		queue = new GroupCommit<SaleRequest>((batch) => recordSales(ctx, batch), {
			maxBatch: MAX_BATCH,
			maxQueued: MAX_QUEUED,
			what: "sales",
			// Any error may be one sale's (the review hook's, a value the database refused): a batch that fails is
			// recorded again sale by sale, and only the sale at fault fails. A database that is away fails each.
			isItemError: () => true,
		});
		queues.set(ctx, queue);
	}
	await queue.add(request);
	if (request.error !== undefined) throw request.error;
	if (request.outcome === undefined) throw new Error("refkit: a sale's batch ended without its outcome.");
	return request.outcome;
}

/** Resolves when every sale added so far is recorded or failed (before the store closes). */
export async function settleSales(ctx: CoreContext): Promise<void> {
	await queues.get(ctx)?.settle();
}

function addMonths(date: Date, months: number): Date {
	const result = new Date(date.getTime());
	const day = result.getUTCDate();
	result.setUTCDate(1);
	result.setUTCMonth(result.getUTCMonth() + months);
	const last = new Date(Date.UTC(result.getUTCFullYear(), result.getUTCMonth() + 1, 0)).getUTCDate();
	result.setUTCDate(Math.min(day, last));
	return result;
}

type NamedSaleRule = SaleRule & { name: string };

function saleRules(program: Program): NamedSaleRule[] {
	return program.rules.filter((rule): rule is NamedSaleRule => rule.on === "sale");
}

/**
 * What a sale rule pays for this sale, and why not when it pays nothing. `earned` holds what each referral has
 * earned under each capped rule, this batch's commissions included; it is kept up to date.
 */
function applySaleRule(
	rule: NamedSaleRule,
	referral: Referral,
	sale: NewSale,
	earned: Map<string, number>,
): { amount: number; terms: Record<string, unknown> } | "outside-duration" | null {
	if (
		rule.months !== undefined &&
		sale.createdAt.getTime() >= addMonths(referral.createdAt, rule.months).getTime()
	) {
		return "outside-duration";
	}
	if (rule.maxSales !== undefined && sale.sequence > rule.maxSales) return null;
	if (rule.minimumSale !== undefined && sale.amount < rule.minimumSale) return null;
	const points = rule.percent === undefined ? null : basisPoints(rule.percent);
	let amount = points === null ? (rule.amount ?? 0) : percentOf(sale.amount, points);
	if (rule.capPerReferral !== undefined) {
		const key = earnedKey(referral.conversionId, rule.name);
		const before = earned.get(key) ?? 0;
		amount = Math.min(amount, Math.max(0, rule.capPerReferral - before));
		earned.set(key, before + amount);
	}
	const { name: _name, ...declared } = rule;
	return { amount, terms: { ...declared, saleAmount: sale.amount, saleSequence: sale.sequence } };
}

/** A sale of the batch to insert, with what it earned. */
interface Planned {
	request: SaleRequest;
	sale: NewSale;
	rows: NewCommission[];
	/** Whether every sale rule's months were over. */
	outside: boolean;
}

/**
 * Records a batch of sales in one transaction. Each request's `outcome` (or `error`) is set; they count only
 * once the transaction commits: a batch that throws is recorded again, sale by sale.
 */
async function recordSales(ctx: CoreContext, requests: SaleRequest[]): Promise<void> {
	// Before the transaction: on SQLite, the one connection is the transaction's. Once per instance.
	await savePrograms(ctx);
	const now = ctx.now();
	await ctx.store.transaction((store) => recordSalesIn(ctx, store, requests, now));
}

/**
 * Records sales in the caller's transaction (a batch's, or a billing event's): sets each request's `outcome`
 * or `error`. Call `savePrograms(ctx)` before the transaction. Throws when a sale was recorded meanwhile under
 * another referrer and there are several: the caller records them again one by one.
 */
export async function recordSalesIn(
	ctx: CoreContext,
	store: TransactionStore,
	requests: SaleRequest[],
	now: Date,
): Promise<void> {
	for (const request of requests) {
		request.outcome = undefined;
		request.error = undefined;
	}
	const referrals = await store.referralsOf(requests.map((request) => request.userId));
	const referralList = [...referrals.values()];
	// Each referrer's ledger, and with it its referrals' sales and their sequence, one transaction at a time.
	await store.lockBeneficiaries([...new Set(referralList.map((referral) => referral.referrerUserId))]);
	// Read under the locks: a sale of the same referral racing this batch has committed by now.
	const stored = await store.findSales(requests.map((request) => request.externalId));
	const referralIds = referralList.map((referral) => referral.conversionId);
	const sequences = await store.lastSaleSequences(referralIds);
	const capped = new Set<string>();
	for (const referral of referralList) {
		for (const rule of saleRules(programNamed(ctx, referral.program))) {
			if (rule.capPerReferral !== undefined) capped.add(rule.name);
		}
	}
	const earned = await store.earnedByReferrals(capped.size === 0 ? [] : referralIds, [...capped]);

	const planned: Planned[] = [];
	const firsts = new Map<string, Planned>();
	const repeats: Array<{ request: SaleRequest; of: Planned }> = [];
	const reviewed = new Map<string, number>();
	for (const request of requests) {
		const before = stored.get(request.externalId);
		if (before !== undefined) {
			request.outcome = { status: "duplicate", sale: before };
			continue;
		}
		const first = firsts.get(request.externalId);
		if (first !== undefined) {
			repeats.push({ request, of: first });
			continue;
		}
		const referral = referrals.get(request.userId);
		if (referral === undefined) {
			request.outcome = { status: "not-referred" };
			continue;
		}
		if (referral.referrerUserId === request.userId) {
			request.outcome = { status: "self-referral" };
			continue;
		}
		const program = programNamed(ctx, referral.program);
		if (request.currency !== program.currency) {
			request.error = currencyMismatch(request.currency, program);
			continue;
		}
		const sequence = (sequences.get(referral.conversionId) ?? 0) + 1;
		sequences.set(referral.conversionId, sequence);
		const sale: NewSale = {
			id: randomUUID(),
			externalId: request.externalId,
			userId: request.userId,
			referrerUserId: referral.referrerUserId,
			referralId: referral.conversionId,
			program: program.id,
			amount: request.amount,
			currency: request.currency,
			sequence,
			createdAt: request.at,
		};
		const rules = saleRules(program);
		const earnedBySale: Earned[] = [];
		let outside = 0;
		for (const rule of rules) {
			const applied = applySaleRule(rule, referral, sale, earned);
			if (applied === "outside-duration") outside++;
			else if (applied !== null) {
				earnedBySale.push({
					program,
					rule: rule.name,
					terms: applied.terms,
					userId: referral.referrerUserId,
					role: "referrer",
					sourceType: "sale",
					sourceId: sale.id,
					referralId: referral.conversionId,
					amount: applied.amount,
					referredUserId: request.userId,
					referrerUserId: referral.referrerUserId,
					hitId: referral.hitId,
				});
			}
		}
		const rows = await reviewCommissions(ctx, store, earnedBySale, request.at, reviewed);
		const plan = { request, sale, rows, outside: rules.length > 0 && outside === rules.length };
		planned.push(plan);
		firsts.set(request.externalId, plan);
	}

	const inserted = new Map<string, Sale>();
	for (const sale of await store.insertSales(
		planned.map((plan) => plan.sale),
		now,
	)) {
		inserted.set(sale.externalId, sale);
	}
	if (inserted.size < planned.length) {
		// Another transaction recorded one of these external ids under another referrer (its referral changed
		// meanwhile). This batch's sequences and caps counted that sale: record each sale again on its own.
		if (requests.length > 1) throw new RecordAlone("refkit: a sale was recorded meanwhile.");
		const winner = await store.findSale(requests[0]?.externalId ?? "");
		if (winner === null) throw new Error("refkit: a sale conflicted but cannot be read back.");
		(requests[0] as SaleRequest).outcome = { status: "duplicate", sale: winner };
		return;
	}
	const commissions = await store.insertCommissions(
		planned.flatMap((plan) => plan.rows),
		now,
	);
	const bySale = new Map<string, Commission[]>();
	for (const commission of commissions) {
		const list = bySale.get(commission.sourceId) ?? [];
		list.push(commission);
		bySale.set(commission.sourceId, list);
	}
	const events: NewEvent[] = [];
	for (const plan of planned) {
		const sale = inserted.get(plan.sale.externalId) as Sale;
		const earnedBySale = bySale.get(sale.id) ?? [];
		events.push({ type: "sale.recorded", data: sale });
		for (const commission of earnedBySale) events.push({ type: "commission.created", data: commission });
		plan.request.outcome = plan.outside
			? { status: "outside-duration", sale }
			: { status: "recorded", sale, commissions: earnedBySale };
	}
	for (const { request, of } of repeats) {
		request.outcome = { status: "duplicate", sale: inserted.get(of.sale.externalId) as Sale };
	}
	await store.insertEvents(events, now);
}
