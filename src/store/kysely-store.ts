import type { Kysely } from "kysely";
import { isRefkitError } from "../errors.js";
import { billingStore } from "./billing.js";
import { type StoreContext, storeContext } from "./context.js";
import { conversionStore } from "./conversions.js";
import { deliveryStore } from "./deliveries.js";
import type { OpenedDatabase } from "./dialect.js";
import { dialectNamed } from "./dialects.js";
import { GroupCommit, MAX_QUEUED_HITS } from "./group-commit.js";
import { hitStore, insertHits } from "./hits.js";
import { ledgerStore } from "./ledger.js";
import { linkStore } from "./links.js";
import { migrateToLatest } from "./migrate.js";
import { payoutStore } from "./payouts.js";
import { privacyStore } from "./privacy.js";
import { referrerStore } from "./referrer.js";
import { saleStore } from "./sales.js";
import type { NewHit, RefkitStore, TransactionStore } from "./store.js";
import { summaryStore } from "./summaries.js";

/** The roles of the store bound to a transaction. */
function transactionStore(tx: StoreContext): TransactionStore {
	return {
		dialect: tx.dialect.name,
		...linkStore(tx),
		...hitStore(tx),
		...conversionStore(tx),
		...privacyStore(tx),
		...ledgerStore(tx),
		...saleStore(tx),
		...payoutStore(tx),
		...billingStore(tx),
	};
}

/**
 * The store on Kysely, for every database of src/store/dialects/: one module per role (links, hits,
 * conversions, deliveries, summaries, privacy), put together. `onHitsFailing` is told when visitors' hits
 * start failing to be written for want of the database (they wait and are written again: see
 * {@link GroupCommit}), once until a write succeeds again.
 */
export function kyselyStore(opened: OpenedDatabase, onHitsFailing?: (error: unknown) => void): RefkitStore {
	const dialect = dialectNamed(opened.dialect);
	const ctx = storeContext(opened.db, opened.visitorDb ?? opened.db, dialect);
	const close = opened.close ?? (() => opened.db.destroy());
	// Visitors' hits, written a batch per statement. 500 rows of 13 columns stay far below both databases'
	// limits on bound parameters.
	const hits = new GroupCommit<NewHit>((batch) => insertHits(ctx, batch), {
		maxBatch: 500,
		maxQueued: MAX_QUEUED_HITS,
		// insertHits wraps the database's error in a RefkitError: judge the database's own. Only an error
		// saying the database is away is waited out; any other is one hit's, found by writing one by one.
		isItemError: (error) => !dialect.isUnavailable(isRefkitError(error) ? error.cause : error),
		onFailing: onHitsFailing,
	});
	return {
		dialect: dialect.name,
		...linkStore(ctx),
		...hitStore(ctx, (hit, deferred) => hits.add(hit, deferred)),
		...conversionStore(ctx),
		...deliveryStore(ctx),
		...summaryStore(ctx),
		...privacyStore(ctx),
		...ledgerStore(ctx),
		...saleStore(ctx),
		...payoutStore(ctx),
		...billingStore(ctx),
		...referrerStore(ctx),

		migrate: () =>
			ctx.run("migrate the database", () => migrateToLatest(opened.db as Kysely<unknown>, dialect)),

		transaction: (work) => ctx.transaction((tx) => work(transactionStore(tx), tx.db)),

		async close() {
			await hits.settle();
			if (opened.owned) await close();
		},
	};
}
