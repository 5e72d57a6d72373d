import { claimOnRequest } from "./claim.js";
import type { CoreContext } from "./context.js";
import { readCookie } from "./cookies.js";
import { follow } from "./follow.js";
import { refParamRedirect } from "./ref-param.js";
import type { Outcome, RefkitRequest } from "./request.js";

/**
 * Decides what refkit does with one request: follow a referral link, redirect a `?ref=` URL to one, or
 * claim a logged-in visitor's anonymous hits. Every adapter calls this (through `refkit.handle`) and only
 * applies the outcome; the edge's prefilter (`mayConcern` in src/adapters/edge.ts) keeps the requests this
 * would let through untouched from reaching it. Never throws.
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
