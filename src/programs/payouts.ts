import { randomUUID } from "node:crypto";
import { filtersObject, invalid, isUuid, optionalDate, optionalUserId, page } from "../core/arguments.js";
import type { CoreContext } from "../core/context.js";
import { keysetExport } from "../core/listings.js";
import { type CsvColumns, csvLines } from "../csv.js";
import { RefkitError } from "../errors.js";
import type { NewPayout } from "../store/ledger-roles.js";
import { approveDue } from "./commissions.js";
import { savePrograms } from "./ledger.js";
import { toMajor } from "./money.js";
import type { Payout, PayoutRun } from "./types.js";

/**
 * Payout runs: each beneficiary's approved commissions up to a cutoff, netted per currency, claimed by one
 * payout when the net reaches the minimum; then each payout is paid or fails. See docs/programs.md.
 */

/** Beneficiaries per transaction of a run: the claim of each batch commits alone, memory stays bounded. */
const RUN_BATCH = 500;

/** Options of `refkit.createPayouts()`. */
export interface CreatePayoutsInput {
	/** Pay commissions payable at or before this time; default now. Not in the future. */
	asOf?: Date | undefined;
}

/** The smallest payout of each program, as saved by the application (so that the CLI knows them too). */
async function minimums(ctx: CoreContext): Promise<{ of: (program: string) => number }> {
	await savePrograms(ctx);
	const saved = await ctx.store.savedPrograms();
	const byId = new Map(saved.map((p) => [p.id, p.minimumPayout]));
	const fallback = saved.find((p) => p.isDefault)?.minimumPayout ?? 0;
	return { of: (program) => byId.get(program) ?? fallback };
}

/**
 * A payout run. Pending commissions past their hold are approved first; then, a batch of beneficiaries per
 * transaction, each beneficiary's approved, unclaimed commissions payable by the cutoff are summed per
 * currency; where the net is positive and reaches the highest minimum among their programs, a payout is made
 * and the commissions are claimed for it. A smaller or negative net is left, to be carried forward. Runs may
 * race: a commission is claimed only where no payout has claimed it, under the beneficiaries' locks.
 */
export async function createPayouts(ctx: CoreContext, input: CreatePayoutsInput = {}): Promise<PayoutRun> {
	const { asOf } = filtersObject(input, "createPayouts()");
	const requested = optionalDate(asOf, "createPayouts()'s asOf");
	if (requested !== undefined && requested.getTime() > ctx.now().getTime()) {
		invalid(`createPayouts()'s asOf (${requested.toISOString()}) is in the future.`);
	}
	const minimum = await minimums(ctx);
	// What is payable by now is approved first, with its events (before the payouts' events).
	await approveDue(ctx);
	const now = ctx.now();
	const cutoff = requested ?? now;
	const runId = randomUUID();
	const run: PayoutRun = { runId, cutoff, payouts: 0, totals: {}, carriedForward: 0 };
	let after: string | null = null;
	for (;;) {
		const users = await ctx.store.payableBeneficiaries(cutoff, after, RUN_BATCH);
		if (users.length === 0) return run;
		after = users.at(-1) ?? null;
		const made = await ctx.store.transaction(async (store) => {
			await store.lockBeneficiaries(users);
			// Summed under the locks: nothing else changes these beneficiaries' commissions until the commit.
			const sums = await store.payableSums(users, cutoff);
			const groups = new Map<
				string,
				{ userId: string; currency: string; amount: number; count: number; minimum: number }
			>();
			for (const sum of sums) {
				const key = `${sum.userId}\u0000${sum.currency}`;
				const group = groups.get(key) ?? {
					userId: sum.userId,
					currency: sum.currency,
					amount: 0,
					count: 0,
					minimum: 0,
				};
				group.amount += sum.amount;
				group.count += sum.count;
				group.minimum = Math.max(group.minimum, minimum.of(sum.program));
				groups.set(key, group);
			}
			const payouts: NewPayout[] = [];
			let carried = 0;
			for (const group of groups.values()) {
				if (group.amount <= 0 || group.amount < group.minimum) {
					carried++;
					continue;
				}
				payouts.push({
					id: randomUUID(),
					runId,
					userId: group.userId,
					currency: group.currency,
					amount: group.amount,
					commissions: group.count,
					cutoff,
					createdAt: now,
				});
			}
			if (payouts.length === 0) return { payouts, carried };
			await store.insertPayouts(payouts);
			const paid = new Set(payouts.map((p) => p.userId));
			const claimed = await store.claimForRun(runId, [...paid], cutoff, now);
			const expected = payouts.reduce((n, p) => n + p.commissions, 0);
			if (claimed !== expected) {
				// Never expected under the locks; rolling back leaves the commissions for the next run.
				throw new Error(
					`refkit: a payout run claimed ${claimed} commissions where it summed ${expected}; nothing was paid.`,
				);
			}
			await store.insertEvents(
				payouts.map((payout) => ({ type: "payout.created", data: asPayout(payout) })),
				now,
			);
			return { payouts, carried };
		});
		run.payouts += made.payouts.length;
		for (const payout of made.payouts)
			run.totals[payout.currency] = (run.totals[payout.currency] ?? 0) + payout.amount;
		run.carriedForward += made.carried;
	}
}

