import type { ResolvedOptions } from "../options.js";
import type { RefkitStore } from "../store/store.js";
import type { SkipReason } from "./bots.js";
import type { Emitter } from "./events.js";
import type { LinkCache } from "./link-cache.js";

/** What `refkit.counters()` reports, counted since the instance was created (per process, not stored). */
export interface RefkitCounters {
	/** Hits recorded by following links in this process. */
	hitsRecorded: number;
	/** Requests to enabled links that were redirected but not recorded, by reason. */
	hitsSkipped: Record<SkipReason, number>;
	/**
	 * Hits that were not recorded because too many were already waiting for a database that did not keep up
	 * (`QUEUE_FULL`): the visitor was redirected, the hit lost. Reported to `onError` once a second at most.
	 */
	hitsDropped: number;
	/**
	 * Errors refkit absorbed and reported to `onError` (the dashboard's are not counted): a database that
	 * failed or was too slow for a visitor's request, a broken pooled connection, a throwing listener,
	 * `getUserId` or consent check, a failed delivery. A count that climbs while `hitsRecorded` stalls says
	 * that visitors are being redirected without their hits being recorded.
	 */
	errors: number;
}

/** What core's functions share: the options, the store, the clock, the event emitter and the counters. */
export interface CoreContext {
	readonly options: ResolvedOptions;
	readonly store: RefkitStore;
	readonly events: Emitter;
	readonly counters: RefkitCounters;
	/** The links of visitors' requests; whatever changes a link forgets it here. */
	readonly links: LinkCache;
	now(): Date;
}
