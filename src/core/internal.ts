import { RefkitError } from "../errors.js";
import type { CoreContext } from "./context.js";

/**
 * The core behind a `Refkit`, for refkit's own entry points that are not methods of it (`refkit/stripe`): a
 * symbol, so that it is neither enumerable by accident nor part of the public type. A registered one
 * (`Symbol.for`): a bundler (Next.js) may load refkit once per entry, and a refkit made by one copy must be
 * recognised by another.
 */
export const CORE: unique symbol = Symbol.for("refkit.core");

/** The core of a refkit made by `createRefkit()`; `INVALID_ARGUMENT` for anything else. */
export function coreOf(refkit: unknown, caller: string): CoreContext {
	const core =
		typeof refkit === "object" && refkit !== null ? (refkit as { [CORE]?: CoreContext })[CORE] : undefined;
	if (core === undefined) {
		throw new RefkitError("INVALID_ARGUMENT", `refkit: ${caller} needs the refkit that createRefkit() made.`);
	}
	return core;
}
