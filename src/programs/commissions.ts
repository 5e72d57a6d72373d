import { filtersObject, invalid, isUuid, optionalUserId, page } from "../core/arguments.js";
import type { CoreContext } from "../core/context.js";
import { keysetExport } from "../core/listings.js";
import { RefkitError } from "../errors.js";
import type { NewEvent } from "../store/ledger-roles.js";
import type { Balance, Commission, CommissionStatus } from "./types.js";

/** Reading the ledger (commissions, balances) and an admin's review of held commissions; approving due ones. */

/** Filters of `refkit.listCommissions()`. Newest first. */
export interface ListCommissionsInput {
	/** Only this beneficiary's. */
	userId?: string | undefined;
	/** Only those in this status, as read now (a pending one past its hold is `approved`). */
	status?: CommissionStatus | undefined;
	program?: string | undefined;
	/** Only those of this source: a conversion's or a sale's id. */
	sourceId?: string | undefined;
	/** Only those a payout claimed. */
	payoutId?: string | undefined;
	/** 1 to 1000; default 100. */
	limit?: number | undefined;
	offset?: number | undefined;
}

/** Filters of `refkit.exportCommissions()`: those of `listCommissions()`, without paging. */
export type ExportCommissionsInput = Omit<ListCommissionsInput, "limit" | "offset">;

const STATUSES: readonly CommissionStatus[] = ["pending", "held", "approved", "paid", "voided"];

function commissionFilters(input: ExportCommissionsInput | undefined, method: string) {
	const filters = filtersObject(input, method);
	const { status } = filters;
	if (status !== undefined && !STATUSES.includes(status)) {
		invalid(`${method}'s status must be one of ${STATUSES.join(", ")} (got ${JSON.stringify(status)}).`);
	}
	for (const key of ["program", "sourceId", "payoutId"] as const) {
		const value = filters[key];
		if (value !== undefined && (typeof value !== "string" || value === ""))
			invalid(`${method}'s ${key} must be a non-empty string.`);
	}
	return {
		userId: optionalUserId(filters.userId, `${method}'s userId`),
		status,
		program: filters.program,
		sourceId: filters.sourceId,
		payoutId: filters.payoutId,
	};
}

export function listCommissions(ctx: CoreContext, input: ListCommissionsInput = {}): Promise<Commission[]> {
	return ctx.store.listCommissions(
		{ ...commissionFilters(input, "listCommissions()"), ...page(input) },
		ctx.now(),
	);
}

export function exportCommissions(
	ctx: CoreContext,
	input?: ExportCommissionsInput,
): AsyncIterable<Commission> {
	const filters = commissionFilters(input, "exportCommissions()");
	return keysetExport((after, limit) =>
		ctx.store.listCommissions({ ...filters, after, limit, offset: 0 }, ctx.now()),
	);
}

export async function getCommission(ctx: CoreContext, id: unknown): Promise<Commission | null> {
	if (typeof id !== "string") invalid("getCommission() needs the commission's id, a string.");
	return isUuid(id) ? ctx.store.getCommission(id, ctx.now()) : null;
}

/**
 * Balances at this moment, by currency: of one user, or (no user) of everyone, read as the caller iterates.
 */
export async function balances(ctx: CoreContext, userId?: string): Promise<Balance[]> {
	if (userId === undefined) {
		const all: Balance[] = [];
		for await (const balance of everyBalance(ctx)) all.push(balance);
		return all;
	}
	return ctx.store.balances(optionalUserId(userId, "balances()'s userId"), ctx.now());
}

/** Every beneficiary's balances, 1000 at a time. */
export async function* everyBalance(ctx: CoreContext): AsyncIterable<Balance> {
	let after: { userId: string; currency: string } | undefined;
	for (;;) {
		const rows = await ctx.store.balances(undefined, ctx.now(), { after, limit: 1000 });
		yield* rows;
		const last = rows.at(-1);
		if (last === undefined || rows.length < 1000) return;
		after = { userId: last.userId, currency: last.currency };
	}
}

async function reviewed(
	ctx: CoreContext,
	id: unknown,
	method: string,
	decide: "release" | "reject",
	reason?: string,
) {
	if (!isUuid(id))
		invalid(`${method} needs the commission's id, a UUID (got ${JSON.stringify(String(id).slice(0, 60))}).`);
	const now = ctx.now();
	return ctx.store.transaction(async (store) => {
		const commission = await store.getCommission(id, now);
		if (commission === null)
			throw new RefkitError("COMMISSION_NOT_FOUND", `refkit: no commission has the id "${id}".`);
		await store.lockBeneficiaries([commission.userId]);
		const [moved] = await store.moveCommissions([id], {
			from: ["held"],
			to: decide === "release" ? "pending" : "voided",
			...(decide === "reject" ? { voidReason: `rejected: ${reason}` } : {}),
			now,
		});
		if (moved === undefined) {
			const current = await store.getCommission(id, now);
			throw new RefkitError(
				"INVALID_STATE",
				`refkit: commission "${id}" is ${current?.status ?? "gone"}, not held: only a held commission can be ${decide === "release" ? "released" : "rejected"}.`,
			);
		}
		const result = (await store.getCommission(id, now)) as Commission;
		const events: NewEvent[] = [
			{ type: decide === "release" ? "commission.released" : "commission.voided", data: result },
		];
		await store.insertEvents(events, now);
		return result;
	});
}

/** Releases a held commission: it waits out the rest of its holding period (if any) and becomes payable. */
export function releaseCommission(ctx: CoreContext, id: string): Promise<Commission> {
	return reviewed(ctx, id, "releaseCommission()", "release");
}

/** Rejects a held commission: it is voided, with the reason. */
export function rejectCommission(
	ctx: CoreContext,
	id: string,
	options: { reason: string },
): Promise<Commission> {
	const reason = typeof options === "object" && options !== null ? options.reason : undefined;
	if (typeof reason !== "string" || reason.trim() === "" || reason.length > 1000) {
		invalid('rejectCommission() needs { reason } of 1 to 1000 characters, such as "same household".');
	}
	return reviewed(ctx, id, "rejectCommission()", "reject", reason);
}

/**
 * Writes down the approval of pending commissions whose holding period is over (they already read as
 * approved), 500 at a time, each with its `commission.approved` event. Returns how many.
 */
export async function approveDue(ctx: CoreContext): Promise<number> {
	let approved = 0;
	for (;;) {
		const now = ctx.now();
		const moved = await ctx.store.transaction(async (store) => {
			const due = await store.dueCommissions(now, 500);
			if (due.length === 0) return -1;
			await store.lockBeneficiaries([...new Set(due.map((c) => c.userId))]);
			const rows = await store.moveCommissions(
				due.map((c) => c.id),
				{ from: ["pending"], to: "approved", payableBy: now, now },
			);
			await store.insertEvents(
				rows.map((data) => ({ type: "commission.approved", data })),
				now,
			);
			return rows.length;
		});
		if (moved < 0) return approved;
		approved += moved;
		if (moved === 0) return approved;
	}
}
