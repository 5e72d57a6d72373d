import type { Hit } from "../types.js";
import { assertTime, assertUserId, invalid } from "./arguments.js";
import type { CoreContext } from "./context.js";
import { isValidIdentifier } from "./identifiers.js";
import { uuid7 } from "./uuid7.js";

/** What `refkit.applyCode()` did. A code the user mistyped is an expected outcome, not an error. */
export type ApplyCodeResult =
	/** The code was recorded as a hit of source `code`, which `confirm()` can credit. */
	| { status: "applied"; hit: Hit }
	/** No enabled link has this identifier (or it is malformed). */
	| { status: "invalid-code" }
	/** The code is the user's own link. */
	| { status: "own-code" }
	/** The user signed up longer ago than `codeWindow`. */
	| { status: "too-late" }
	/** The user has applied a code before; only one is accepted. */
	| { status: "already-applied" };

/** Options of `refkit.applyCode()`. */
export interface ApplyCodeOptions {
	/** When the user signed up; a code is accepted up to `codeWindow` after it. */
	signedUpAt: Date;
	/** When the code is applied; default now. */
	at?: Date | undefined;
}

/**
 * Records the referral code a user typed (at signup, say) as a hit of source `code` for that user, unless it
 * is unknown, their own, too late after signing up, or a second code.
 */
export async function applyCode(
	ctx: CoreContext,
	userIdInput: unknown,
	code: unknown,
	options: ApplyCodeOptions,
): Promise<ApplyCodeResult> {
	const userId = assertUserId(userIdInput, "applyCode()");
	if (typeof options !== "object" || options === null || options.signedUpAt === undefined) {
		invalid(
			"applyCode() needs { signedUpAt }, the Date the user signed up: a code is accepted up to options.codeWindow after it.",
		);
	}
	const signedUpAt = assertTime(options.signedUpAt, "applyCode()'s signedUpAt", ctx.now);
	const at = assertTime(options.at, "applyCode()'s at", ctx.now);
	if (at.getTime() - signedUpAt.getTime() > ctx.options.codeWindow) return { status: "too-late" };

	const identifier = typeof code === "string" ? code.trim() : code;
	if (!isValidIdentifier(identifier)) return { status: "invalid-code" };
	const link = await ctx.store.findLink(identifier);
	if (link === null || link.disabled) return { status: "invalid-code" };
	if (link.userId === userId) return { status: "own-code" };
	if (await ctx.store.hasHitOfSource(userId, "code")) return { status: "already-applied" };

	const hit: Hit = {
		id: uuid7(at.getTime()),
		linkId: link.id,
		source: "code",
		authenticated: true,
		userId,
		visitorId: null,
		ip: null,
		userAgent: null,
		referer: null,
		next: null,
		confirmedAt: null,
		createdAt: at,
		updatedAt: at,
	};
	// Checked again under a per-user lock: of racing calls, one applies and the others find it applied.
	if (!(await ctx.store.insertCodeHit({ ...hit, userId }))) return { status: "already-applied" };
	ctx.events.emit("hit", hit);
	return { status: "applied", hit };
}
