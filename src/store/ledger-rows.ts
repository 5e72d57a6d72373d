import type { Selectable } from "kysely";
import type {
	Commission,
	CommissionStatus,
	LedgerEvent,
	LedgerEventType,
	Payout,
	Refund,
	Sale,
} from "../programs/types.js";
import { fromDbTime } from "./rows.js";
import type { CommissionTable, EventTable, PayoutTable, RefundTable, SaleTable } from "./schema.js";

/* The ledger's rows and the public types refkit makes of them (see rows.ts for the other tables). */

/** An amount as read back: a number (SQLite) or a `bigint` column's string (PostgreSQL). */
export function money(value: number | string | bigint | null | undefined): number {
	return value === null || value === undefined ? 0 : Number(value);
}

function optionalTime(value: Date | string | null): Date | null {
	return value === null ? null : fromDbTime(value);
}

/**
 * A commission as the public sees it at `now`: a `pending` one whose holding period is over reads as
 * `approved` (the ledger writes the move later, with its event; see `approveDue()`).
 */
export function toCommission(row: Selectable<CommissionTable>, now?: Date): Commission {
	const payableAt = fromDbTime(row.payable_at);
	let status = row.status as CommissionStatus;
	if (status === "pending" && now !== undefined && payableAt.getTime() <= now.getTime()) status = "approved";
	return {
		id: row.id,
		userId: row.beneficiary_user_id,
		role: row.role as Commission["role"],
		program: row.program,
		rule: row.rule,
		terms: JSON.parse(row.terms) as Record<string, unknown>,
		sourceType: row.source_type as Commission["sourceType"],
		sourceId: row.source_id,
		referralId: row.referral_id,
		amount: money(row.amount),
		currency: row.currency,
		status,
		payableAt,
		heldReason: row.held_reason,
		voidReason: row.void_reason,
		clawbackOf: row.clawback_of,
		replaces: row.replaces,
		payoutId: row.payout_id,
		createdAt: fromDbTime(row.created_at),
		updatedAt: fromDbTime(row.updated_at),
	};
}

export function toSale(row: Selectable<SaleTable>): Sale {
	return {
		id: row.id,
		externalId: row.external_id,
		userId: row.user_id,
		referrerUserId: row.referrer_user_id,
		referralId: row.conversion_id,
		program: row.program,
		amount: money(row.amount),
		currency: row.currency,
		refunded: money(row.refunded),
		sequence: row.sequence,
		createdAt: fromDbTime(row.created_at),
	};
}

export function toRefund(row: Selectable<RefundTable>): Refund {
	return {
		id: row.id,
		externalId: row.external_id,
		saleId: row.sale_id,
		amount: money(row.amount),
		reason: row.reason,
		createdAt: fromDbTime(row.created_at),
	};
}

export function toPayout(row: Selectable<PayoutTable>): Payout {
	return {
		id: row.id,
		runId: row.run_id,
		userId: row.beneficiary_user_id,
		currency: row.currency,
		amount: money(row.amount),
		commissions: row.commissions,
		cutoff: fromDbTime(row.cutoff),
		status: row.status as Payout["status"],
		reference: row.reference,
		failureReason: row.failure_reason,
		createdAt: fromDbTime(row.created_at),
		paidAt: optionalTime(row.paid_at),
		failedAt: optionalTime(row.failed_at),
	};
}

/** An event's row: its data is stored as JSON, with dates as ISO strings, and given back with them as Dates. */
export function toLedgerEvent(row: Selectable<EventTable>): LedgerEvent {
	const data = JSON.parse(row.data, (key, value) =>
		typeof value === "string" && /At$|^cutoff$/.test(key) ? new Date(value) : value,
	) as LedgerEvent["data"];
	return { id: row.id, type: row.type as LedgerEventType, createdAt: fromDbTime(row.created_at), data };
}
