import type { Kysely } from "kysely";
import { isRefkitError, RefkitError } from "../errors.js";
import type { Dialect } from "./dialect.js";
import type { Database } from "./schema.js";

/** What each aggregate's module of the store works with: the database, its dialect, and the store's errors. */
export interface StoreContext {
	readonly db: Kysely<Database>;
	/** What the queries of visitors' requests run on (see `OpenedDatabase.visitorDb`); `db` in a transaction. */
	readonly visitorDb: Kysely<Database>;
	readonly dialect: Dialect;
	/** Whether `db` is bound to a transaction already. */
	readonly inTransaction: boolean;
	/** Runs a query, turning the database's errors into {@link RefkitError}s: `what` says what failed. */
	run<T>(what: string, query: () => Promise<T>): Promise<T>;
	/**
	 * Runs `work` in one write transaction (see {@link Dialect.transaction}), on a context bound to it; in a
	 * transaction already, in that one. `work`'s own errors pass through unchanged; the database's become
	 * {@link RefkitError}s.
	 */
	transaction<T>(work: (tx: StoreContext) => Promise<T>): Promise<T>;
}

/** A database error as a {@link RefkitError} a caller can act on. */
function refkitError(dialect: Dialect, what: string, error: unknown): RefkitError {
	if (isRefkitError(error)) return error;
	if (dialect.isMissingTable(error)) {
		return new RefkitError(
			"NOT_MIGRATED",
			"refkit: the database has no refkit tables yet (or not the newest). Run `await refkit.migrate()` at start-up, or `npx refkit migrate`.",
			{ cause: error },
		);
	}
	const detail = error instanceof Error ? error.message : String(error);
	return new RefkitError("STORE_UNAVAILABLE", `refkit: could not ${what}: ${detail}`, { cause: error });
}

/** The context of a store on `db` (and `visitorDb`, for visitors' requests). */
export function storeContext(
	db: Kysely<Database>,
	visitorDb: Kysely<Database>,
	dialect: Dialect,
	inTransaction = false,
): StoreContext {
	const context: StoreContext = {
		db,
		visitorDb,
		dialect,
		inTransaction,
		async run(what, query) {
			try {
				return await query();
			} catch (error) {
				throw refkitError(dialect, what, error);
			}
		},
		async transaction(work) {
			if (inTransaction) return work(context);
			// Errors thrown by `work` (a reward's, say) reach the caller as they are; the database's become RefkitErrors.
			let workFailed = false;
			try {
				return await dialect.transaction(db, async (tx) => {
					try {
						return await work(storeContext(tx, tx, dialect, true));
					} catch (error) {
						workFailed = true;
						throw error;
					}
				});
			} catch (error) {
				if (workFailed) throw error;
				throw refkitError(dialect, "run a transaction", error);
			}
		},
	};
	return context;
}
