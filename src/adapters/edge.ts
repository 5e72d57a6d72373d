import type { MaybeUserId } from "../core/request.js";
import { createDashboard, type DashboardOptions, dashboardSettings } from "../dashboard/dashboard.js";
import { RefkitError } from "../errors.js";
import type { ConsentCheck, DashboardRequest, DashboardResponse, Visitor } from "../http/request.js";
import type { ResolvedOptions } from "../options.js";
import { createReferrerPage } from "../referrer/handler.js";
import { type ReferrerPageOptions, referrerPageSettings } from "../referrer/options.js";
import type { Refkit } from "../refkit.js";

/**
 * The part of every adapter that knows no framework: the prefilter, who the visitor is, and the dashboard's
 * mounting. An adapter translates its framework's request (src/http/node.ts or fetch.ts), asks this, calls
 * `refkit.handle`, and applies the outcome with its runtime's writer.
 */

/**
 * Whether refkit may have anything to do with a request, from what is cheap to read: a GET or HEAD under
 * `mountPath`, a query that mentions `urlParam`, or a `Cookie` header that mentions the visitor cookie.
 * When it says no, `refkit.handle` would let the request through untouched: adapters check it first, so
 * that the application's other requests cost refkit no promise, no header parsing and no database.
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

/** What every referral adapter's options say about the visitor, on the framework's request `R`. */
export interface VisitorOptions<R> {
	getUserId?: ((request: R) => MaybeUserId | Promise<MaybeUserId>) | undefined;
	consent?: ConsentCheck<R> | undefined;
}

/** The edge of a referral adapter, for the framework's request `R`. */
export interface ReferralEdge<R> {
	/** The prefilter ({@link mayConcern}) on this instance's options. */
	concerns(method: string | undefined, url: string, cookieHeader: string | null | undefined): boolean;
	/** Who the visitor of `request` is: `getUserId` and `consent`, asked only when core needs to know. */
	visitor(request: R): Visitor;
}

/** The edge of a referral adapter; `defaultUserId` serves when the options give no `getUserId`. */
export function referralEdge<R>(
	refkit: Refkit,
	options: VisitorOptions<R>,
	defaultUserId: (request: R) => MaybeUserId = () => null,
): ReferralEdge<R> {
	const getUserId = options.getUserId ?? defaultUserId;
	const { consent } = options;
	return {
		concerns: (method, url, cookieHeader) => mayConcern(refkit.options, method, url, cookieHeader),
		visitor: consent
			? (request) => ({ getUserId: () => getUserId(request), hasConsent: () => consent(request) })
			: (request) => ({ getUserId: () => getUserId(request) }),
	};
}

/**
 * The dashboard, mounted for the framework's request `R`: the options checked once, then for each request
 * its answer (`null` outside `options.path`), with `authorize` asked about the framework's own request.
 */
export function mountDashboard<R>(
	refkit: Refkit,
	options: DashboardOptions<R>,
): (request: R, edge: DashboardRequest) => Promise<DashboardResponse | null> {
	const handle = createDashboard(refkit, dashboardSettings(options));
	const { authorize } = options;
	return (request, edge) => handle(edge, async () => (authorize ? authorize(request) : false));
}

/**
 * The referrer's page, mounted for the framework's request `R`: the options checked once (`INVALID_OPTION`),
 * then for each request its answer (`null` for any other path), about the user `getUserId` names, or
 * `defaultUserId` when the options give none. `secure` says whether the request came over TLS.
 */
export function mountReferrerPage<R>(
	refkit: Refkit,
	options: ReferrerPageOptions<R>,
	defaultUserId?: (request: R) => MaybeUserId,
): (request: R, edge: DashboardRequest, secure: boolean) => Promise<DashboardResponse | null> {
	const handle = createReferrerPage(refkit, referrerPageSettings(options, refkit.options));
	const getUserId = options.getUserId ?? defaultUserId;
	if (getUserId === undefined) {
		throw new RefkitError(
			"INVALID_OPTION",
			"refkit: the referrer page needs getUserId: a function (request) => the logged-in user's id, or null.",
		);
	}
	return (request, edge, secure) => handle(edge, { userId: () => getUserId(request), secure });
}
