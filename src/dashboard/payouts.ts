import { isUuid } from "../core/arguments.js";
import { isRefkitError } from "../errors.js";
import type { DashboardResponse } from "../http/request.js";
import type { Payout } from "../programs/types.js";
import {
	backTo,
	badInput,
	DONE,
	dayStart,
	Failure,
	PAGE_SIZE,
	pageNumber,
	plainMessage,
	text,
	withDone,
} from "./input.js";
import { query } from "./pages.js";
import { type PayoutFilters, payoutPage, payoutsPage } from "./payout-pages.js";
import { csvResponse, type Route, type RouteContext, redirect } from "./respond.js";

/**
 * Payout runs and payouts: make a run for a cutoff, list and filter payouts, export a run or a payout as CSV,
 * mark a payout paid or failed.
 */

const STATUSES = ["", "created", "paid", "failed"];

function readFilters(params: URLSearchParams): PayoutFilters {
	const filters = {
		status: text(params, "status"),
		run: text(params, "run", 36),
		user: text(params, "user", 255),
	};
	if (!STATUSES.includes(filters.status)) throw badInput("The status must be created, paid or failed.");
	if (filters.run !== "" && !isUuid(filters.run))
		throw badInput("A run's id is a UUID, as the list shows it.");
	return filters;
}

/** The notice of `?done=run`: what the run made, as counted when it was made. */
function runNotice(params: URLSearchParams): string {
	const count = (name: string) => {
		const value = params.get(name) ?? "";
		return /^\d{1,9}$/.test(value) ? Number(value) : 0;
	};
	const made = count("made");
	const carried = count("carried");
	const payouts = made === 0 ? "no payouts" : made === 1 ? "1 payout" : `${made} payouts`;
	const rest =
		carried === 0
			? ""
			: `; ${carried === 1 ? "1 balance was" : `${carried} balances were`} below the minimum or negative, carried forward to a later run`;
	return `The payout run made ${payouts}${rest}.`;
}

async function showPayouts(
	ctx: RouteContext,
	status: number,
	params: URLSearchParams,
	form: { notice: string | null; error: string | null; cutoff: string },
): Promise<DashboardResponse> {
	const filters = readFilters(params);
	const current = pageNumber(params.get("page"));
	const payouts = await ctx.refkit.listPayouts({
		status: (filters.status || undefined) as Payout["status"] | undefined,
		runId: filters.run || undefined,
		userId: filters.user || undefined,
		limit: PAGE_SIZE + 1,
		offset: (current - 1) * PAGE_SIZE,
	});
	const view = {
		...form,
		payouts: payouts.slice(0, PAGE_SIZE),
		filters,
		page: current,
		hasNext: payouts.length > PAGE_SIZE,
	};
	return ctx.show(status, "Payouts", "payouts", payoutsPage(ctx.page, view));
}

function payouts(ctx: RouteContext): Promise<DashboardResponse> {
	const done = ctx.query.get("done") ?? "";
	const notice = done === "run" ? runNotice(ctx.query) : (DONE[done] ?? null);
	return showPayouts(ctx, 200, ctx.query, { notice, error: null, cutoff: "" });
}

/** The payout of the path, or a 404. */
async function payoutOf(ctx: RouteContext): Promise<Payout> {
	const { id = "" } = ctx.params;
	const payout = isUuid(id) ? await ctx.refkit.getPayout(id) : null;
	if (payout === null)
		throw new Failure(404, "No such payout", `No payout has the id "${id.slice(0, 60)}".`, "payouts");
	return payout;
}

async function showPayout(
	ctx: RouteContext,
	status: number,
	payout: Payout,
	messages: { notice: string | null; error: string | null },
): Promise<DashboardResponse> {
	const current = pageNumber(ctx.query.get("page"));
	const commissions = await ctx.refkit.listCommissions({
		payoutId: payout.id,
		limit: PAGE_SIZE + 1,
		offset: (current - 1) * PAGE_SIZE,
	});
	const view = {
		...messages,
		payout,
		commissions: commissions.slice(0, PAGE_SIZE),
		page: current,
		hasNext: commissions.length > PAGE_SIZE,
	};
	return ctx.show(status, `Payout ${payout.id.slice(0, 8)}`, "payouts", payoutPage(ctx.page, view));
}

