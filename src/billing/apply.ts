import type { CoreContext } from "../core/context.js";
import { isRefkitError, RefkitError, type RefkitErrorCode } from "../errors.js";
import { savePrograms } from "../programs/ledger.js";
import type { Refund, Sale } from "../programs/types.js";
import type { BillingEventStatus, NewBillingEvent } from "../store/billing-roles.js";
import type { TransactionStore } from "../store/store.js";

/**
 * Applying a billing system's event exactly once: the event's id is stored in the transaction of its effect,
 * so that a redelivery finds it done, and two deliveries racing apply it once. An event that cannot be applied
 * yet waits (its payload kept) and is applied again by a later delivery, a replay, or the event it waits for.
 */

/** What applying an event came to. */
export interface BillingOutcome {
	status: BillingEventStatus;
	/** In plain words, for the logs and the CLI. */
	outcome: string;
	/** What a waiting event waits for: "user", or a payment or sale id. */
	waitingFor?: string | null | undefined;
	sale?: Sale | undefined;
	refund?: Refund | undefined;
	/** The payments and sales whose waiting events may now be applied (after this one commits). */
	unblocks?: readonly string[] | undefined;
}

/** What one event came to: as applied now, or `duplicate` when a delivery before this one applied it. */
export interface BillingEventResult {
	eventId: string;
	type: string;
	/** `applied`, `ignored` (nothing to do), `waiting` (see docs/stripe.md), `failed`, or `duplicate`. */
	status: "applied" | "ignored" | "waiting" | "failed" | "duplicate";
	outcome: string;
	sale?: Sale | undefined;
	refund?: Refund | undefined;
}

/**
 * The errors that say the event cannot be applied as it is (a currency the program does not pay in, a refund
 * beyond the sale): the event is kept as `failed`, with the message, to be applied again once that changes.
 * Any other error (the database) rolls everything back, and the billing system delivers the event again.
 */
const FAILURES: ReadonlySet<RefkitErrorCode> = new Set([
	"CURRENCY_MISMATCH",
	"REFUND_EXCEEDS_SALE",
	"SALE_NOT_FOUND",
	"INVALID_ARGUMENT",
]);

/**
 * Applies `effect` once for this event, in one transaction with the event's record. Returns what it came to,
 * and what it unblocked.
 */
export async function applyBillingEvent(
	ctx: CoreContext,
	event: NewBillingEvent,
	effect: (store: TransactionStore, now: Date) => Promise<BillingOutcome>,
): Promise<{ result: BillingEventResult; unblocks: readonly string[] }> {
	// Before the transaction: on SQLite, the one connection is the transaction's.
	await savePrograms(ctx);
	const now = ctx.now();
	const base = { eventId: event.id, type: event.type };
	/** What the attempt found: a new event, or a stored one in this status. */
	let seen: string | undefined;
	try {
		return await ctx.store.transaction(async (store) => {
			const taken = await store.takeBillingEvent(event, now);
			seen = taken.take === "new" ? "new" : taken.event.status;
			if (taken.take === "done") {
				const { status, outcome } = taken.event;
				return {
					result: { ...base, status: "duplicate", outcome: `received before (${status}): ${outcome}` },
					unblocks: [],
				};
			}
			const applied = await effect(store, now);
			const waitingFor = applied.status === "waiting" ? (applied.waitingFor ?? null) : null;
			await store.finishBillingEvent(
				event.provider,
				event.id,
				{ status: applied.status, outcome: applied.outcome, waitingFor },
				now,
			);
			const { status, outcome, sale, refund } = applied;
			return { result: { ...base, status, outcome, sale, refund }, unblocks: applied.unblocks ?? [] };
		});
	} catch (error) {
		if (!isRefkitError(error) || !FAILURES.has(error.code)) throw error;
		// Its effect rolled back: the event is kept as failed, on its own.
		const outcome = error.message;
		await ctx.store.transaction(async (store) => {
			const taken = await store.takeBillingEvent(event, now);
			// Only over what the attempt found: a delivery racing it may have ended the event otherwise meanwhile.
			const unchanged =
				seen === "new" ? taken.take === "new" : taken.take === "again" && taken.event.status === seen;
			if (unchanged) {
				await store.finishBillingEvent(
					event.provider,
					event.id,
					{ status: "failed", outcome, waitingFor: null },
					now,
				);
			}
		});
		return { result: { ...base, status: "failed", outcome }, unblocks: [] };
	}
}

/** Throws `INVALID_ARGUMENT` (the event is kept as failed) unless `value` is a whole, non-negative amount. */
export function wholeAmount(value: unknown, name: string): number {
	if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
		throw new RefkitError(
			"INVALID_ARGUMENT",
			`refkit: the billing event's ${name} is not a whole amount of minor units.`,
		);
	}
	return value;
}
