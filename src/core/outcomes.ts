import type { Outcome } from "../http/request.js";

/** The outcomes that core's request handling returns most often. */

/** The outcome that lets the request through untouched. */
export const PASS: Outcome = Object.freeze({
	redirect: null,
	setCookies: Object.freeze([]) as unknown as string[],
});

/** A 302 to `location`, which the caller has already made safe. */
export function redirectTo(location: string, setCookies: string[] = []): Outcome {
	return { redirect: { status: 302, location }, setCookies };
}
