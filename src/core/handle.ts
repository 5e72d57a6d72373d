import { readCookie } from "../http/cookies.js";
import type { Outcome, RefkitRequest } from "../http/request.js";
import type { ResolvedOptions } from "../options.js";
import { claimOnRequest } from "./claim.js";
import type { CoreContext } from "./context.js";
import { follow } from "./follow.js";
import { refParamRedirect } from "./ref-param.js";

/**
 * Whether refkit may have anything to do with a request, from what is cheap to read: a GET or HEAD under
 * `mountPath`, a query that mentions `urlParam`, or a `Cookie` header that mentions the visitor cookie.
 * When it says no, {@link handleRequest} would let the request through untouched: adapters check it first,
 * so that the application's other requests cost refkit no promise, no header parsing and no database.
 */
export function mayConcern(
	options: ResolvedOptions,
	method: string | undefined,
	url: string,
	cookieHeader: string | null | undefined,
): boolean {
	if (cookieHeader?.includes(options.cookieName)) return true;
	const q = url.indexOf("?");
	if (q >= 0 && url.includes(options.urlParam, q)) return true;
	return (method === "GET" || method === "HEAD") && url.startsWith(`${options.mountPath}/`);
}

/**
 * Decides what refkit does with one request: follow a referral link, redirect a `?ref=` URL to one, or
 * claim a logged-in visitor's anonymous hits. Every adapter calls this and only applies the outcome.
 * Never throws.
 */
export async function handleRequest(ctx: CoreContext, request: RefkitRequest): Promise<Outcome> {
	const { mountPath, cookieName } = ctx.options;
	const url = request.url;
	const q = url.indexOf("?");
	const path = q < 0 ? url : url.slice(0, q);
	const query = q < 0 ? "" : url.slice(q + 1);
	const method = request.method;
	const cookieValue = readCookie(request.header("cookie"), cookieName);

	if (
		(method === "GET" || method === "HEAD") &&
		path.startsWith(mountPath) &&
		path[mountPath.length] === "/"
	) {
		// "/ref/<identifier>" with an optional trailing slash, as django-reflinks routes it.
		const rest = path.slice(mountPath.length + 1).replace(/\/$/, "");
		if (rest !== "" && !rest.includes("/")) return follow(ctx, request, rest, query, cookieValue);
	}
	if (method === "GET" && query !== "") {
		const outcome = await refParamRedirect(ctx, path, query);
		if (outcome !== null) return outcome;
	}
	return claimOnRequest(ctx, request, cookieValue);
}
