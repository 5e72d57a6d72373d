import type { ResolvedOptions } from "../options.js";
import type { Outcome } from "./request.js";

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

/**
 * The outcome of a request whose handling threw: a bug, since database failures are handled where they
 * happen, and still never the visitor's problem. A visitor on a link goes on to `successUrl`; any other
 * request passes untouched.
 */
export function fallbackOutcome(options: ResolvedOptions, url: string): Outcome {
	return url.startsWith(`${options.mountPath}/`) ? redirectTo(options.successUrl) : PASS;
}
