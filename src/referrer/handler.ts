import type { MaybeUserId } from "../core/request.js";
import type { Html } from "../dashboard/html.js";
import { isRefkitError, RefkitError } from "../errors.js";
import type { DashboardRequest, DashboardResponse } from "../http/request.js";
import type { Refkit } from "../refkit.js";
import type { ReferrerPageSettings } from "./options.js";
import { messagePage, referrerPage } from "./page.js";
import { COPY_SCRIPT_HASH } from "./script.js";
import { PERIODS } from "./sections.js";
import type { ReferrerSummary } from "./types.js";

/**
 * The referrer's page, free of any framework: given a request for `path` and who is logged in, it answers
 * their page (HTML) or the same summary as JSON, and nothing about anyone else whatever the query says. It
 * never throws: bad input is a 400 or 404, not being logged in a 401 or a redirect to the login, a database
 * failure (or a `getUserId` that throws) a 503 reported to `onError`.
 */

/** What the page needs to know of a request beyond its method, URL and headers. */
export interface ReferrerPageContext {
	/** Who is logged in: the application's `getUserId`, bound to this request. */
	userId(): MaybeUserId | Promise<MaybeUserId>;
	/** Whether the request came over TLS (for the links' origin when no `baseUrl` is set). */
	secure: boolean;
}

const DEFAULT_DAYS = 30;

/** A `Host` header that is a plain host name or address with an optional port, nothing else. */
const PLAIN_HOST =
	/^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$/;

/** The origin of the request from its `Host` header and its scheme; `null` for a host that is not plain. */
export function requestOrigin(host: string | undefined, secure: boolean): string | null {
	if (host === undefined || host.length > 255 || !PLAIN_HOST.test(host)) return null;
	// What the URL parser refuses too (`999.1.1.1`, `foo.123`, a port above 65535) is no origin either.
	try {
		return new URL(`${secure ? "https" : "http"}://${host}`).origin;
	} catch {
		return null;
	}
}

/**
 * Whether the request prefers JSON to HTML, by the `Accept` header's quality values: `application/json` (or
 * `application/*`) weighed against `text/html` (or `text/*`), `*\/*` counting for both. A tie is HTML.
 */
export function prefersJson(accept: string | undefined): boolean {
	if (accept === undefined) return false;
	const quality = (type: string, subtype: string) => {
		let best = -1;
		let specificity = -1;
		for (const part of accept.split(",")) {
			const [range = "", ...params] = part.trim().toLowerCase().split(";");
			const [t, s] = range.trim().split("/");
			const level =
				t === type && s === subtype ? 2 : t === type && s === "*" ? 1 : t === "*" && s === "*" ? 0 : -1;
			if (level < 0 || level < specificity) continue;
			const q = params
				.map((param) => /^\s*q\s*=\s*([0-9.]+)\s*$/.exec(param)?.[1])
				.find((v) => v !== undefined);
			const value = q === undefined ? 1 : Number(q);
			if (level > specificity || value > best) best = Number.isFinite(value) ? value : 0;
			specificity = level;
		}
		return Math.max(best, 0);
	};
	return quality("application", "json") > quality("text", "html");
}

function headers(extra: Record<string, string>): Record<string, string> {
	return { "cache-control": "private, no-store", vary: "Accept, Cookie", ...extra };
}

