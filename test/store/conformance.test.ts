import { kyselyStore } from "../../src/store/kysely-store.js";
import { openDatabase } from "../../src/store/open.js";
import { DATABASES, freshDatabaseUrl } from "../setup/databases.js";
import { storeConformance } from "./conformance.js";
import { ledgerConformance } from "./ledger-conformance.js";

/** refkit's store, on each database it supports, held to the contract every store must keep. */
for (const kind of DATABASES) {
	const makeStore = async () =>
		kyselyStore(
			openDatabase(await freshDatabaseUrl(kind), (error) => {
				throw error;
			}),
		);
	storeConformance(kind, makeStore);
	ledgerConformance(kind, makeStore);
}
