import { randomUUID } from "node:crypto";
import type { CoreContext } from "../core/context.js";
import { RefkitError } from "../errors.js";
import type { NewCommission, NewEvent } from "../store/ledger-roles.js";
import type { TransactionStore } from "../store/store.js";
import type { ReviewCandidate } from "./options.js";
import type { Commission, Program } from "./types.js";

/**
 * What every ledger operation shares: the programs (saved to the database once per instance), the review of a
 * new commission, and taking part of a commission back (void and replace it, or claw it back).
 */

const DAY = 24 * 60 * 60 * 1000;
const HOUR = 60 * 60 * 1000;

const saved = new WeakMap<CoreContext, Promise<void>>();

/** Throws `NO_PROGRAMS` unless the instance has programs. */
export function requirePrograms(ctx: CoreContext, method: string): void {
	if (ctx.options.programs.default === null) {
		throw new RefkitError(
			"NO_PROGRAMS",
			`refkit: ${method} needs a referral program: give createRefkit() the option \`programs\` (see docs/programs.md).`,
		);
	}
}

/**
 * Saves the programs' terms to the database, once per instance (and again after a failure), so that the CLI and
 * the dashboard know them; `migrate()` does it too.
 */
export function savePrograms(ctx: CoreContext): Promise<void> {
	const programs = [...ctx.options.programs.byId.values()];
	if (programs.length === 0) return Promise.resolve();
	let done = saved.get(ctx);
	if (done === undefined) {
		done = ctx.store.savePrograms(programs, ctx.now()).catch((error: unknown) => {
			saved.delete(ctx);
			throw error;
		});
		saved.set(ctx, done);
	}
	return done;
}

/** The program a link names, else the default. */
export function programNamed(ctx: CoreContext, id: string | null): Program {
	const { programs } = ctx.options;
	const program = (id === null ? undefined : programs.byId.get(id)) ?? programs.default;
	if (program === null) throw new RefkitError("NO_PROGRAMS", "refkit: no referral program is configured.");
	return program;
}

/** A commission a rule earned, before the review decides its status. */
export interface Earned {
	program: Program;
	rule: string;
	terms: Record<string, unknown>;
	userId: string;
	role: Commission["role"];
	sourceType: Commission["sourceType"];
	sourceId: string;
	referralId: string | null;
	amount: number;
	/** The referral's pair and its credited hit, for the review. */
	referredUserId: string;
	referrerUserId: string;
	hitId: string | null;
}

/** The built-in checks, then the application's hook: the reason to hold a commission, or `null`. */
async function review(
	ctx: CoreContext,
	store: TransactionStore,
	earned: Earned,
	at: Date,
	earlier: number,
): Promise<string | null> {
	const { review } = ctx.options.programs;
	if ((review.sameIp || review.sameBrowser) && earned.hitId !== null) {
		const shared = await store.sharedSignals(earned.hitId, earned.referrerUserId);
		if (review.sameIp && shared.ip)
			return "The referred user's visit came from an IP address the referrer used.";
		if (review.sameBrowser && shared.userAgent) {
			return "The referred user's visit came from a browser (User-Agent) the referrer used.";
		}
	}
	if (review.maxPerHour !== undefined && earned.role === "referrer") {
		const recent =
			earlier + (await store.countCommissionsSince(earned.userId, "referrer", new Date(at.getTime() - HOUR)));
		if (recent >= review.maxPerHour) {
			const limit = review.maxPerHour;
			return `The referrer earned more than ${limit} commission${limit === 1 ? "" : "s"} in an hour.`;
		}
	}
	if (review.hook !== undefined) {
		const candidate: ReviewCandidate = {
			userId: earned.userId,
			role: earned.role,
			program: earned.program.id,
			rule: earned.rule,
			amount: earned.amount,
			currency: earned.program.currency,
			sourceType: earned.sourceType,
			sourceId: earned.sourceId,
			referredUserId: earned.referredUserId,
			referrerUserId: earned.referrerUserId,
		};
		const decision = await review.hook(candidate);
		if (decision === "approve") return null;
		if (
			typeof decision === "object" &&
			decision !== null &&
			typeof decision.hold === "string" &&
			decision.hold !== ""
		) {
			return decision.hold.slice(0, 1000);
		}
		throw new RefkitError(
			"INVALID_OPTION",
			`refkit: options.review.hook must answer "approve" or { hold: "a reason" } (got ${JSON.stringify(decision)}).`,
		);
	}
	return null;
}

