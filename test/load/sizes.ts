/**
 * The sizes of the load tests. `npm test` runs the normal variants, small enough for every run; `npm run
 * test:load` sets `REFKIT_LOAD=long` and runs the numbers: 20,000 follows at concurrency 200.
 */

const mode = process.env.REFKIT_LOAD ?? "normal";
if (mode !== "normal" && mode !== "long") {
	throw new Error(`REFKIT_LOAD may be "normal" or "long", not ${JSON.stringify(mode)}`);
}

/** Whether this run is the long one (`REFKIT_LOAD=long`). */
export const LONG = mode === "long";

/** How many follows each load test makes. */
export const FOLLOWS = LONG ? 20_000 : 2_000;

/** How many requests are in flight at once. */
export const CONCURRENCY = LONG ? 200 : 50;

/** Each test's time limit. */
export const TIMEOUT = LONG ? 15 * 60_000 : 120_000;

/** A line for the run's output: what a test measured. */
export function report(line: string): void {
	console.log(`[load${LONG ? ", long" : ""}] ${line}`);
}

/** Requests per second, rounded. */
export function perSecond(count: number, elapsedMs: number): number {
	return Math.round((count * 1000) / Math.max(elapsedMs, 1));
}
