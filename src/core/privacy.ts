import { createHmac } from "node:crypto";
import type { EraseUserResult, UserExport } from "../types.js";
import { assertUserId, invalid } from "./arguments.js";
import type { CoreContext } from "./context.js";
import { generateIdentifier } from "./identifiers.js";

/**
 * Retention and the rights of the people refkit stores data about: pruning old hits, exporting everything
 * about a user, and erasing it.
 */

/**
 * What `refkit.prune()` is told.
 *
 * @example
 * const input: PruneInput = { olderThan: 180 * 24 * 60 * 60 * 1000, dryRun: true };
 */
export interface PruneInput {
	/** Hits created more than this many milliseconds ago may go: a whole number above 0. */
	olderThan: number;
	/** Count the hits that would be deleted, and delete nothing. Default `false`. */
	dryRun?: boolean | undefined;
	/** How many hits each DELETE removes, 1 to 100 000; default 1000. Smaller batches hold locks more briefly. */
	batchSize?: number | undefined;
	/**
	 * Called after each batch with the number of hits deleted so far (not in a dry run). If it throws,
	 * pruning stops there and the error is thrown; the batches already deleted stay deleted.
	 */
	onProgress?: ((deletedSoFar: number) => void) | undefined;
}

/**
 * What `refkit.prune()` did.
 *
 * @example
 * const { deleted, cutoff } = await refkit.prune({ olderThan: 90 * 86_400_000 });
 * console.log(`deleted ${deleted} hits made before ${cutoff.toISOString()}`);
 */
export interface PruneResult {
	/** Hits deleted, or in a dry run the hits that would have been. */
	deleted: number;
	/** Whether this was a dry run, which deleted nothing. */
	dryRun: boolean;
	/** Hits created before this time were considered: now − `olderThan`. */
	cutoff: Date;
}

/** Hits each DELETE of `prune()` removes unless told otherwise. */
export const DEFAULT_PRUNE_BATCH_SIZE = 1000;
/** The largest batch `prune()` accepts. */
export const MAX_PRUNE_BATCH_SIZE = 100_000;
/** What every pseudonym of an erased user starts with. */
export const ERASED_PREFIX = "erased:";

const PSEUDONYM_CONTEXT = "refkit.erased-user.v1:";

/**
 * The pseudonym that replaces an erased user's id as the referred user of their conversions:
 * `erased:` and the first 32 hex digits of HMAC-SHA256(secret, context + user id). The same user id always
 * gives the same pseudonym under the same secret, so the unique (referred user, goal) still holds and a new
 * account with that id is still `already-converted`; without the secret it cannot be traced back to the id.
 */
export function erasedUserId(secret: string, userId: string): string {
	const digest = createHmac("sha256", secret)
		.update(PSEUDONYM_CONTEXT + userId)
		.digest("hex");
	return `${ERASED_PREFIX}${digest.slice(0, 32)}`;
}

function checkPruneInput(input: unknown): Required<Omit<PruneInput, "onProgress">> & PruneInput {
	if (typeof input !== "object" || input === null) {
		invalid("prune() needs { olderThan } in milliseconds, such as { olderThan: 90 * 24 * 60 * 60 * 1000 }.");
	}
	const { olderThan, dryRun = false, batchSize = DEFAULT_PRUNE_BATCH_SIZE, onProgress } = input as PruneInput;
	if (typeof olderThan !== "number" || !Number.isSafeInteger(olderThan) || olderThan <= 0) {
		invalid(
			`prune()'s olderThan must be a whole number of milliseconds above 0, such as 90 * 24 * 60 * 60 * 1000 (got ${JSON.stringify(olderThan)}).`,
		);
	}
	if (typeof dryRun !== "boolean")
		invalid(`prune()'s dryRun must be true or false (got ${JSON.stringify(dryRun)}).`);
	if (
		typeof batchSize !== "number" ||
		!Number.isInteger(batchSize) ||
		batchSize < 1 ||
		batchSize > MAX_PRUNE_BATCH_SIZE
	) {
		invalid(
			`prune()'s batchSize must be a whole number from 1 to ${MAX_PRUNE_BATCH_SIZE} (got ${JSON.stringify(batchSize)}).`,
		);
	}
	if (onProgress !== undefined && typeof onProgress !== "function")
		invalid("prune()'s onProgress must be a function (deletedSoFar) => void.");
	return { olderThan, dryRun, batchSize, onProgress };
}

