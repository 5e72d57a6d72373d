/**
 * The first keys of the locks that make writers take turns where the database alone would not (PostgreSQL's
 * advisory locks; see `Dialect.lockName` and `Dialect.lockRange` in dialect.ts). Running code takes them from
 * here; a migration that names one keeps its own copy of the value, since a released migration never
 * changes, and test/store/locks.test.ts checks that the two agree.
 */

/**
 * One day's summaries: "refk" and the day's number (days since 1970-01-01). Summaries are made under the
 * exclusive lock; the triggers of migrations 0004 and 0005 take it shared before they forget a day, so
 * nothing written while a day is being summarised is left out of it.
 */
export const SUMMARY_LOCK = 0x7265666b;

/** Making a user's link (see `LinkStore.userLink`), with a hash of the user id. */
export const USER_LINK_LOCK = 0x72666c6b;

/** Applying a user's one code (see `HitStore.insertCodeHit`), with a hash of the user id. */
export const USER_CODE_LOCK = 0x72666364;

/**
 * A beneficiary's part of the ledger (see src/store/ledger.ts), with a hash of the user id: every transaction
 * that writes a beneficiary's commissions takes it first, all its names in one statement.
 */
export const LEDGER_LOCK = 0x72666c67;