async function payout(ctx: RouteContext): Promise<DashboardResponse> {
	const notice = DONE[ctx.query.get("done") ?? ""] ?? null;
	return showPayout(ctx, 200, await payoutOf(ctx), { notice, error: null });
}

/** A run (by its id) or one payout as CSV, for a bank's or a provider's mass-payment upload. */
async function exportCsv(ctx: RouteContext): Promise<DashboardResponse> {
	const { id = "" } = ctx.params;
	if (!isUuid(id))
		throw new Failure(404, "No such payout", "Neither a payout nor a payout run has that id.", "payouts");
	const lines = await ctx.refkit.exportPayouts(id);
	return csvResponse(`payouts-${id.slice(0, 8)}`, lines);
}

/**
 * The cutoff of a run made from the form: the end of the day typed (UTC), or now when that is later than now,
 * or now when none was typed. A day after today is refused.
 */
function cutoffOf(value: string, now: Date): Date | undefined {
	const end = dayStart(value, "Cutoff", true);
	if (end === undefined) return undefined;
	if (end.getTime() - 24 * 60 * 60 * 1000 > now.getTime())
		throw badInput(`The cutoff ${value} is in the future: a run pays what is payable now at most.`);
	return end.getTime() > now.getTime() ? undefined : end;
}

async function createRun(ctx: RouteContext): Promise<DashboardResponse> {
	const typed = text(ctx.form, "cutoff", 10);
	let asOf: Date | undefined;
	try {
		asOf = cutoffOf(typed, new Date());
	} catch (error) {
		if (!(error instanceof Failure)) throw error;
		const form = { notice: null, error: error.message, cutoff: typed };
		return showPayouts(ctx, 400, new URLSearchParams(), form);
	}
	const run = await ctx.refkit.createPayouts({ asOf });
	const done = { run: run.runId, done: "run", made: run.payouts, carried: run.carriedForward };
	return redirect(`${ctx.page.base}/payouts${query(done)}`);
}

/** Marks the payout of the path paid (with its reference) or failed (with its reason). */
async function close(ctx: RouteContext, as: "paid" | "failed"): Promise<DashboardResponse> {
	const payout = await payoutOf(ctx);
	const again = (status: number, error: string) => showPayout(ctx, status, payout, { notice: null, error });
	const field = as === "paid" ? "reference" : "reason";
	const value = text(ctx.form, field, as === "paid" ? 255 : 1000);
	if (value === "") {
		const example = as === "paid" ? "the bank transfer's id" : "“bank account closed”";
		return again(400, `Give the ${field}, such as ${example}. Nothing changed.`);
	}
	let result: Awaited<ReturnType<typeof ctx.refkit.markPayoutPaid>>;
	try {
		result =
			as === "paid"
				? await ctx.refkit.markPayoutPaid(payout.id, { reference: value })
				: await ctx.refkit.failPayout(payout.id, { reason: value });
	} catch (error) {
		if (!isRefkitError(error) || error.code !== "INVALID_STATE") throw error;
		const current = (await ctx.refkit.getPayout(payout.id)) ?? payout;
		const message =
			current.status === "created"
				? plainMessage(error)
				: `This payout is ${current.status}: it cannot be marked ${as} now. Nothing changed.`;
		return showPayout(ctx, 409, current, { notice: null, error: message });
	}
	const back = backTo(ctx.page.base, ctx.form.get("back"), `/payouts/${payout.id}`);
	return redirect(withDone(back, result.status));
}

/** The payouts' pages, CSV and forms. The CSV's route comes before the payout's, whose `:id` would take it. */
export const PAYOUT_ROUTES: readonly Route[] = [
	{ method: "GET", path: "/payouts", handle: payouts },
	{ method: "GET", path: "/payouts/:id.csv", handle: exportCsv },
	{ method: "GET", path: "/payouts/:id", handle: payout },
	{ method: "POST", path: "/payouts", handle: createRun },
	{ method: "POST", path: "/payouts/:id/paid", handle: (ctx) => close(ctx, "paid") },
	{ method: "POST", path: "/payouts/:id/failed", handle: (ctx) => close(ctx, "failed") },
];
