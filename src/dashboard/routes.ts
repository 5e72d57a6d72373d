import { isValidIdentifier } from "../core/identifiers.js";
import { isRefkitError } from "../errors.js";
import type { DashboardResponse } from "../http/request.js";
import { COMMISSION_ROUTES } from "./commissions.js";
import {
	backTo,
	badInput,
	DONE,
	days,
	Failure,
	PAGE_SIZE,
	pageNumber,
	plainMessage,
	segment,
	text,
	withDone,
} from "./input.js";
import { LISTING_ROUTES } from "./listing.js";
import { type LinksView, linkPage, linksPage, overviewPage } from "./pages.js";
import { PAYOUT_ROUTES } from "./payouts.js";
import { PROGRAM_ROUTES } from "./programs.js";
import { type Route, type RouteContext, redirect } from "./respond.js";
import { REVIEW_ROUTES } from "./review.js";

async function overview(ctx: RouteContext): Promise<DashboardResponse> {
	const period = days(ctx.query.get("days"));
	const stats = await ctx.refkit.stats({ days: period });
	return ctx.show(200, "Overview", "overview", overviewPage(ctx.page, stats, period));
}

/** The links page at `view`'s filters, with what a form did or could not do. */
async function showLinks(
	ctx: RouteContext,
	status: number,
	view: Omit<LinksView, "links" | "hasNext">,
): Promise<DashboardResponse> {
	const links = await ctx.refkit.listLinks({
		search: view.search || undefined,
		disabled: view.status === "" ? undefined : view.status === "disabled",
		limit: PAGE_SIZE + 1,
		offset: (view.page - 1) * PAGE_SIZE,
	});
	const page = linksPage(ctx.page, {
		...view,
		links: links.slice(0, PAGE_SIZE),
		hasNext: links.length > PAGE_SIZE,
	});
	return ctx.show(status, "Links", "links", page);
}

function links(ctx: RouteContext): Promise<DashboardResponse> {
	const status = text(ctx.query, "status");
	if (status !== "" && status !== "enabled" && status !== "disabled")
		throw badInput("The status must be enabled or disabled.");
	return showLinks(ctx, 200, {
		search: text(ctx.query, "search"),
		status,
		page: pageNumber(ctx.query.get("page")),
		notice: DONE[ctx.query.get("done") ?? ""] ?? null,
		error: null,
		form: { identifier: "", userId: "", target: "" },
	});
}

async function link(ctx: RouteContext): Promise<DashboardResponse> {
	const { identifier = "" } = ctx.params;
	const found = isValidIdentifier(identifier) ? await ctx.refkit.getLink(identifier) : null;
	if (found === null)
		throw new Failure(404, "No such link", `No link has the identifier "${identifier}".`, "links");
	const period = days(ctx.query.get("days"));
	const [stats, hits, conversions] = await Promise.all([
		ctx.refkit.stats({ link: identifier, days: period }),
		ctx.refkit.listHits({ link: identifier, limit: 10 }),
		ctx.refkit.listConversions({ link: identifier, limit: 10 }),
	]);
	const notice = DONE[ctx.query.get("done") ?? ""] ?? null;
	const view = { link: found, stats, days: period, hits, conversions, notice, error: null };
	return ctx.show(200, `Link ${identifier}`, "links", linkPage(ctx.page, view));
}

async function createLink(ctx: RouteContext): Promise<DashboardResponse> {
	const input = {
		identifier: text(ctx.form, "identifier", 50),
		userId: text(ctx.form, "userId", 255),
		target: text(ctx.form, "target", 2048),
	};
	try {
		const created = await ctx.refkit.createLink({
			identifier: input.identifier || undefined,
			userId: input.userId || undefined,
			target: input.target || undefined,
		});
		return redirect(`${ctx.page.base}/links/${created.identifier}?done=created`);
	} catch (error) {
		if (
			!isRefkitError(error) ||
			!["IDENTIFIER_TAKEN", "INVALID_IDENTIFIER", "INVALID_ARGUMENT"].includes(error.code)
		)
			throw error;
		const status = error.code === "IDENTIFIER_TAKEN" ? 409 : 400;
		const view = { search: "", status: "", page: 1, notice: null, error: plainMessage(error), form: input };
		return showLinks(ctx, status, view);
	}
}

async function toggle(ctx: RouteContext, action: "disable" | "enable"): Promise<DashboardResponse> {
	const { identifier = "" } = ctx.params;
	if (action === "disable") await ctx.refkit.disableLink(identifier);
	else await ctx.refkit.enableLink(identifier);
	const back = backTo(ctx.page.base, ctx.form.get("back"), `/links/${identifier}`);
	return redirect(withDone(back, action === "disable" ? "disabled" : "enabled"));
}

async function reverse(ctx: RouteContext): Promise<DashboardResponse> {
	const reason = text(ctx.form, "reason", 1000);
	if (reason === "") throw badInput("Give a reason to reverse a conversion, such as “refund”.");
	await ctx.refkit.reverseConversion(ctx.params.id ?? "", { reason });
	return redirect(withDone(backTo(ctx.page.base, ctx.form.get("back"), "/conversions"), "reversed"));
}

/** The dashboard's routes: method and path → handler. A HEAD is answered as a GET. */
const ROUTES: readonly Route[] = [
	{ method: "GET", path: "/", handle: overview },
	{ method: "GET", path: "/links", handle: links },
	{ method: "GET", path: "/links/:identifier", handle: link },
	...LISTING_ROUTES,
	{ method: "POST", path: "/links", handle: createLink },
	{ method: "POST", path: "/links/:identifier/disable", handle: (ctx) => toggle(ctx, "disable") },
	{ method: "POST", path: "/links/:identifier/enable", handle: (ctx) => toggle(ctx, "enable") },
	{ method: "POST", path: "/conversions/:id/reverse", handle: reverse },
	...PROGRAM_ROUTES,
	...COMMISSION_ROUTES,
	...REVIEW_ROUTES,
	...PAYOUT_ROUTES,
];

const COMPILED = ROUTES.map((route) => ({
	route,
	names: [...route.path.matchAll(/:(\w+)/g)].map((m) => m[1] as string),
	pattern: new RegExp(`^${route.path.replace(/\./g, "\\.").replace(/:\w+/g, "([^/]+)")}$`),
}));

/** The route for `method` (GET or POST) at `path` (under the dashboard, without a trailing slash), if any. */
export function findRoute(
	method: "GET" | "POST",
	path: string,
): { handle: Route["handle"]; params: Record<string, string> } | null {
	for (const { route, names, pattern } of COMPILED) {
		if (route.method !== method) continue;
		const match = pattern.exec(path);
		if (match === null) continue;
		const params: Record<string, string> = {};
		names.forEach((name, i) => {
			params[name] = segment(match[i + 1] as string) ?? "";
		});
		return { handle: route.handle, params };
	}
	return null;
}
