import { randomUUID } from "node:crypto";
import { RefkitError } from "../errors.js";
import { goalCommissions, reverseGoalCommissions } from "../programs/goals.js";
import { savePrograms } from "../programs/ledger.js";
import type { Commission } from "../programs/types.js";
import type { CandidateHit, HitStore } from "../store/store.js";
import type { Conversion, RewardTransaction } from "../types.js";
import { assertTime, assertUserId, invalid, isUuid } from "./arguments.js";
import type { CoreContext } from "./context.js";
import { erasedUserId } from "./privacy.js";
import { report } from "./report.js";

/** What `refkit.confirm()` is told: who reached which goal, and optionally its value and time. */
export interface ConfirmInput {
	/** The referred user, who reached the goal. */
	userId: string;
	/** The goal: 1 to 64 letters, digits, `_`, `-`, `.` or `:`, such as `signup` or `first_purchase`. */
	goal: string;
	/** An amount to keep with the conversion, such as an order total in cents. */
	value?: number | null | undefined;
	/** When the goal was reached; default now. Only hits from the attribution window before it count. */
	at?: Date | undefined;
}

/**
 * The application's reward, run in the conversion's own database transaction: whatever it writes through `tx`
 * commits with the conversion or not at all, and if it throws, the conversion is rolled back and the error
 * reaches `confirm()`'s caller. `tx` is a Kysely instance on refkit's database (see {@link RewardTransaction}); type
 * your own tables with `tx.withTables<MyTables>()` or write SQL with Kysely's `sql` tag. It must not call
 * refkit's methods.
 */
export type Reward = (tx: RewardTransaction, conversion: Conversion) => unknown;

/** What `refkit.confirm()` found. Every expected outcome is a value; only programmer errors and outages throw. */
export type ConfirmResult =
	/**
	 * A new conversion; `referrerUserId` is the owner of the credited link (`null` for a link of nobody's);
	 * `commissions`, what the goal's rule in the link's program earned (none without `programs`).
	 */
	| { status: "converted"; conversion: Conversion; referrerUserId: string | null; commissions: Commission[] }
	/**
	 * The user had already reached this goal (or an erased user of the same id had; `conversion` then shows
	 * the pseudonym): nothing changed, no reward ran.
	 */
	| { status: "already-converted"; conversion: Conversion }
	/** The user has no hit to credit. */
	| { status: "no-referral" }
	/** Every hit the user could be credited for is on their own link, or was made from a browser its owner uses. */
	| { status: "self-referral" }
	/** The user's hits are all older than the attribution window. */
	| { status: "outside-window" };

const GOAL = /^[A-Za-z0-9_.:-]{1,64}$/;
/** The hits looked at for one confirmation; a person follows a handful of links, not hundreds. */
const CANDIDATES = 50;

function checkInput(input: ConfirmInput, reward: unknown, now: () => Date) {
	if (typeof input !== "object" || input === null) invalid("confirm() needs { userId, goal }.");
	const userId = assertUserId(input.userId, "confirm()");
	if (typeof input.goal !== "string" || !GOAL.test(input.goal)) {
		invalid(
			`confirm() needs a goal of 1 to 64 letters, digits, "_", "-", "." or ":", such as "signup" (got ${JSON.stringify(input.goal)}).`,
		);
	}
	const value = input.value ?? null;
	if (value !== null && (typeof value !== "number" || !Number.isFinite(value))) {
		invalid(`confirm()'s value must be a finite number or null (got ${JSON.stringify(value)}).`);
	}
	if (reward !== undefined && typeof reward !== "function") {
		invalid("confirm()'s second argument, the reward, must be a function (tx, conversion) => ...");
	}
	return { userId, goal: input.goal, value, at: assertTime(input.at, "confirm()'s at", now) };
}

/**
 * Self-referral: the hit is on the user's own link, or its visitor id is one the link's owner has used (the
 * owner followed a link from the same browser while logged in, or claimed its hits).
 */
async function isSelfReferral(store: HitStore, hit: CandidateHit, userId: string): Promise<boolean> {
	if (hit.linkUserId === null) return false;
	if (hit.linkUserId === userId) return true;
	// The browser it came from is one the link's owner used (followed a link there, logged in or claimed).
	if (hit.browserId !== null && (await store.browserUsedBy(hit.browserId, hit.linkUserId))) return true;
	return hit.visitorId !== null && (await store.visitorUsedBy(hit.visitorId, hit.linkUserId));
}

/**
 * Confirms that `userId` reached `goal`: credits one hit (last or first touch within the attribution window),
 * stores the one conversion of (user, goal), marks the hit confirmed and runs `reward`, all in one
 * transaction. Exactly once, however many calls race: the unique (referred user, goal) constraint decides.
 */
