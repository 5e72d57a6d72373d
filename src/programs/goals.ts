import type { CoreContext } from "../core/context.js";
import type { NewEvent } from "../store/ledger-roles.js";
import type { TransactionStore } from "../store/store.js";
import type { Conversion } from "../types.js";
import { type Earned, programNamed, type TakenBack, takeBack, writeCommissions } from "./ledger.js";
import type { Commission } from "./types.js";

/**
 * The ledger's side of conversions: a goal rule's fixed rewards when `confirm()` records a conversion, and
 * taking them back when the conversion is reversed. Both run in the conversion's own transaction.
 */

/** Writes the commissions a new conversion earned under its link's program (none without programs). */
export async function goalCommissions(
	ctx: CoreContext,
	store: TransactionStore,
	conversion: Conversion,
): Promise<Commission[]> {
	if (ctx.options.programs.default === null || conversion.referrerUserId === null) return [];
	const program = programNamed(ctx, await store.linkProgramOf(conversion.linkId));
	const rule = program.rules.find((r) => r.on === "goal" && r.goal === conversion.goal);
	if (rule === undefined || rule.on !== "goal") return [];
	const referrerUserId = conversion.referrerUserId;
	const referredUserId = conversion.referredUserId;
	const common = {
		program,
		rule: rule.name,
		sourceType: "conversion" as const,
		sourceId: conversion.id,
		referralId: conversion.id,
		referredUserId,
		referrerUserId,
		hitId: conversion.hitId,
	};
	const terms = { on: "goal", goal: rule.goal, referrer: rule.referrer ?? 0, referred: rule.referred ?? 0 };
	const earned: Earned[] = [];
	if (rule.referrer)
		earned.push({ ...common, terms, userId: referrerUserId, role: "referrer", amount: rule.referrer });
	if (rule.referred)
		earned.push({ ...common, terms, userId: referredUserId, role: "referred", amount: rule.referred });
	if (earned.length === 0) return [];
	await store.lockBeneficiaries(earned.map((e) => e.userId));
	const events: NewEvent[] = [];
	const commissions = await writeCommissions(ctx, store, earned, conversion.createdAt, events);
	await store.insertEvents(events, ctx.now());
	return commissions;
}

/** Takes back the whole of a reversed conversion's commissions: voided where unpaid, clawed back where paid. */
export async function reverseGoalCommissions(
	ctx: CoreContext,
	store: TransactionStore,
	conversion: Conversion,
	reason: string,
	at: Date,
): Promise<TakenBack> {
	const taken: TakenBack = { voided: [], replacements: [], clawbacks: [] };
	if (ctx.options.programs.default === null) return taken;
	const peek = await store.liveCommissionsOf(conversion.id);
	if (peek.length === 0) return taken;
	await store.lockBeneficiaries(peek.map((c) => c.userId));
	// Read again under the locks: a payout run may have claimed one meanwhile.
	const live = await store.liveCommissionsOf(conversion.id);
	const events: NewEvent[] = [];
	for (const commission of live) {
		await takeBack(store, commission, commission.amount, `reversed: ${reason}`, at, taken, events, ctx.now());
	}
	await store.insertEvents(events, ctx.now());
	return taken;
}
