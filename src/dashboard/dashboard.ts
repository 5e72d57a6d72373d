import { isValidIdentifier } from "../core/identifiers.js";
import { safeRedirectPath } from "../core/safe-redirect.js";
import { isRefkitError, RefkitError } from "../errors.js";
import { readCookie, serializeCookie } from "../http/cookies.js";
import type { Refkit } from "../refkit.js";
import { CSRF_COOKIE, csrfToken, isCsrfSecret, newCsrfSecret, verifyCsrf } from "./csrf.js";
import { CONVERSION_COLUMNS, csvLines, HIT_COLUMNS } from "./csv.js";
import type { Html } from "./html.js";
import { layout, type Section } from "./layout.js";
import {
	conversionsPage,
	forbiddenPage,
	hitsPage,
	linkPage,
	linksPage,
	messagePage,
	overviewPage,
	type PageContext,
} from "./pages.js";

/** A request to the dashboard, as an adapter reads it from its framework. */
export interface DashboardRequest {
	method: string;
	/** The path and query string, as received (`/admin/refkit/hits?link=abc`). */
	url: string;
	/** Reads one header by its lower-case name. */
	header(name: string): string | undefined;
	/** The `application/x-www-form-urlencoded` body of a POST. */
	form(): Promise<URLSearchParams>;
}

/** What the dashboard answers: a body of HTML, or CSV lines produced as they are read from the database. */
export interface DashboardResponse {
	status: number;
	headers: Record<string, string | string[]>;
	body: string | AsyncIterable<string>;
}

/** Options every adapter's dashboard takes. */
export interface DashboardOptions<Request> {
	/** Where the dashboard lives, such as `/admin/refkit`. */
	path: string;
	/**
	 * Whether this request may see and change referral data: typically, whether the logged-in user is an
	 * admin. Without it every request is refused with 403: the dashboard denies by default.
	 */
	authorize?: ((request: Request) => boolean | Promise<boolean>) | undefined;
	/**
	 * Your application's login page, a same-site path such as `/login`: the 403 page links to it, so that
	 * someone refused can log in as an administrator. Without it, the 403 page links to the site's home.
	 */
	loginUrl?: string | undefined;
}

/** The dashboard's options, checked. */
export interface DashboardSettings {
	path: string;
	loginUrl: string | null;
}

const PAGE_SIZE = 50;
const DONE: Record<string, string> = {
	created: "The link was created.",
	disabled: "The link was disabled: following it now records nothing.",
	enabled: "The link was enabled.",
	reversed: "The conversion was reversed.",
};

/** The dashboard's validated options; throws `INVALID_OPTION`. */
export function dashboardSettings(
	options: { path?: unknown; authorize?: unknown; loginUrl?: unknown } | undefined,
): DashboardSettings {
	if (typeof options !== "object" || options === null) {
		throw new RefkitError(
			"INVALID_OPTION",
			'refkit: the dashboard needs options, e.g. { path: "/admin/refkit", authorize }.',
		);
	}
	const path = typeof options.path === "string" ? options.path.replace(/\/+$/, "") : "";
	if (!/^(\/[A-Za-z0-9._~-]+)+$/.test(path)) {
		throw new RefkitError(
			"INVALID_OPTION",
			`refkit: the dashboard's path must be a path such as "/admin/refkit" (got ${JSON.stringify(options.path)}).`,
		);
	}
	if (options.authorize !== undefined && typeof options.authorize !== "function") {
		throw new RefkitError(
			"INVALID_OPTION",
			"refkit: the dashboard's authorize must be a function (request) => boolean.",
		);
	}
	let loginUrl: string | null = null;
	if (options.loginUrl !== undefined) {
		loginUrl = typeof options.loginUrl === "string" ? safeRedirectPath(options.loginUrl) : null;
		if (loginUrl === null) {
			throw new RefkitError(
				"INVALID_OPTION",
				`refkit: the dashboard's loginUrl must be a same-site path such as "/login" (got ${JSON.stringify(options.loginUrl)}).`,
			);
		}
	}
	return { path, loginUrl };
}

class BadInput extends Error {}

function htmlResponse(
	status: number,
	body: Html,
	extra: Record<string, string | string[]> = {},
): DashboardResponse {
	return {
		status,
		headers: {
			"content-type": "text/html; charset=utf-8",
			"cache-control": "no-store",
			"x-frame-options": "DENY",
			"content-security-policy":
				"default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
			"referrer-policy": "same-origin",
			"x-content-type-options": "nosniff",
			...extra,
		},
		body: body.value,
	};
}

