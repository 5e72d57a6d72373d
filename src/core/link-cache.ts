import type { ReferralLink } from "../types.js";

/**
 * How long a link looked up for a visitor is reused, in milliseconds. Disabling or enabling a link through this
 * refkit instance takes effect at once; through another process (the CLI, another server), within this time.
 */
export const LINK_CACHE_MS = 1000;

/** How many identifiers the cache holds; the oldest entry goes first. */
const LINK_CACHE_SIZE = 10_000;

/** A lookup, fresh until `until`, and its value once it has succeeded. */
interface Entry {
	link: Promise<ReferralLink | null>;
	until: number;
	settled?: { value: ReferralLink | null };
}

/**
 * The links of visitors' requests, each looked up at most once per {@link LINK_CACHE_MS}: a busy link costs one
 * query a second instead of one per follow. Concurrent lookups of one identifier share one query, and a
 * failed lookup is not kept. Unknown identifiers are cached too (as `null`), so that a flood of them costs
 * no more than a busy link.
 */
export class LinkCache {
	readonly #entries = new Map<string, Entry>();

	/**
	 * The cached link (or `null`) when its lookup has succeeded and is still fresh; `undefined` otherwise. It lets
	 * a follow of a busy link skip the wait for the database altogether.
	 */
	peek(identifier: string): ReferralLink | null | undefined {
		const entry = this.#entries.get(identifier);
		return entry !== undefined && entry.until > Date.now() ? entry.settled?.value : undefined;
	}

	/** The link with this identifier (or `null`), from the cache or from `load`. */
	find(identifier: string, load: () => Promise<ReferralLink | null>): Promise<ReferralLink | null> {
		const now = Date.now();
		const entry = this.#entries.get(identifier);
		if (entry !== undefined && entry.until > now) return entry.link;
		if (entry !== undefined) this.#entries.delete(identifier);
		const link = load();
		const added: Entry = { link, until: now + LINK_CACHE_MS };
		this.#entries.set(identifier, added);
		if (this.#entries.size > LINK_CACHE_SIZE)
			this.#entries.delete(this.#entries.keys().next().value as string);
		link.then(
			(value) => {
				added.settled = { value };
			},
			() => {
				if (this.#entries.get(identifier) === added) this.#entries.delete(identifier);
			},
		);
		return link;
	}

	/** Forgets one identifier (its link changed here), or every one. */
	forget(identifier?: string): void {
		if (identifier === undefined) this.#entries.clear();
		else this.#entries.delete(identifier);
	}
}