/**
 * The commissions to append for what the rules earned, each reviewed: held, or pending for the program's
 * holding period. Runs in the caller's transaction, which has locked the beneficiaries. `earlier` counts, by
 * beneficiary, the referrer commissions this transaction is about to append already (for `maxPerHour`); it is
 * kept up to date.
 */
export async function reviewCommissions(
	ctx: CoreContext,
	store: TransactionStore,
	earned: readonly Earned[],
	at: Date,
	earlier: Map<string, number> = new Map(),
): Promise<NewCommission[]> {
	const rows: NewCommission[] = [];
	for (const item of earned) {
		if (item.amount <= 0) continue;
		const before = earlier.get(item.userId) ?? 0;
		const heldReason = await review(ctx, store, item, at, before);
		if (item.role === "referrer") earlier.set(item.userId, before + 1);
		rows.push({
			id: randomUUID(),
			program: item.program.id,
			rule: item.rule,
			terms: item.terms,
			userId: item.userId,
			role: item.role,
			sourceType: item.sourceType,
			sourceId: item.sourceId,
			referralId: item.referralId,
			amount: item.amount,
			currency: item.program.currency,
			status: heldReason === null ? "pending" : "held",
			payableAt: new Date(at.getTime() + item.program.holdDays * DAY),
			heldReason,
			clawbackOf: null,
			replaces: null,
			createdAt: at,
		});
	}
	return rows;
}

/**
 * Appends what the rules earned, reviewed (see {@link reviewCommissions}), with a `commission.created` event
 * each. Runs in the caller's transaction, which has locked the beneficiaries.
 */
export async function writeCommissions(
	ctx: CoreContext,
	store: TransactionStore,
	earned: readonly Earned[],
	at: Date,
	events: NewEvent[],
): Promise<Commission[]> {
	const rows = await reviewCommissions(ctx, store, earned, at);
	const commissions = await store.insertCommissions(rows, ctx.now());
	for (const commission of commissions) events.push({ type: "commission.created", data: commission });
	return commissions;
}

/** What taking part of a commission back did. */
export interface TakenBack {
	voided: Commission[];
	replacements: Commission[];
	clawbacks: Commission[];
}

/**
 * Takes `part` (at most its amount) of a live commission back, for `reason`: a commission no payout claimed is
 * voided, and what is left of it is appended as a new row with the same status and payable date; one a payout
 * claimed (paid or being paid) is never touched: a clawback (a negative row, payable at once) is appended for
 * the next payout to net. Exactly one of the two happens, decided on the row as the database has it now.
 */
export async function takeBack(
	store: TransactionStore,
	commission: Commission,
	part: number,
	reason: string,
	at: Date,
	into: TakenBack,
	events: NewEvent[],
	now: Date,
): Promise<void> {
	if (part <= 0) return;
	const [voided] = await store.moveCommissions([commission.id], {
		from: ["pending", "held", "approved"],
		to: "voided",
		unclaimed: true,
		voidReason: reason,
		now,
	});
	const base = {
		program: commission.program,
		rule: commission.rule,
		terms: { ...commission.terms, reason },
		userId: commission.userId,
		role: commission.role,
		sourceType: commission.sourceType,
		sourceId: commission.sourceId,
		referralId: commission.referralId,
		currency: commission.currency,
		createdAt: at,
	};
	if (voided !== undefined) {
		into.voided.push(voided);
		events.push({ type: "commission.voided", data: voided });
		const left = commission.amount - part;
		if (left <= 0) return;
		// Its status as read (a pending row past its hold reads, and is kept, as approved).
		const status =
			commission.status === "held" || commission.status === "approved" ? commission.status : "pending";
		const [replacement] = await store.insertCommissions(
			[
				{
					...base,
					id: randomUUID(),
					amount: left,
					status,
					payableAt: commission.payableAt,
					heldReason: commission.status === "held" ? commission.heldReason : null,
					clawbackOf: null,
					replaces: commission.id,
				},
			],
			now,
		);
		if (replacement !== undefined) {
			into.replacements.push(replacement);
			events.push({ type: "commission.created", data: replacement });
		}
		return;
	}
	// A payout claimed it: it stays as it is, and the next payout nets the clawback.
	const [clawback] = await store.insertCommissions(
		[
			{
				...base,
				id: randomUUID(),
				amount: -part,
				status: "approved",
				payableAt: at,
				heldReason: null,
				clawbackOf: commission.id,
				replaces: null,
			},
		],
		now,
	);
	if (clawback !== undefined) {
		into.clawbacks.push(clawback);
		events.push({ type: "commission.clawed_back", data: clawback });
	}
}