function redirect(location: string): DashboardResponse {
	return { status: 303, headers: { location, "cache-control": "no-store" }, body: "" };
}

function pageNumber(value: string | null): number {
	if (value === null || value === "") return 1;
	const page = Number(value);
	if (!Number.isInteger(page) || page < 1 || page > 10_000)
		throw new BadInput("The page number must be from 1 to 10000.");
	return page;
}

function days(value: string | null): number {
	if (value === null || value === "") return 30;
	if (value === "30" || value === "90") return Number(value);
	throw new BadInput("The period must be 30 or 90 days.");
}

/** `YYYY-MM-DD` as the start of that day in UTC; `plusDay` gives the start of the next day. */
function dayStart(value: string, name: string, plusDay = false): Date | undefined {
	if (value === "") return undefined;
	const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
	const date = match
		? new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]) + (plusDay ? 1 : 0)))
		: null;
	if (date === null || Number.isNaN(date.getTime()))
		throw new BadInput(`"${name}" must be a date such as 2026-11-23.`);
	return date;
}

function text(params: URLSearchParams, name: string, max = 200): string {
	return (params.get(name) ?? "").trim().slice(0, max);
}

/** A path segment decoded, or `null` when its percent-encoding is malformed. */
function segment(value: string): string | null {
	try {
		return decodeURIComponent(value);
	} catch {
		return null;
	}
}

function identifierFilter(value: string): string | undefined {
	if (value === "") return undefined;
	if (!isValidIdentifier(value))
		throw new BadInput("A link identifier is 1 to 50 letters, digits or underscores.");
	return value;
}

/** A same-dashboard path to go back to after a form, from the form's `back` field. */
function backTo(base: string, value: string | null, fallback: string): string {
	const path =
		value !== null && /^\/[A-Za-z0-9_\-/?=&%.+]*$/.test(value) && !value.startsWith("//") ? value : fallback;
	return `${base}${path}`;
}

function withDone(location: string, done: string): string {
	return `${location}${location.includes("?") ? "&" : "?"}done=${done}`;
}

function csvResponse(name: string, lines: AsyncIterable<string>): DashboardResponse {
	const day = new Date().toISOString().slice(0, 10);
	return {
		status: 200,
		headers: {
			"content-type": "text/csv; charset=utf-8",
			"content-disposition": `attachment; filename="refkit-${name}-${day}.csv"`,
			"cache-control": "no-store",
			"x-content-type-options": "nosniff",
		},
		body: lines,
	};
}

/**
 * The dashboard, free of any framework: given a request under `path` (and whether `authorize` let it
 * through), it answers a page, a CSV stream or a redirect; `null` for a request outside `path`. Adapters
 * wrap it. It never throws: bad input is a 400 page, a database failure a 503 page reported to `onError`.
 */