export async function confirm(
	ctx: CoreContext,
	input: ConfirmInput,
	reward?: Reward,
): Promise<ConfirmResult> {
	const { userId, goal, value, at } = checkInput(input, reward, ctx.now);
	const { attribution, attributionWindow } = ctx.options;
	await savePrograms(ctx);
	const result = await ctx.store.transaction(async (store, tx): Promise<ConfirmResult> => {
		// An erased user's conversions stand under their pseudonym: an account with the same id reached the goal.
		// Under each secret still listed, so that rotating the secret does not forget who was erased.
		let existing = await store.findConversion(userId, goal);
		for (const secret of ctx.options.secrets) {
			existing ??= await store.findConversion(erasedUserId(secret, userId), goal);
		}
		if (existing !== null) return { status: "already-converted", conversion: existing };

		const from = new Date(at.getTime() - attributionWindow);
		const hits = await store.attributableHits(userId, { from, to: at }, attribution, CANDIDATES);
		if (hits.length === 0) {
			return (await store.hasHitsBefore(userId, from))
				? { status: "outside-window" }
				: { status: "no-referral" };
		}
		let credited: CandidateHit | undefined;
		for (const hit of hits) {
			if (!(await isSelfReferral(store, hit, userId))) {
				credited = hit;
				break;
			}
		}
		if (credited === undefined) return { status: "self-referral" };

		const conversion = await store.insertConversion({
			id: randomUUID(),
			goal,
			referredUserId: userId,
			referrerUserId: credited.linkUserId,
			hitId: credited.id,
			linkId: credited.linkId,
			value,
			createdAt: at,
		});
		if (conversion === null) {
			// Another confirm() committed the same (user, goal) while this one looked at the hits.
			const winner = await store.findConversion(userId, goal);
			if (winner === null) throw new Error("refkit: a conversion conflicted but cannot be read back.");
			return { status: "already-converted", conversion: winner };
		}
		await store.confirmHit(credited.id, at);
		const commissions = await goalCommissions(ctx, store, conversion);
		if (reward !== undefined) {
			const started = Date.now();
			await reward(tx, conversion);
			warnIfSlow(ctx, Date.now() - started, goal);
		}
		return { status: "converted", conversion, referrerUserId: conversion.referrerUserId, commissions };
	});
	if (result.status === "converted") ctx.events.emit("conversion", result.conversion);
	return result;
}

/** How long a reward may hold SQLite's write lock before `onError` hears of it, in milliseconds. */
export const SLOW_REWARD_MS = 1000;

/**
 * On SQLite the reward runs inside a write transaction, which holds the database's one write lock: every
 * other write of refkit (visitors' hits included) waits for it. A reward slower than {@link SLOW_REWARD_MS}
 * is reported, so that it can be moved to the outbox.
 */
function warnIfSlow(ctx: CoreContext, elapsed: number, goal: string): void {
	if (elapsed <= SLOW_REWARD_MS || ctx.store.dialect !== "sqlite") return;
	report(
		ctx,
		new RefkitError(
			"SLOW_REWARD",
			`refkit: the reward of a ${goal} conversion held SQLite's write lock for ${elapsed} ms, and every write waited meanwhile. Keep rewards to database writes; send emails and call APIs from deliverConversions() instead.`,
		),
		{ operation: "confirm" },
	);
}

/** What `refkit.reverseConversion()` did. */
export type ReverseResult =
	| { status: "reversed"; conversion: Conversion }
	/** It had been reversed before; the first reason and time are kept. */
	| { status: "already-reversed"; conversion: Conversion };

/** Marks a conversion reversed (a refund, fraud). The row stays; the reversal is delivered by the outbox. */
export async function reverseConversion(
	ctx: CoreContext,
	id: unknown,
	options: { reason: string; at?: Date | undefined },
): Promise<ReverseResult> {
	if (!isUuid(id)) {
		invalid(
			`reverseConversion() needs the conversion's id, a UUID (got ${JSON.stringify(String(id).slice(0, 60))}).`,
		);
	}
	if (typeof options !== "object" || options === null) invalid("reverseConversion() needs { reason }.");
	const { reason } = options;
	if (typeof reason !== "string" || reason.trim() === "" || reason.length > 1000) {
		invalid('reverseConversion() needs a reason of 1 to 1000 characters, such as "refund".');
	}
	const at = assertTime(options.at, "reverseConversion()'s at", ctx.now);
	const reversed = await ctx.store.transaction(async (store) => {
		const row = await store.reverseConversion(id, reason, at);
		// Its commissions go with it: voided where unpaid, clawed back where a payout claimed them.
		if (row !== null) await reverseGoalCommissions(ctx, store, row, reason, at);
		return row;
	});
	if (reversed !== null) {
		ctx.events.emit("reversal", reversed);
		return { status: "reversed", conversion: reversed };
	}
	const existing = await ctx.store.getConversion(id);
	if (existing === null) {
		throw new RefkitError("CONVERSION_NOT_FOUND", `refkit: no conversion has the id "${id}".`);
	}
	return { status: "already-reversed", conversion: existing };
}
