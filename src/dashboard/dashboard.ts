import { readCookie, serializeCookie } from "../core/cookies.js";
import { safeRedirectPath } from "../core/safe-redirect.js";
import { RefkitError } from "../errors.js";
import type { DashboardRequest, DashboardResponse } from "../http/request.js";
import type { Refkit } from "../refkit.js";
import { CSRF_COOKIE, csrfToken, isCsrfSecret, newCsrfSecret, verifyCsrf } from "./csrf.js";
import type { Html } from "./html.js";
import { Failure, failureOf } from "./input.js";
import { layout, type Section } from "./layout.js";
import { forbiddenPage, messagePage, type PageContext } from "./pages.js";
import { htmlResponse } from "./respond.js";
import { findRoute } from "./routes.js";

export type { DashboardRequest, DashboardResponse } from "../http/request.js";

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

/** The title of the error page, by its status. */
const TITLES: Record<Failure["status"], string> = {
	400: "Bad request",
	403: "Form expired",
	404: "Not found",
	409: "Conflict",
	503: "Unavailable",
};

/**
 * The dashboard, free of any framework: given a request under `path` (and whether `authorize` let it
 * through), it answers a page, a CSV stream or a redirect; `null` for a request outside `path`. Adapters
 * mount it (src/adapters/edge.ts). It never throws: bad input is a 400 page, a database failure a 503 page
 * reported to `onError`.
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
		const path = pathname.slice(base.length).replace(/\/+$/, "") || "/";

		const cookies = request.header("cookie");
		let csrfSecret = readCookie(cookies, CSRF_COOKIE);
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
		const programs = refkit.options.programs.default !== null;
		const show = (status: number, title: string, section: Section | null, body: Html) =>
			htmlResponse(
				status,
				layout({ base, title, section, body, programs }),
				setCookie.length ? { "set-cookie": setCookie } : {},
			);
		/** The one error page. */
		const failed = (failure: Failure) =>
			show(
				failure.status,
				TITLES[failure.status],
				failure.section,
				messagePage(failure.heading, failure.message, base),
			);

		let allowed = false;
		try {
			allowed = (await authorized()) === true;
		} catch (error) {
			refkit.options.onError(error, { operation: "dashboard" });
		}
		if (!allowed) {
			const body = forbiddenPage(settings.loginUrl);
			return htmlResponse(403, layout({ base, title: "Forbidden", section: null, body }));
		}

		const method = request.method === "HEAD" ? "GET" : request.method;
		if (method !== "GET" && method !== "POST") {
			return { status: 405, headers: { allow: "GET, HEAD, POST" }, body: "" };
		}
		try {
			let form = new URLSearchParams();
			if (method === "POST") {
				const read = await request.form().catch(() => null);
				if (read === null) {
					const message = "Send it as an HTML form of at most 64 kB.";
					return failed(new Failure(400, "The form could not be read", message));
				}
				if (crossSite(request) || !verifyCsrf(readCookie(cookies, CSRF_COOKIE), read.get("_csrf"), secret)) {
					return failed(new Failure(403, "This form has expired", "Reload the page and try again."));
				}
				form = read;
			}
			const found = findRoute(method, path);
			if (found === null) {
				const message = `The dashboard has no such ${method === "GET" ? "page" : "action"}.`;
				return failed(new Failure(404, "Not found", message));
			}
			const query = new URLSearchParams(q < 0 ? "" : request.url.slice(q + 1));
			return await found.handle({ refkit, page, query, form, params: found.params, show });
		} catch (error) {
			const failure = failureOf(error);
			if (failure !== null) return failed(failure);
			refkit.options.onError(error, { operation: "dashboard" });
			const message = "The database could not be read. The error was reported; try again in a moment.";
			return failed(new Failure(503, "The dashboard is unavailable", message));
		}
	};
}

/** Whether a POST comes from another site, as the browser says (`Sec-Fetch-Site`, or `Origin` and `Host`). */
function crossSite(request: DashboardRequest): boolean {
	const origin = request.header("origin");
	const host = request.header("host");
	return (
		request.header("sec-fetch-site") === "cross-site" ||
		(origin !== undefined && origin !== "null" && host !== undefined && safeHost(origin) !== host)
	);
}

function safeHost(origin: string): string | null {
	try {
		return new URL(origin).host;
	} catch {
		return null;
	}
}