/**
 * Deletes the hits created more than `olderThan` milliseconds ago that were never confirmed and that no
 * conversion credits, `batchSize` at a time, each batch its own short statement. Conversions are never
 * deleted. A dry run counts them instead.
 */
export async function prune(ctx: CoreContext, input: PruneInput): Promise<PruneResult> {
	const { olderThan, dryRun, batchSize, onProgress } = checkPruneInput(input);
	const cutoff = new Date(ctx.now().getTime() - olderThan);
	if (Number.isNaN(cutoff.getTime())) {
		invalid(`prune()'s olderThan reaches before the earliest time a Date can hold (got ${olderThan}).`);
	}
	if (dryRun) return { deleted: await ctx.store.countPrunableHits(cutoff), dryRun, cutoff };
	let deleted = 0;
	for (;;) {
		const batch = await ctx.store.pruneHits(cutoff, batchSize);
		deleted += batch;
		if (batch > 0) onProgress?.(deleted);
		if (batch < batchSize) return { deleted, dryRun, cutoff };
	}
}

/** Everything refkit holds about `userId`, oldest first in each list. */
export async function exportUser(ctx: CoreContext, userId: unknown): Promise<UserExport> {
	const id = assertUserId(userId, "exportUser()");
	const exportedAt = ctx.now();
	const person = await ctx.store.readPersonData(id);
	// The ledger's rows about them, read a page at a time (newest first), then oldest first like the rest.
	const all = async <T>(page: (offset: number) => Promise<T[]>): Promise<T[]> => {
		const rows: T[] = [];
		for (let offset = 0; ; offset += 1000) {
			const batch = await page(offset);
			rows.push(...batch);
			if (batch.length < 1000) return rows.reverse();
		}
	};
	const commissions = await all((offset) =>
		ctx.store.listCommissions({ userId: id, limit: 1000, offset }, exportedAt),
	);
	const bought = await all((offset) => ctx.store.listSales({ userId: id, limit: 1000, offset }));
	const credited = await all((offset) => ctx.store.listSales({ referrerUserId: id, limit: 1000, offset }));
	const payouts = await all((offset) => ctx.store.listPayouts({ userId: id, limit: 1000, offset }));
	const sales = [...bought, ...credited].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
	return { userId: id, exportedAt, ...person, commissions, sales, payouts };
}

/**
 * Erases `userId` in one transaction: their hits (own, and the anonymous ones of their visitor ids) are
 * deleted, or anonymised where a conversion credits them; their links are detached, renamed to a generated
 * identifier (a chosen one may name them) and disabled; their conversions are kept with the referred user
 * replaced by {@link erasedUserId}, the referrer by `null`, a reversal's reason by `erased` and the last
 * delivery error removed.
 */
export async function eraseUser(ctx: CoreContext, userId: unknown): Promise<EraseUserResult> {
	const id = assertUserId(userId, "eraseUser()");
	const pseudonym = erasedUserId(ctx.options.secret, id);
	const now = ctx.now();
	const { result, formerIdentifiers } = await ctx.store.transaction(async (store) => {
		const hits = await store.eraseHitsOf(id, now);
		const formerIdentifiers = await store.detachLinksOf(id, now, generateIdentifier);
		const conversionsAnonymised = await store.pseudonymiseConversionsOf(id, pseudonym, now);
		return {
			formerIdentifiers,
			result: {
				hitsDeleted: hits.deleted,
				hitsAnonymised: hits.anonymised,
				linksDetached: formerIdentifiers.length,
				conversionsAnonymised,
			},
		};
	});
	// Their former identifiers are unknown now: a visitor's request must not find them in the link cache.
	for (const identifier of formerIdentifiers) ctx.links.forget(identifier);
	return result;
}
