import { isUuid } from "../core/arguments.js";
import { isRefkitError } from "../errors.js";
import type { DashboardResponse } from "../http/request.js";
import type { Commission } from "../programs/types.js";
import { commissionRows } from "./commissions.js";
import { type Html, html } from "./html.js";
import {
	backQuery,
	backTo,
	DONE,
	Failure,
	PAGE_SIZE,
	pageNumber,
	plainMessage,
	text,
	withDone,
} from "./input.js";
import { csrfField, messages, type PageContext, pager, query } from "./pages.js";
import { type Route, type RouteContext, redirect } from "./respond.js";

/**
 * The review queue: commissions held by the review (option `review`), oldest reason first to read, each
 * released (payable when its holding period ends) or rejected (voided, with a reason) by an admin.
 */

interface ReviewView {
	rows: Commission[];
	page: number;
	hasNext: boolean;
	notice: string | null;
	error: string | null;
}

function actions(page: PageContext, back: string): (c: Commission) => Html {
	return (c) =>
		html`<form class="inline" method="post" action="${page.base}/commissions/${c.id}/release">${csrfField(page)}<input type="hidden" name="back" value="${back}"><button type="submit" class="secondary">Release</button></form>
<form class="inline" method="post" action="${page.base}/commissions/${c.id}/reject">${csrfField(page)}<input type="hidden" name="back" value="${back}"><input name="reason" required maxlength="1000" placeholder="Reason" aria-label="Reason to reject the ${c.rule} commission of ${c.userId}"><button type="submit" class="danger">Reject</button></form>`;
}

export function reviewPage(page: PageContext, view: ReviewView): Html {
	const back = `/review${query({ page: view.page > 1 ? view.page : null })}`;
	return html`<h1>Review</h1>
<p class="sub">Commissions held for review, newest first, each with the reason it was held. Release one and it becomes payable when its holding period ends; reject one and it is voided, with your reason.</p>
${messages(view.notice, view.error)}
<div class="panel">${
		view.rows.length === 0
			? html`<p class="muted">No commission is waiting for review.</p>`
			: commissionRows(page, view.rows, actions(page, back))
	}
${pager(page, "/review", {}, view.page, view.hasNext)}</div>`;
}

async function showReview(
	ctx: RouteContext,
	status: number,
	params: URLSearchParams,
	messages: { notice: string | null; error: string | null },
): Promise<DashboardResponse> {
	const current = pageNumber(params.get("page"));
	const rows = await ctx.refkit.listCommissions({
		status: "held",
		limit: PAGE_SIZE + 1,
		offset: (current - 1) * PAGE_SIZE,
	});
	const view = {
		rows: rows.slice(0, PAGE_SIZE),
		page: current,
		hasNext: rows.length > PAGE_SIZE,
		...messages,
	};
	return ctx.show(status, "Review", "review", reviewPage(ctx.page, view));
}

function review(ctx: RouteContext): Promise<DashboardResponse> {
	const notice = DONE[ctx.query.get("done") ?? ""] ?? null;
	return showReview(ctx, 200, ctx.query, { notice, error: null });
}

const STATES: Record<Commission["status"], string> = {
	pending: "pending (released)",
	held: "held",
	approved: "payable (released)",
	paid: "paid",
	voided: "voided",
};

/** Releases or rejects the commission of the path; a commission no longer held is told on the queue, a 409. */
async function decide(ctx: RouteContext, decision: "release" | "reject"): Promise<DashboardResponse> {
	const { id = "" } = ctx.params;
	if (!isUuid(id)) throw new Failure(404, "No such commission", "That is not a commission's id.", "review");
	const again = (status: number, error: string) =>
		showReview(ctx, status, backQuery(ctx.form.get("back")), { notice: null, error });
	const reason = text(ctx.form, "reason", 1000);
	if (decision === "reject" && reason === "")
		return again(400, "Give a reason to reject a commission, such as “same household”. Nothing changed.");
	try {
		if (decision === "release") await ctx.refkit.releaseCommission(id);
		else await ctx.refkit.rejectCommission(id, { reason });
	} catch (error) {
		if (!isRefkitError(error) || error.code !== "INVALID_STATE") throw error;
		const current = await ctx.refkit.getCommission(id);
		const state = current === null ? null : STATES[current.status];
		return again(
			409,
			state === null
				? plainMessage(error)
				: `That commission is ${state} now, no longer held: someone may have reviewed it already. Nothing changed.`,
		);
	}
	const back = backTo(ctx.page.base, ctx.form.get("back"), "/review");
	return redirect(withDone(back, decision === "release" ? "released" : "rejected"));
}

/** The review queue's page and its two forms. */
export const REVIEW_ROUTES: readonly Route[] = [
	{ method: "GET", path: "/review", handle: review },
	{ method: "POST", path: "/commissions/:id/release", handle: (ctx) => decide(ctx, "release") },
	{ method: "POST", path: "/commissions/:id/reject", handle: (ctx) => decide(ctx, "reject") },
];
