import type { CoreContext } from "./context.js";
import { isValidIdentifier } from "./identifiers.js";
import { visitorLink } from "./link-lookup.js";
import { redirectTo } from "./outcomes.js";
import { report } from "./report.js";
import type { Outcome } from "./request.js";
import { MAX_LENGTH } from "./safe-redirect.js";
import { visitorDeadline } from "./visitor-wait.js";

function decodeKey(key: string): string {
	try {
		return decodeURIComponent(key.replace(/\+/g, " "));
	} catch {
		return key;
	}
}

/**
 * django-reflinks' ReferralLinkMiddleware: a GET to any URL with `?ref=<identifier>` of an enabled link
 * redirects to `/ref/<identifier>?next=<the same path and query without ref>`. Returns `null` to let the
 * request through (no parameter, a malformed or unknown identifier, a disabled link, a database error, or
 * no answer within the visitor's 1.5 s).
 */
export async function refParamRedirect(
	ctx: CoreContext,
	path: string,
	query: string,
): Promise<Outcome | null> {
	const { urlParam, mountPath } = ctx.options;
	if (!query.includes(urlParam)) return null;
	const identifier = new URLSearchParams(query).get(urlParam);
	if (!isValidIdentifier(identifier)) return null;
	const context = { operation: "ref-param", identifier } as const;
	try {
		const link = await visitorLink(ctx, identifier, visitorDeadline());
		if (link === null || link.disabled) return null;
	} catch (error) {
		report(ctx, error, context);
		return null;
	}
	// Keep the other parameters exactly as they were written.
	const rest = query
		.split("&")
		.filter((pair) => pair !== "" && decodeKey(pair.split("=", 1)[0] ?? "") !== urlParam)
		.join("&");
	const next = rest === "" ? path : `${path}?${rest}`;
	// A page address too long to come back to (the link would refuse it as `next`) is left out, so that the
	// Location stays bounded (about 6 KB at most, encoded): the visitor lands on the link's target instead.
	if (next.length > MAX_LENGTH) return redirectTo(`${mountPath}/${identifier}`);
	return redirectTo(`${mountPath}/${identifier}?next=${encodeURIComponent(next)}`);
}
