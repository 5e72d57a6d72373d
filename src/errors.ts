/**
 * Every code a {@link RefkitError} can carry. Each one names a situation a caller can act on; the table in
 * docs/errors.md says what to do about each.
 */
export type RefkitErrorCode =
	/** An option given to `createRefkit()` is missing or malformed. */
	| "INVALID_OPTION"
	/** An argument given to a method is malformed (an empty user id, a negative limit...). */
	| "INVALID_ARGUMENT"
	/** A link identifier does not match `[A-Za-z0-9_]{1,50}`. */
	| "INVALID_IDENTIFIER"
	/** A link with this identifier already exists. */
	| "IDENTIFIER_TAKEN"
	/** No link has this identifier. */
	| "LINK_NOT_FOUND"
	/** No conversion has this id. */
	| "CONVERSION_NOT_FOUND"
	/** No sale has this external id. */
	| "SALE_NOT_FOUND"
	/** No commission has this id. */
	| "COMMISSION_NOT_FOUND"
	/** No payout (or payout run) has this id. */
	| "PAYOUT_NOT_FOUND"
	/** A sale's currency is not its program's. */
	| "CURRENCY_MISMATCH"
	/** A refund would take back more than what is left of its sale. */
	| "REFUND_EXCEEDS_SALE"
	/** A ledger method was called, but `createRefkit()` was given no `programs`. */
	| "NO_PROGRAMS"
	/**
	 * The commission or payout is not in a state the operation applies to: releasing a commission that is not
	 * held, marking a failed payout paid...
	 */
	| "INVALID_STATE"
	/** The database driver for the configured database (better-sqlite3 or pg) is not installed. */
	| "MISSING_DRIVER"
	/** refkit's tables do not exist yet: run `refkit.migrate()` or `refkit migrate`. */
	| "NOT_MIGRATED"
	/** A migration failed; the cause holds the database's error. */
	| "MIGRATION_FAILED"
	/** The database could not be opened or reached, or it refused a query. */
	| "STORE_UNAVAILABLE"
	/**
	 * The database did not answer a visitor's request within 1.5 s, so the visitor went on without waiting
	 * (only ever reported to `onError`, never thrown). The work goes on, and a failure is reported again.
	 */
	| "STORE_TIMEOUT"
	/**
	 * A visitor's hit was not recorded because too many were already waiting for a database that is not
	 * keeping up (reported to `onError`; `counters().hitsDropped` counts them). Thrown by `recordSale()` when
	 * 10,000 sales already wait: nothing was recorded, and the call can be retried.
	 */
	| "QUEUE_FULL"
	/**
	 * On SQLite, a `confirm()` reward held the write lock for more than a second, while every other write
	 * waited (only ever reported to `onError`; the conversion stands).
	 */
	| "SLOW_REWARD";

/**
 * The one error class refkit throws. `code` is stable and meant for `switch`; `message` is meant for people.
 *
 * @example
 * try {
 *   await refkit.createLink({ identifier: "spring_sale" });
 * } catch (error) {
 *   if (isRefkitError(error, "IDENTIFIER_TAKEN")) return reply.status(409).send(error.message);
 *   throw error;
 * }
 */
export class RefkitError extends Error {
	readonly code: RefkitErrorCode;

	constructor(code: RefkitErrorCode, message: string, options?: { cause?: unknown }) {
		super(message, options);
		this.name = "RefkitError";
		this.code = code;
	}
}

/**
 * Tells whether `error` is a {@link RefkitError}, optionally with a given code.
 *
 * @example
 * if (isRefkitError(error, "LINK_NOT_FOUND")) res.status(404).end();
 */
export function isRefkitError(error: unknown, code?: RefkitErrorCode): error is RefkitError {
	// By its name and code rather than `instanceof`: a bundler (Next.js) may load refkit once per entry, and an
	// error from one copy must be recognised by another.
	if (!(error instanceof Error) || error.name !== "RefkitError") return false;
	const found = (error as { code?: unknown }).code;
	return typeof found === "string" && (code === undefined || found === code);
}