function htmlHeaders(settings: ReferrerPageSettings): Record<string, string> {
	const styles = settings.stylesheet === null ? "'unsafe-inline'" : "'unsafe-inline' 'self'";
	const fonts = settings.stylesheet === null ? "" : " font-src 'self';";
	return headers({
		"content-type": "text/html; charset=utf-8",
		"content-security-policy": `default-src 'none'; script-src ${COPY_SCRIPT_HASH}; style-src ${styles};${fonts} img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
		"x-frame-options": "DENY",
		"referrer-policy": "same-origin",
		"x-content-type-options": "nosniff",
	});
}

/**
 * The handler of the referrer page for `settings`: `null` for a request that is not for `settings.path`
 * (exactly; a trailing slash too), else the answer. Adapters mount it (`mountReferrerPage` in
 * src/adapters/edge.ts).
 */
export function createReferrerPage(
	refkit: Refkit,
	settings: ReferrerPageSettings,
): (request: DashboardRequest, context: ReferrerPageContext) => Promise<DashboardResponse | null> {
	const { messages } = settings;
	const programs = refkit.options.programs.default !== null;
	const report = (error: unknown) => refkit.options.onError(error, { operation: "referrer" });

	return async (request, context) => {
		const q = request.url.indexOf("?");
		const pathname = q < 0 ? request.url : request.url.slice(0, q);
		if (pathname !== settings.path && pathname !== `${settings.path}/`) return null;
		const head = request.method === "HEAD";
		if (request.method !== "GET" && !head) {
			return { status: 405, headers: headers({ allow: "GET, HEAD" }), body: "" };
		}
		const json = prefersJson(request.header("accept"));

		/** The answer in the form asked for; a HEAD gets its headers alone. */
		const jsonAnswer = (status: number, value: unknown): DashboardResponse => ({
			status,
			headers: headers({
				"content-type": "application/json; charset=utf-8",
				"x-content-type-options": "nosniff",
			}),
			body: head ? "" : JSON.stringify(value),
		});
		const htmlAnswer = (
			status: number,
			page: () => Html | Promise<Html>,
		): Promise<DashboardResponse> | DashboardResponse =>
			head
				? { status, headers: htmlHeaders(settings), body: "" }
				: Promise.resolve(page()).then((html) => ({
						status,
						headers: htmlHeaders(settings),
						body: html.value,
					}));
		const failed = async (status: number, code: string, title: string, message: string) =>
			json
				? jsonAnswer(status, { error: { code, message } })
				: htmlAnswer(status, () => messagePage(settings, title, message, status === 400 || status === 404));
		const unavailable = () => failed(503, "UNAVAILABLE", messages.unavailableTitle, messages.unavailable);

		try {
			let userId: MaybeUserId;
			try {
				userId = await context.userId();
			} catch (error) {
				report(error);
				return await unavailable();
			}
			const shape = typeof userId;
			if (
				(shape === "number" && !Number.isFinite(userId)) ||
				(userId !== null && userId !== undefined && shape !== "string" && shape !== "number")
			) {
				// An object, a boolean, NaN: every request would share one made-up user's page. The application's
				// mistake is reported, and nobody's page is shown.
				report(
					new RefkitError(
						"INVALID_ARGUMENT",
						`refkit: the referrer page's getUserId must answer the user id as a string or a number, or null when nobody is logged in (got ${shape === "number" ? String(userId) : shape}).`,
					),
				);
				return await unavailable();
			}
			if (userId === null || userId === undefined || userId === "") {
				if (!json && settings.loginUrl !== null) {
					return {
						status: 303,
						headers: headers({ location: loginLocation(settings.loginUrl, request.url) }),
						body: "",
					};
				}
				return await failed(401, "UNAUTHENTICATED", messages.unauthenticatedTitle, messages.unauthenticated);
			}

			const query = new URLSearchParams(q < 0 ? "" : request.url.slice(q + 1));
			const dayValues = query.getAll("days");
			const days = dayValues.length === 0 ? DEFAULT_DAYS : periodOf(dayValues[0]);
			const linkValues = query.getAll("link");
			const repeated = dayValues.length > 1 ? "days" : linkValues.length > 1 ? "link" : null;
			if (repeated !== null) {
				return await failed(400, "INVALID_ARGUMENT", messages.badRequestTitle, messages.repeated(repeated));
			}
			if (days === null) {
				const allowed = PERIODS.map((n) => settings.formats.number(n)).join(", ");
				return await failed(400, "INVALID_ARGUMENT", messages.badRequestTitle, messages.badDays(allowed));
			}
			const link = linkValues[0] === undefined || linkValues[0] === "" ? undefined : linkValues[0];

			let summary: ReferrerSummary;
			try {
				summary = await summaryOf(refkit, settings, String(userId), {
					days,
					link,
					baseUrl: settings.baseUrl ?? requestOrigin(request.header("host"), context.secure) ?? undefined,
				});
			} catch (error) {
				if (
					isRefkitError(error) &&
					(error.code === "LINK_NOT_FOUND" || error.code === "INVALID_IDENTIFIER")
				) {
					return await failed(404, "LINK_NOT_FOUND", messages.notFoundTitle, messages.linkNotFound);
				}
				throw error;
			}
			if (json) return jsonAnswer(200, summary);
			return await htmlAnswer(200, () => referrerPage(settings, summary, programs));
		} catch (error) {
			report(error);
			return await unavailable();
		}
	};
}

/** The period `?days=` asks for, exactly as written (`30`, not `030` or `30.0`); `null` for any other. */
function periodOf(value: string | undefined): number | null {
	return PERIODS.find((days) => String(days) === value) ?? null;
}

/** The user's summary; a user without a link gets one first when `createLink` is on. */
async function summaryOf(
	refkit: Refkit,
	settings: ReferrerPageSettings,
	userId: string,
	input: { days: number; link: string | undefined; baseUrl: string | undefined },
): Promise<ReferrerSummary> {
	const ask = () =>
		refkit.referrerSummary(userId, {
			...input,
			displayName: settings.displayName ?? undefined,
			leaderboard: settings.leaderboard,
		});
	const summary = await ask();
	if (summary.links.length > 0 || !settings.createLink || input.link !== undefined) return summary;
	await refkit.linkFor(userId);
	return ask();
}

/** `loginUrl` with `next=` the page's path and query, before any fragment of `loginUrl`. */
function loginLocation(loginUrl: string, target: string): string {
	const hash = loginUrl.indexOf("#");
	const [base, fragment] = hash < 0 ? [loginUrl, ""] : [loginUrl.slice(0, hash), loginUrl.slice(hash)];
	return `${base}${base.includes("?") ? "&" : "?"}next=${encodeURIComponent(target)}${fragment}`;
}
