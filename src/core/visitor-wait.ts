import { RefkitError } from "../errors.js";

/** How long a visitor's request waits for the database, and the wait itself. */

/**
 * How long a visitor's request (following a link, `?ref=`, a claim at login) waits for the database, in
 * milliseconds, its queries together. Past it the visitor goes on as when the database fails, and the
 * queries go on without them: a hit is still recorded when the database answers late.
 */
export const VISITOR_WAIT_MS = 1500;

/** When a visitor's request that starts now stops waiting for the database. */
export function visitorDeadline(): number {
	return Date.now() + VISITOR_WAIT_MS;
}

/**
 * Starts `work` (store calls) and waits for it until `deadline` (a `Date.now()` time) at most. Work that settles
 * in time gives its value or throws its error, for the caller to report. At the deadline this throws
 * `STORE_TIMEOUT` instead, for the caller to report, and the work goes on unawaited: if it succeeds, `late`
 * gets its value; if it fails, nothing more is said (the caller has reported the timeout: one report each).
 */
export function awaitUntil<T>(
	deadline: number,
	work: () => Promise<T>,
	late?: (value: T) => void,
): Promise<T> {
	return new Promise<T>((resolve, reject) => {
		let waiting = true;
		const timer = setTimeout(
			() => {
				waiting = false;
				reject(
					new RefkitError(
						"STORE_TIMEOUT",
						`refkit: the database did not answer within ${VISITOR_WAIT_MS} ms; the visitor went on without waiting.`,
					),
				);
			},
			Math.max(0, deadline - Date.now()),
		);
		work().then(
			(value) => {
				if (waiting) {
					clearTimeout(timer);
					resolve(value);
				} else {
					late?.(value);
				}
			},
			(error: unknown) => {
				if (waiting) {
					clearTimeout(timer);
					reject(error);
				}
			},
		);
	});
}