/** A payout as it is when made. */
function asPayout(payout: NewPayout): Payout {
	return { ...payout, status: "created", reference: null, failureReason: null, paidAt: null, failedAt: null };
}

function payoutId(id: unknown, method: string): string {
	if (!isUuid(id))
		invalid(`${method} needs the payout's id, a UUID (got ${JSON.stringify(String(id).slice(0, 60))}).`);
	return id;
}

function notFound(id: string): RefkitError {
	return new RefkitError(
		"PAYOUT_NOT_FOUND",
		`refkit: no payout has the id "${id}". List them with refkit.listPayouts() or \`refkit payouts list\`.`,
	);
}

/** What closing a payout did. */
export type ClosePayoutResult =
	| { status: "paid" | "failed"; payout: Payout }
	/** It had been closed so before: unchanged. */
	| { status: "already-paid" | "already-failed"; payout: Payout };

/** Marks a created payout paid: its commissions become `paid`, frozen for ever. */
export async function markPayoutPaid(
	ctx: CoreContext,
	id: string,
	options: { reference: string },
): Promise<ClosePayoutResult> {
	payoutId(id, "markPayoutPaid()");
	const reference = typeof options === "object" && options !== null ? options.reference : undefined;
	if (typeof reference !== "string" || reference.trim() === "" || reference.length > 255) {
		invalid("markPayoutPaid() needs { reference }: the transfer's reference, 1 to 255 characters.");
	}
	return closePayout(ctx, id, { status: "paid", reference });
}

/** Marks a created payout failed: its commissions are released, payable again by the next run. */
export async function failPayout(
	ctx: CoreContext,
	id: string,
	options: { reason: string },
): Promise<ClosePayoutResult> {
	payoutId(id, "failPayout()");
	const reason = typeof options === "object" && options !== null ? options.reason : undefined;
	if (typeof reason !== "string" || reason.trim() === "" || reason.length > 1000) {
		invalid('failPayout() needs { reason } of 1 to 1000 characters, such as "bank account closed".');
	}
	return closePayout(ctx, id, { status: "failed", reason });
}

