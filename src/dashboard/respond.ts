import type { DashboardResponse } from "../http/request.js";
import type { Refkit } from "../refkit.js";
import type { Html } from "./html.js";
import type { Section } from "./layout.js";
import type { PageContext } from "./pages.js";

/** A page, with the headers that keep it private, unframed and unsniffed. */
export function htmlResponse(
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

/** A 303 after a form: the browser then GETs `location`. */
export function redirect(location: string): DashboardResponse {
	return { status: 303, headers: { location, "cache-control": "no-store" }, body: "" };
}

/** A CSV download named `refkit-<name>-<today>.csv`, its lines streamed as they are produced. */
export function csvResponse(name: string, lines: AsyncIterable<string>): DashboardResponse {
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

/** What a route is given: the request's query (and form, for a POST), its path's parameters, and how to answer. */
export interface RouteContext {
	refkit: Refkit;
	page: PageContext;
	/** The URL's query. */
	query: URLSearchParams;
	/** The form of a POST, its CSRF token already checked; empty for a GET. */
	form: URLSearchParams;
	/** The `:name` segments of the route's path, decoded ("" when their encoding is malformed). */
	params: Record<string, string>;
	/** A page of the dashboard, in its layout. */
	show(status: number, title: string, section: Section | null, body: Html): DashboardResponse;
}

/** A route of the dashboard: a method, a path under the dashboard (`:name` for a segment) and its handler. */
export interface Route {
	method: "GET" | "POST";
	path: string;
	handle(ctx: RouteContext): Promise<DashboardResponse>;
}
