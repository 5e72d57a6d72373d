import type {
	Balance,
	Commission,
	CommissionStatus,
	LedgerEvent,
	LedgerEventType,
	Liability,
	Payout,
	Program,
	Refund,
	Sale,
} from "../programs/types.js";
import type { Page } from "./page.js";

/* The store's roles for referral programs: the ledger, sales and payouts (see store.ts for the others). */

/** The key of `LedgerStore.earnedByReferrals`'s answer. */
export function earnedKey(referralId: string, rule: string): string {
	return `${referralId}\u0000${rule}`;
}

/** A commission to append to the ledger. */
export interface NewCommission {
	id: string;
	program: string;
	rule: string;
	terms: Record<string, unknown>;
	userId: string;
	role: Commission["role"];
	sourceType: Commission["sourceType"];
	sourceId: string;
	referralId: string | null;
	amount: number;
	currency: string;
	status: "pending" | "held" | "approved";
	payableAt: Date;
	heldReason: string | null;
	clawbackOf: string | null;
	replaces: string | null;
	createdAt: Date;
}

/** How `LedgerStore.moveCommissions` moves commissions: only those in one of `from`, forward to `to`. */
export interface CommissionMove {
	from: readonly CommissionStatus[];
	to: CommissionStatus;
	/** Only those no payout claimed. */
	unclaimed?: boolean | undefined;
	/** Only those payable by then (approving). */
	payableBy?: Date | undefined;
	voidReason?: string | undefined;
	/** Why, when moving to `held`. */
	heldReason?: string | undefined;
	now: Date;
}

export interface CommissionFilters {
	userId?: string | undefined;
	status?: CommissionStatus | undefined;
	program?: string | undefined;
	sourceId?: string | undefined;
	payoutId?: string | undefined;
}

export interface CommissionQuery extends CommissionFilters, Page {}

/** A program's terms as stored for the processes that do not run the application's code (the CLI). */
export interface SavedProgram {
	id: string;
	currency: string;
	holdDays: number;
	minimumPayout: number;
	isDefault: boolean;
	rules: unknown;
}

export interface NewEvent {
	type: LedgerEventType;
	data: LedgerEvent["data"];
}

export interface DueEvent {
	event: LedgerEvent;
	attempt: number;
}

/** The commission ledger, its balances, and its outbox of events. */
export interface LedgerStore {
	/** Makes other transactions writing these beneficiaries' commissions wait for this one (PostgreSQL). */
	lockBeneficiaries(userIds: readonly string[]): Promise<void>;
	savePrograms(programs: readonly Program[], now: Date): Promise<void>;
	savedPrograms(): Promise<SavedProgram[]>;
	/** Appends commissions, and adds them to their beneficiaries' balances; returns them as read at `now`. */
	insertCommissions(rows: readonly NewCommission[], now: Date): Promise<Commission[]>;
	/** Moves the commissions that match, updating the balances; returns them as read at `move.now`. */
	moveCommissions(
		which: readonly string[] | { payoutId: string },
		move: CommissionMove,
	): Promise<Commission[]>;
	/** A source's positive commissions not voided: what a refund or a reversal takes from. */
	liveCommissionsOf(sourceId: string): Promise<Commission[]>;
	/** The first commission a source earned under a rule: the amount refunds are proportional to. */
	firstCommissionOf(sourceId: string, rule: string): Promise<Commission | null>;
	/**
	 * What each referral has earned under each rule: its commissions not voided, clawbacks included; by
	 * `earnedKey(referralId, rule)`, absent when nothing.
	 */
	earnedByReferrals(referralIds: readonly string[], rules: readonly string[]): Promise<Map<string, number>>;
	countCommissionsSince(userId: string, role: Commission["role"], since: Date): Promise<number>;
	/** Whether the hit came from an IP address, or a User-Agent, that `userId`'s own hits had. */
	sharedSignals(hitId: string, userId: string): Promise<{ ip: boolean; userAgent: boolean }>;
	getCommission(id: string, now: Date): Promise<Commission | null>;
	listCommissions(query: CommissionQuery, now: Date): Promise<Commission[]>;
	/** Balances at `now`, of one user or, paged by user, of everyone. */
	balances(
		userId: string | undefined,
		now: Date,
		page?: { after?: { userId: string; currency: string } | undefined; limit: number },
	): Promise<Balance[]>;
	/** Sums of every balance by currency, at `now`. */
	liabilities(now: Date): Promise<Liability[]>;
	/** Up to `limit` pending commissions whose holding period is over by `now`. */
	dueCommissions(now: Date, limit: number): Promise<Array<{ id: string; userId: string }>>;
	insertEvents(events: readonly NewEvent[], now: Date): Promise<void>;
	takeDueEvents(now: Date, leaseUntil: Date, limit: number): Promise<DueEvent[]>;
	markEventDelivered(id: string, now: Date): Promise<void>;
	markEventFailed(id: string, error: string, retryAt: Date): Promise<void>;
}

