/**
 * The public vocabulary of referral programs: what an application declares (programs and their rules) and what
 * the ledger answers (sales, refunds, commissions, balances, payouts). Every amount is a whole number of the
 * currency's minor units (cents for USD, yen for JPY), beside its ISO 4217 code. Never a float.
 */

/** A fixed reward when a referred user reaches a goal (`confirm()`): to the referrer, the referred user, or both. */
export interface GoalRule {
	on: "goal";
	/** The goal, as given to `confirm()`: `signup`, `purchase`... */
	goal: string;
	/** Minor units to the referrer (the owner of the credited link). */
	referrer?: number | undefined;
	/** Minor units to the referred user: a double-sided reward. */
	referred?: number | undefined;
}

/** A reward to the referrer on each sale of a referred user: a percentage of its amount, or a fixed amount. */
export interface SaleRule {
	on: "sale";
	/** A percentage of the sale, from 0 to 100 with at most two decimals (12.5 is 12.5 %). */
	percent?: number | undefined;
	/** Or a fixed amount per sale, in minor units. */
	amount?: number | undefined;
	/** Only sales within this many months after the referral (its conversion) earn. */
	months?: number | undefined;
	/** Only the referral's first this many sales earn. */
	maxSales?: number | undefined;
	/** The most this rule pays for one referral, in minor units, over all its sales. */
	capPerReferral?: number | undefined;
	/** Only sales of at least this amount, in minor units, earn. */
	minimumSale?: number | undefined;
}

/** A rule of a program. */
export type RewardRule = GoalRule | SaleRule;

/** A referral program, declared in code (option `programs` of `createRefkit()`). */
export interface ProgramOptions {
	/** The program's name: 1 to 64 letters, digits, `_`, `-` or `.`. Links name it to earn under it. */
	id: string;
	/** The ISO 4217 code of every amount of the program: `USD`, `EUR`, `JPY`... */
	currency: string;
	/** Days a commission stays `pending` (the refund window) before it is payable. Default 30. */
	holdDays?: number | undefined;
	/** The smallest payout, in minor units: a smaller balance waits for the next run. Default 0. */
	minimumPayout?: number | undefined;
	/** What a referral earns. */
	rules: readonly RewardRule[];
}

/** A program after validation: its rules named (`signup`, `sale`, `sale:2`...), defaults filled in. */
export interface Program {
	readonly id: string;
	readonly currency: string;
	readonly holdDays: number;
	readonly minimumPayout: number;
	readonly isDefault: boolean;
	readonly rules: readonly NamedRule[];
}

/** A rule with its name in the program: the goal for a goal rule, `sale` (then `sale:2`...) for sale rules. */
export type NamedRule = (GoalRule | SaleRule) & { readonly name: string };

/** A commission's state; it only moves forward (see docs/programs.md). */
export type CommissionStatus = "pending" | "held" | "approved" | "paid" | "voided";

/** One row of the ledger. Its amount never changes; its status moves forward, its payout is set once. */
export interface Commission {
	/** A UUID. */
	id: string;
	/** The user it is owed to. */
	userId: string;
	role: "referrer" | "referred";
	program: string;
	/** The rule's name in the program. */
	rule: string;
	/** The rule and the numbers it was applied to, as they were: changing a program never rewrites history. */
	terms: Record<string, unknown>;
	/** What earned it: a conversion (a goal) or a sale. */
	sourceType: "conversion" | "sale";
	sourceId: string;
	/** The referral (the conversion binding the referred user to the referrer) it belongs to. */
	referralId: string | null;
	/** Minor units; negative for a clawback. */
	amount: number;
	currency: string;
	/** `pending` whose holding period is over reads as `approved`. */
	status: CommissionStatus;
	/** When it becomes (or became) payable. */
	payableAt: Date;
	/** Why it is (or was) held for review. */
	heldReason: string | null;
	/** Why it was voided. */
	voidReason: string | null;
	/** For a clawback: the commission it takes back part of. */
	clawbackOf: string | null;
	/** For what a partial refund left of a voided commission: the voided one. */
	replaces: string | null;
	/** The payout that claimed it, once one did. */
	payoutId: string | null;
	createdAt: Date;
	updatedAt: Date;
}