export function createDashboard(
	refkit: Refkit,
	settings: DashboardSettings,
): (request: DashboardRequest, authorized: () => Promise<boolean>) => Promise<DashboardResponse | null> {
	const base = settings.path;
	const secret = refkit.options.secret;
	const secure = refkit.options.cookie.secure;

	return async (request, authorized) => {
		const q = request.url.indexOf("?");
		const pathname = q < 0 ? request.url : request.url.slice(0, q);
		if (pathname !== base && !pathname.startsWith(`${base}/`)) return null;
		const params = new URLSearchParams(q < 0 ? "" : request.url.slice(q + 1));
		const route = pathname.slice(base.length).replace(/\/+$/, "") || "/";

		let csrfSecret = readCookie(request.header("cookie"), CSRF_COOKIE);
		const setCookie: string[] = [];
		if (!isCsrfSecret(csrfSecret)) {
			csrfSecret = newCsrfSecret();
			setCookie.push(
				serializeCookie(CSRF_COOKIE, csrfSecret, {
					httpOnly: true,
					sameSite: "strict",
					secure,
					path: base,
					maxAge: 60 * 60 * 12,
					domain: undefined,
				}),
			);
		}
		const page: PageContext = { base, csrf: csrfToken(csrfSecret, secret) };
		const show = (status: number, title: string, section: Section | null, body: Html) =>
			htmlResponse(
				status,
				layout({ base, title, section, body }),
				setCookie.length ? { "set-cookie": setCookie } : {},
			);

		let allowed = false;
		try {
			allowed = (await authorized()) === true;
		} catch (error) {
			refkit.options.onError(error, { operation: "dashboard" });
		}
		if (!allowed) {
			return htmlResponse(
				403,
				layout({
					base,
					title: "Forbidden",
					section: null,
					body: forbiddenPage(settings.loginUrl),
				}),
			);
		}

		try {
			if (request.method === "POST") {
				const form = await request.form().catch(() => null);
				if (form === null)
					return show(
						400,
						"Bad request",
						null,
						messagePage("The form could not be read", "Send it as an HTML form of at most 64 kB.", base),
					);
				const origin = request.header("origin");
				const host = request.header("host");
				const crossSite =
					request.header("sec-fetch-site") === "cross-site" ||
					(origin !== undefined && origin !== "null" && host !== undefined && safeHost(origin) !== host);
				if (
					crossSite ||
					!verifyCsrf(readCookie(request.header("cookie"), CSRF_COOKIE), form.get("_csrf"), secret)
				) {
					return show(
						403,
						"Form expired",
						null,
						messagePage("This form has expired", "Reload the page and try again.", base),
					);
				}
				return await post(route, form);
			}
			if (request.method !== "GET" && request.method !== "HEAD") {
				return { status: 405, headers: { allow: "GET, HEAD, POST" }, body: "" };
			}
			return await get(route, params);
		} catch (error) {
			if (error instanceof BadInput)
				return show(
					400,
					"Bad request",
					null,
					messagePage("That request did not make sense", error.message, base),
				);
			if (isRefkitError(error, "LINK_NOT_FOUND"))
				return show(
					404,
					"Not found",
					"links",
					messagePage("No such link", error.message.replace(/^refkit: /, ""), base),
				);
			if (
				isRefkitError(error) &&
				(error.code === "INVALID_ARGUMENT" || error.code === "INVALID_IDENTIFIER")
			) {
				return show(
					400,
					"Bad request",
					null,
					messagePage("That request did not make sense", error.message.replace(/^refkit: /, ""), base),
				);
			}
			refkit.options.onError(error, { operation: "dashboard" });
			return show(
				503,
				"Unavailable",
				null,
				messagePage(
					"The dashboard is unavailable",
					"The database could not be read. The error was reported; try again in a moment.",
					base,
				),
			);
		}

		async function get(route: string, params: URLSearchParams): Promise<DashboardResponse> {
			const notice = DONE[params.get("done") ?? ""] ?? null;
			if (route === "/") {
				const period = days(params.get("days"));
				const stats = await refkit.stats({ days: period });
				return show(200, "Overview", "overview", overviewPage(page, stats, period));
			}
			if (route === "/links") {
				const search = text(params, "search");
				const status = text(params, "status");
				if (status !== "" && status !== "enabled" && status !== "disabled")
					throw new BadInput("The status must be enabled or disabled.");
				const current = pageNumber(params.get("page"));
				const links = await refkit.listLinks({
					search: search || undefined,
					disabled: status === "" ? undefined : status === "disabled",
					limit: PAGE_SIZE + 1,
					offset: (current - 1) * PAGE_SIZE,
				});
				return show(
					200,
					"Links",
					"links",
					linksPage(page, {
						links: links.slice(0, PAGE_SIZE),
						search,
						status,
						page: current,
						hasNext: links.length > PAGE_SIZE,
						notice,
						error: null,
						form: { identifier: "", userId: "", target: "" },
					}),
				);
			}
			const linkMatch = /^\/links\/([^/]+)$/.exec(route);
			if (linkMatch) {
				const identifier = segment(linkMatch[1] as string) ?? "";
				const link = isValidIdentifier(identifier) ? await refkit.getLink(identifier) : null;
				if (link === null)
					return show(
						404,
						"Not found",
						"links",
						messagePage("No such link", `No link has the identifier "${identifier}".`, base),
					);
				const period = days(params.get("days"));
				const [stats, hits, conversions] = await Promise.all([
					refkit.stats({ link: identifier, days: period }),
					refkit.listHits({ link: identifier, limit: 10 }),
					refkit.listConversions({ link: identifier, limit: 10 }),
				]);
				return show(
					200,
					`Link ${identifier}`,
					"links",
					linkPage(page, { link, stats, days: period, hits, conversions, notice, error: null }),
				);
			}
			if (route === "/hits" || route === "/hits.csv") {
				const filters = {
					link: text(params, "link", 50),
					authenticated: text(params, "authenticated"),
					from: text(params, "from", 10),
					to: text(params, "to", 10),
					search: text(params, "search"),
				};
				if (!["", "yes", "no"].includes(filters.authenticated))
					throw new BadInput("Visitor must be yes or no.");
				const query = {
					link: identifierFilter(filters.link),
					authenticated: filters.authenticated === "" ? undefined : filters.authenticated === "yes",
					from: dayStart(filters.from, "From"),
					to: dayStart(filters.to, "To", true),
					search: filters.search || undefined,
				};
				if (route === "/hits.csv")
					return csvResponse("hits", csvLines(HIT_COLUMNS, refkit.exportHits(query)));
				const current = pageNumber(params.get("page"));
				const hits = await refkit.listHits({
					...query,
					limit: PAGE_SIZE + 1,
					offset: (current - 1) * PAGE_SIZE,
				});
				return show(
					200,
					"Hits",
					"hits",
					hitsPage(page, {
						hits: hits.slice(0, PAGE_SIZE),
						filters,
						page: current,
						hasNext: hits.length > PAGE_SIZE,
						error: null,
					}),
				);
			}
			if (route === "/conversions" || route === "/conversions.csv") {
				const filters = {
					goal: text(params, "goal", 64),
					status: text(params, "status"),
					link: text(params, "link", 50),
				};
				if (!["", "active", "reversed"].includes(filters.status))
					throw new BadInput("The status must be active or reversed.");
				const query = {
					goal: filters.goal || undefined,
					status: (filters.status || undefined) as "active" | "reversed" | undefined,
					link: identifierFilter(filters.link),
				};
				if (route === "/conversions.csv")
					return csvResponse("conversions", csvLines(CONVERSION_COLUMNS, refkit.exportConversions(query)));
				const current = pageNumber(params.get("page"));
				const conversions = await refkit.listConversions({
					...query,
					limit: PAGE_SIZE + 1,
					offset: (current - 1) * PAGE_SIZE,
				});
				return show(
					200,
					"Conversions",
					"conversions",
					conversionsPage(page, {
						conversions: conversions.slice(0, PAGE_SIZE),
						filters,
						page: current,
						hasNext: conversions.length > PAGE_SIZE,
						notice,
						error: null,
					}),
				);
			}
			return show(404, "Not found", null, messagePage("Not found", "The dashboard has no such page.", base));
		}

		async function post(route: string, form: URLSearchParams): Promise<DashboardResponse> {
			if (route === "/links") {
				const input = {
					identifier: text(form, "identifier", 50),
					userId: text(form, "userId", 255),
					target: text(form, "target", 2048),
				};
				try {
					const link = await refkit.createLink({
						identifier: input.identifier || undefined,
						userId: input.userId || undefined,
						target: input.target || undefined,
					});
					return redirect(`${base}/links/${link.identifier}?done=created`);
				} catch (error) {
					if (
						!isRefkitError(error) ||
						!["IDENTIFIER_TAKEN", "INVALID_IDENTIFIER", "INVALID_ARGUMENT"].includes(error.code)
					)
						throw error;
					const links = await refkit.listLinks({ limit: PAGE_SIZE + 1 });
					return show(
						error.code === "IDENTIFIER_TAKEN" ? 409 : 400,
						"Links",
						"links",
						linksPage(page, {
							links: links.slice(0, PAGE_SIZE),
							search: "",
							status: "",
							page: 1,
							hasNext: links.length > PAGE_SIZE,
							notice: null,
							error: error.message.replace(/^refkit: /, ""),
							form: input,
						}),
					);
				}
			}
			const toggle = /^\/links\/([^/]+)\/(disable|enable)$/.exec(route);
			if (toggle) {
				const identifier = segment(toggle[1] as string) ?? "";
				if (toggle[2] === "disable") await refkit.disableLink(identifier);
				else await refkit.enableLink(identifier);
				const done = toggle[2] === "disable" ? "disabled" : "enabled";
				return redirect(withDone(backTo(base, form.get("back"), `/links/${identifier}`), done));
			}
			const reverse = /^\/conversions\/([^/]+)\/reverse$/.exec(route);
			if (reverse) {
				const reason = text(form, "reason", 1000);
				if (reason === "") throw new BadInput("Give a reason to reverse a conversion, such as “refund”.");
				const id = segment(reverse[1] as string) ?? "";
				try {
					await refkit.reverseConversion(id, { reason });
				} catch (error) {
					if (isRefkitError(error, "CONVERSION_NOT_FOUND"))
						return show(
							404,
							"Not found",
							"conversions",
							messagePage("No such conversion", error.message.replace(/^refkit: /, ""), base),
						);
					throw error;
				}
				return redirect(withDone(backTo(base, form.get("back"), "/conversions"), "reversed"));
			}
			return show(
				404,
				"Not found",
				null,
				messagePage("Not found", "The dashboard has no such action.", base),
			);
		}
	};
}

function safeHost(origin: string): string | null {
	try {
		return new URL(origin).host;
	} catch {
		return null;
	}
}