/** The user's referral: their first conversion credited to a referrer, and the program of its link. */
export interface Referral {
	conversionId: string;
	referrerUserId: string;
	referredUserId: string;
	/** The hit the conversion credited. */
	hitId: string | null;
	createdAt: Date;
	/** The link's program; `null` for the default. */
	program: string | null;
}

export type NewSale = Omit<Sale, "refunded">;

export interface SaleFilters {
	userId?: string | undefined;
	referrerUserId?: string | undefined;
}

export interface SaleQuery extends SaleFilters, Page {}

/** Sales and refunds. */
export interface SaleStore {
	/** The referrals of these users, by user: each one's first unreversed conversion credited to a referrer. */
	referralsOf(userIds: readonly string[]): Promise<Map<string, Referral>>;
	/** A conversion's referral details (for goal commissions): its link's program. */
	linkProgramOf(linkId: number | null): Promise<string | null>;
	findSale(externalId: string): Promise<Sale | null>;
	/** The sales that have these external ids, by external id. */
	findSales(externalIds: readonly string[]): Promise<Map<string, Sale>>;
	getSale(id: string): Promise<Sale | null>;
	/** The last sequence number of each referral's sales, by referral (none for a referral without sales). */
	lastSaleSequences(referralIds: readonly string[]): Promise<Map<string, number>>;
	/** Inserts sales in one statement; returns those inserted (not those whose external id exists already). */
	insertSales(sales: readonly NewSale[], now: Date): Promise<Sale[]>;
	/** Adds to a sale's refunded amount, unless that would pass its amount; `null` then. */
	addRefunded(saleId: string, amount: number): Promise<Sale | null>;
	findRefund(externalId: string): Promise<Refund | null>;
	/** A sale's refunds, oldest first. */
	refundsOfSale(saleId: string): Promise<Refund[]>;
	/** `null` when a refund with its external id exists already. */
	insertRefund(refund: Refund): Promise<Refund | null>;
	listSales(query: SaleQuery): Promise<Sale[]>;
}

export interface NewPayout {
	id: string;
	runId: string;
	userId: string;
	currency: string;
	amount: number;
	commissions: number;
	cutoff: Date;
	createdAt: Date;
}

/** Payable commissions summed by beneficiary, currency and program (payout runs net them). */
export interface PayableSum {
	userId: string;
	currency: string;
	program: string;
	amount: number;
	count: number;
}

export interface PayoutFilters {
	userId?: string | undefined;
	status?: Payout["status"] | undefined;
	runId?: string | undefined;
}

export interface PayoutQuery extends PayoutFilters, Page {}

/** Payouts: claiming approved commissions, and a payout's end (paid or failed). */
export interface PayoutStore {
	/** The next `limit` beneficiaries (by id, after `after`) with approved, unclaimed commissions payable by `cutoff`. */
	payableBeneficiaries(cutoff: Date, after: string | null, limit: number): Promise<string[]>;
	payableSums(userIds: readonly string[], cutoff: Date): Promise<PayableSum[]>;
	insertPayouts(payouts: readonly NewPayout[]): Promise<void>;
	/** Sets the payout of these beneficiaries' approved, unclaimed commissions to the run's; returns how many. */
	claimForRun(runId: string, userIds: readonly string[], cutoff: Date, now: Date): Promise<number>;
	getPayout(id: string): Promise<Payout | null>;
	listPayouts(query: PayoutQuery): Promise<Payout[]>;
	/** Moves a `created` payout to `paid` or `failed`; `null` if it is not `created` (any more). */
	closePayout(
		id: string,
		close: { status: "paid"; reference: string } | { status: "failed"; reason: string },
		now: Date,
	): Promise<Payout | null>;
	/** A failed payout's commissions, released: payable again. Returns how many. */
	releasePayout(id: string, now: Date): Promise<number>;
}