/** A payment by a referred user, recorded once per external id. */
export interface Sale {
	/** A UUID. */
	id: string;
	/** The billing system's id: an invoice, an order. Unique. */
	externalId: string;
	userId: string;
	/** The referrer it credits: the referrer of the user's first conversion. */
	referrerUserId: string;
	/** That conversion: the referral. */
	referralId: string;
	program: string;
	amount: number;
	currency: string;
	/** The sum of its refunds, never above `amount`. */
	refunded: number;
	/** 1 for the referral's first sale, 2 for its second... */
	sequence: number;
	/** When the payment was made. */
	createdAt: Date;
}

/** A refund of part or all of a sale. */
export interface Refund {
	id: string;
	externalId: string;
	saleId: string;
	amount: number;
	reason: string;
	createdAt: Date;
}

/** One user's money in one currency, by state. `approved` is what is payable (clawbacks can make it negative). */
export interface Balance {
	userId: string;
	currency: string;
	pending: number;
	held: number;
	approved: number;
	paid: number;
}

/** What the ledger owes in one currency, over every beneficiary: the sums of their balances by state. */
export interface Liability {
	currency: string;
	pending: number;
	held: number;
	/** Payable, clawbacks netted (beneficiaries whose payable balance is negative included). */
	approved: number;
	paid: number;
	/** Beneficiaries with a balance in this currency. */
	beneficiaries: number;
	/** Those whose payable balance is negative (clawbacks beyond what was left), and its sum. */
	negative: { beneficiaries: number; amount: number };
}

/** A payout: one beneficiary's approved commissions in one currency, netted, to be transferred. */
export interface Payout {
	id: string;
	/** The payout run that made it. */
	runId: string;
	userId: string;
	currency: string;
	/** Minor units, above zero and at least the program's minimum. */
	amount: number;
	/** How many commissions (clawbacks included) it pays. */
	commissions: number;
	/** The run's cutoff: it pays commissions payable by then. */
	cutoff: Date;
	status: "created" | "paid" | "failed";
	/** The transfer's reference, once paid. */
	reference: string | null;
	failureReason: string | null;
	createdAt: Date;
	paidAt: Date | null;
	failedAt: Date | null;
}

/** What `recordSale()` did. Every expected outcome is a value. */
export type RecordSaleResult =
	/** A new sale, with the commissions it earned (none when a rule's cap or sale count was reached). */
	| { status: "recorded"; sale: Sale; commissions: Commission[] }
	/** This external id was recorded before: the first sale, unchanged. */
	| { status: "duplicate"; sale: Sale }
	/** Recorded, but after every sale rule's months: it earns nothing. */
	| { status: "outside-duration"; sale: Sale }
	/** The user has no referral (no conversion credited to a referrer): nothing recorded. */
	| { status: "not-referred" }
	/** The buyer is their own referrer: nothing recorded. */
	| { status: "self-referral" };

/** What `refundSale()` did. */
export type RefundSaleResult =
	/** Recorded; `voided` commissions not yet paid out, `clawbacks` appended for those in a payout. */
	| {
			status: "refunded";
			sale: Sale;
			refund: Refund;
			voided: Commission[];
			clawbacks: Commission[];
			/** What a partial refund left of the voided commissions, as new rows. */
			replacements: Commission[];
	  }
	/** A refund with this id was recorded before: the first, unchanged. */
	| { status: "duplicate"; sale: Sale; refund: Refund };

/**
 * What a payout run made: counts and totals, so that a run over any number of beneficiaries holds little in
 * memory. Its payouts: `listPayouts({ runId })`, or `exportPayouts(runId)` as CSV.
 */
export interface PayoutRun {
	runId: string;
	cutoff: Date;
	/** How many payouts it made. */
	payouts: number;
	/** Their sum per currency, in minor units: `{ USD: 123400 }`. */
	totals: Record<string, number>;
	/** Beneficiary and currency pairs whose net was negative or below the minimum: carried forward. */
	carriedForward: number;
}

/** A ledger event, delivered by `refkit.deliverEvents()` (at least once: deduplicate on `id`). */
export type LedgerEventType =
	| "commission.created"
	| "commission.approved"
	| "commission.held"
	| "commission.released"
	| "commission.voided"
	| "commission.clawed_back"
	| "payout.created"
	| "payout.paid"
	| "payout.failed"
	| "sale.recorded"
	| "sale.refunded";

/** One ledger event: its type, and the row it is about as it was when the event happened. */
export interface LedgerEvent {
	/** A UUID, stable across retries. */
	id: string;
	type: LedgerEventType;
	createdAt: Date;
	data: Commission | Payout | Sale | Refund;
}
