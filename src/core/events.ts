import type { Conversion, Hit } from "../types.js";
import { invalid } from "./arguments.js";

/** What a `claim` event says: a user was given the anonymous hits of a visitor. */
export interface ClaimEvent {
	userId: string;
	visitorId: string;
	/** How many hits were claimed; always at least 1. */
	count: number;
}

/** The events of `refkit.on()` and what each listener receives. They are emitted after the data is committed. */
export interface RefkitEvents {
	/** A hit was recorded: a visitor followed a link, or a user applied a code. */
	hit: Hit;
	/** A logged-in visitor's earlier anonymous hits were given to them. */
	claim: ClaimEvent;
	/** `confirm()` recorded a conversion. */
	conversion: Conversion;
	/** `reverseConversion()` reversed a conversion. */
	reversal: Conversion;
}

/** The name of an event of `refkit.on()`: `hit`, `claim`, `conversion` or `reversal`. */
export type RefkitEventName = keyof RefkitEvents;
/** A listener of `refkit.on()`; it may return a promise, whose rejection is reported to `onError`. */
export type RefkitListener<E extends RefkitEventName> = (payload: RefkitEvents[E]) => void | Promise<void>;

/** The names `refkit.on()` accepts, for validation. */
export const EVENT_NAMES: readonly RefkitEventName[] = ["hit", "claim", "conversion", "reversal"];

/**
 * A typed emitter whose listeners can never break the operation that emits: a listener that throws or
 * rejects is reported through `onError`, and the others still run.
 */
export class Emitter {
	readonly #listeners = new Map<RefkitEventName, Set<RefkitListener<never>>>();
	readonly #onError: (error: unknown) => void;

	constructor(onError: (error: unknown) => void) {
		this.#onError = onError;
	}

	/**
	 * Adds a listener; returns the function that removes it. Throws `INVALID_ARGUMENT` for an unknown event or
	 * a listener that is not a function.
	 */
	on<E extends RefkitEventName>(event: E, listener: RefkitListener<E>): () => void {
		if (!EVENT_NAMES.includes(event))
			invalid(`on() knows the events ${EVENT_NAMES.join(", ")} (got ${JSON.stringify(event)}).`);
		if (typeof listener !== "function") invalid("on() needs a listener function.");
		const set = this.#listeners.get(event) ?? new Set();
		this.#listeners.set(event, set);
		const stored = listener as RefkitListener<never>;
		set.add(stored);
		return () => void set.delete(stored);
	}

	emit<E extends RefkitEventName>(event: E, payload: RefkitEvents[E]): void {
		const set = this.#listeners.get(event);
		if (set === undefined) return;
		for (const listener of set) {
			try {
				const result = (listener as RefkitListener<E>)(payload);
				if (result instanceof Promise) result.catch(this.#onError);
			} catch (error) {
				this.#onError(error);
			}
		}
	}
}