async function closePayout(
	ctx: CoreContext,
	id: string,
	close: { status: "paid"; reference: string } | { status: "failed"; reason: string },
): Promise<ClosePayoutResult> {
	const now = ctx.now();
	return ctx.store.transaction(async (store): Promise<ClosePayoutResult> => {
		const payout = await store.getPayout(id);
		if (payout === null) throw notFound(id);
		await store.lockBeneficiaries([payout.userId]);
		const closed = await store.closePayout(id, close, now);
		if (closed === null) {
			const current = (await store.getPayout(id)) ?? payout;
			if (current.status === close.status) return { status: `already-${close.status}`, payout: current };
			throw new RefkitError(
				"INVALID_STATE",
				`refkit: payout "${id}" is ${current.status}; it cannot be marked ${close.status}.`,
			);
		}
		if (close.status === "paid") {
			const moved = await store.moveCommissions({ payoutId: id }, { from: ["approved"], to: "paid", now });
			if (moved.length !== payout.commissions) {
				throw new Error(
					`refkit: payout "${id}" holds ${moved.length} payable commissions, not ${payout.commissions}.`,
				);
			}
		} else {
			await store.releasePayout(id, now);
		}
		await store.insertEvents(
			[{ type: close.status === "paid" ? "payout.paid" : "payout.failed", data: closed }],
			now,
		);
		return { status: close.status, payout: closed };
	});
}

/** Filters of `refkit.listPayouts()`. Newest first. */
export interface ListPayoutsInput {
	userId?: string | undefined;
	status?: Payout["status"] | undefined;
	/** Only the payouts of this run. */
	runId?: string | undefined;
	limit?: number | undefined;
	offset?: number | undefined;
}

function payoutFilters(input: Omit<ListPayoutsInput, "limit" | "offset"> | undefined, method: string) {
	const filters = filtersObject(input, method);
	const { status, runId } = filters;
	if (status !== undefined && status !== "created" && status !== "paid" && status !== "failed") {
		invalid(`${method}'s status must be "created", "paid" or "failed" (got ${JSON.stringify(status)}).`);
	}
	if (runId !== undefined && !isUuid(runId)) invalid(`${method}'s runId must be a run's id, a UUID.`);
	return { userId: optionalUserId(filters.userId, `${method}'s userId`), status, runId };
}

export async function listPayouts(ctx: CoreContext, input: ListPayoutsInput = {}): Promise<Payout[]> {
	return ctx.store.listPayouts({ ...payoutFilters(input, "listPayouts()"), ...page(input) });
}

export async function getPayout(ctx: CoreContext, id: string): Promise<Payout | null> {
	if (typeof id !== "string") invalid("getPayout() needs the payout's id, a string.");
	return isUuid(id) ? ctx.store.getPayout(id) : null;
}

/** The columns of a payout run's CSV, for a bank's or a payment provider's mass-payment upload. */
export const PAYOUT_COLUMNS: CsvColumns<Payout> = [
	["payout_id", (p) => p.id],
	["user_id", (p) => p.userId],
	["currency", (p) => p.currency],
	["amount_minor", (p) => p.amount],
	["amount", (p) => toMajor(p.amount, p.currency)],
	["commissions", (p) => p.commissions],
	["status", (p) => p.status],
	["reference", (p) => p.reference],
	["cutoff", (p) => p.cutoff],
	["created_at", (p) => p.createdAt],
	["paid_at", (p) => p.paidAt],
	["failure_reason", (p) => p.failureReason],
	["run_id", (p) => p.runId],
];

/**
 * A payout run (by its run id) or one payout (by its id) as CSV lines, header first, read in batches. Throws
 * `PAYOUT_NOT_FOUND` when neither exists.
 */
export async function exportPayouts(ctx: CoreContext, id: string): Promise<AsyncIterable<string>> {
	payoutId(id, "exportPayouts()");
	const single = await ctx.store.getPayout(id);
	if (single !== null)
		return csvLines(
			PAYOUT_COLUMNS,
			(async function* () {
				yield single;
			})(),
		);
	const first = await ctx.store.listPayouts({ runId: id, limit: 1, offset: 0 });
	if (first.length === 0) throw notFound(id);
	return csvLines(
		PAYOUT_COLUMNS,
		keysetExport((after, limit) => ctx.store.listPayouts({ runId: id, after, limit, offset: 0 })),
	);
}
