import type { ReferralLink } from "../types.js";

/**
 * How long a link looked up for a visitor is reused, in milliseconds. Disabling or enabling a link through this
 * refkit instance takes effect at once; through another process (the CLI, another server), within this time.
 */
export const LINK_CACHE_MS = 1000;

/** How many identifiers the cache holds; the oldest entry goes first. */
const LINK_CACHE_SIZE = 10_000;

/** An identifier's last answer and its freshness, and the lookup under way, if any. */
interface Entry {
	/** The lookup under way (or the last one, once settled). */
	loading: Promise<ReferralLink | null>;
	/** Whether `loading` is still under way. */
	pending: boolean;
	/** Until when (a `Date.now()` time) the last answer is fresh. */
	until: number;
	/** The last answer the database gave, however old. */
	known?: { value: ReferralLink | null };
}

/**
 * The links of visitors' requests, each looked up at most once per {@link LINK_CACHE_MS}: a busy link costs one
 * query a second instead of one per follow. Concurrent lookups of one identifier share one query. Unknown
 * identifiers are cached too (as `null`), so that a flood of them costs no more than a busy link.
 *
 * The last answer is kept after it is no longer fresh (until the identifier is forgotten or pushed out by
 * newer ones): while the database fails or hangs, a link this process has already seen is still known (see
 * `visitorLink`), so its followers' hits are recorded once the database is back.
 */
export class LinkCache {
	readonly #entries = new Map<string, Entry>();

	/**
	 * The cached link (or `null`) when its lookup has succeeded and is still fresh; `undefined` otherwise. It lets
	 * a follow of a busy link skip the wait for the database altogether.
	 */
	peek(identifier: string): ReferralLink | null | undefined {
		const entry = this.#entries.get(identifier);
		return entry !== undefined && entry.until > Date.now() ? entry.known?.value : undefined;
	}

	/** The last answer the database gave for this identifier, fresh or not; `undefined` if it never answered. */
	known(identifier: string): { value: ReferralLink | null } | undefined {
		return this.#entries.get(identifier)?.known;
	}

	/**
	 * The link with this identifier (or `null`): the fresh answer, else the lookup under way, else a new lookup
	 * by `load`. A failed lookup keeps the last answer (and is tried again by the next call).
	 */
	find(identifier: string, load: () => Promise<ReferralLink | null>): Promise<ReferralLink | null> {
		const now = Date.now();
		const entry = this.#entries.get(identifier);
		if (entry !== undefined && (entry.pending || entry.until > now)) return entry.loading;
		const loading = load();
		const current: Entry = { loading, pending: true, until: 0, known: entry?.known };
		// Most recently looked up last: the oldest entry goes first when the cache is full.
		this.#entries.delete(identifier);
		this.#entries.set(identifier, current);
		if (this.#entries.size > LINK_CACHE_SIZE)
			this.#entries.delete(this.#entries.keys().next().value as string);
		loading.then(
			(value) => {
				current.pending = false;
				current.known = { value };
				current.until = now + LINK_CACHE_MS;
			},
			() => {
				current.pending = false;
				if (current.known === undefined && this.#entries.get(identifier) === current) {
					this.#entries.delete(identifier);
				}
			},
		);
		return loading;
	}

	/** Forgets one identifier (its link changed here), or every one. */
	forget(identifier?: string): void {
		if (identifier === undefined) this.#entries.clear();
		else this.#entries.delete(identifier);
	}
}
