import { CONVERSION_COLUMNS, type CsvColumns, csvLines, HIT_COLUMNS } from "../csv.js";
import type { DashboardResponse } from "../http/request.js";
import type { Refkit } from "../refkit.js";
import type { Conversion, HitWithLink } from "../types.js";
import { type Html, html, raw } from "./html.js";
import { badInput, DONE, dayStart, identifierFilter, PAGE_SIZE, pageNumber, text } from "./input.js";
import { conversionRows, hitRows, messages, type PageContext, pager, query, tablePanel } from "./pages.js";
import { csvResponse, type RouteContext } from "./respond.js";

/** A filter of a listing: a text input, or a select when it has `options` (and takes no other value). */
interface Field {
	name: string;
	label: string;
	/** The longest value kept. */
	max: number;
	/** An input's `type`, when not text. */
	type?: "date" | "search";
	/** An input's attributes after its value: constants of this file, never data. */
	attributes?: string;
	/** A select's options, value and label; the first is the empty "any". */
	options?: readonly (readonly [string, string])[];
	/** What a select says of a value that is not one of its options. */
	invalid?: string;
}

type Filters = Record<string, string>;

/**
 * A listing of the dashboard, parametrised: a filtered, paged table of hits, conversions or commissions at
 * `/<name>`, and all of its rows as CSV at `/<name>.csv`.
 */
export interface Listing<Row, Query> {
	name: "hits" | "conversions" | "commissions";
	title: string;
	intro: Html;
	fields: readonly Field[];
	/** The filters as the query of `list` and `export`; throws a 400 for a value that makes no sense. */
	query(filters: Filters): Query;
	list(refkit: Refkit, query: Query & { limit: number; offset: number }): Promise<Row[]>;
	export(refkit: Refkit, query: Query): AsyncIterable<Row>;
	columns: CsvColumns<Row>;
	/** The table of a page's rows; `back` is the page, for the forms of its rows. */
	table(page: PageContext, rows: Row[], back: string): Html;
	/** Whether the page says what a form did (`?done=`). */
	notices: boolean;
}

const LINK: Field = {
	name: "link",
	label: "Link",
	max: 50,
	attributes: ' pattern="[A-Za-z0-9_]{1,50}" maxlength="50"',
};

const HITS: Listing<HitWithLink, Parameters<Refkit["exportHits"]>[0]> = {
	name: "hits",
	title: "Hits",
	intro: html`Every recorded visit, newest first. Hits are recorded by visitors, never by hand.`,
	fields: [
		LINK,
		{
			name: "authenticated",
			label: "Visitor",
			max: 200,
			options: [
				["", "Anyone"],
				["yes", "Logged in"],
				["no", "Anonymous"],
			],
			invalid: "Visitor must be yes or no.",
		},
		{ name: "from", label: "From", max: 10, type: "date" },
		{ name: "to", label: "To", max: 10, type: "date" },
		{
			name: "search",
			label: "Search",
			max: 200,
			type: "search",
			attributes: ' placeholder="user, IP, agent, referer"',
		},
	],
	query: (f) => ({
		link: identifierFilter(f.link ?? ""),
		authenticated: f.authenticated === "" ? undefined : f.authenticated === "yes",
		from: dayStart(f.from ?? "", "From"),
		to: dayStart(f.to ?? "", "To", true),
		search: f.search || undefined,
	}),
	list: (refkit, query) => refkit.listHits(query),
	export: (refkit, query) => refkit.exportHits(query),
	columns: HIT_COLUMNS,
	table: (page, rows) => hitRows(page, rows, true),
	notices: false,
};

const CONVERSIONS: Listing<Conversion, Parameters<Refkit["exportConversions"]>[0]> = {
	name: "conversions",
	title: "Conversions",
	intro: html`Referrals confirmed by <code>refkit.confirm()</code>, newest first. Reversing one keeps it, marked.`,
	fields: [
		{ name: "goal", label: "Goal", max: 64, attributes: ' maxlength="64"' },
		{
			name: "status",
			label: "Status",
			max: 200,
			options: [
				["", "Any"],
				["active", "Active"],
				["reversed", "Reversed"],
			],
			invalid: "The status must be active or reversed.",
		},
		LINK,
	],
	query: (f) => ({
		goal: f.goal || undefined,
		status: (f.status || undefined) as "active" | "reversed" | undefined,
		link: identifierFilter(f.link ?? ""),
	}),
	list: (refkit, query) => refkit.listConversions(query),
	export: (refkit, query) => refkit.exportConversions(query),
	columns: CONVERSION_COLUMNS,
	table: conversionRows,
	notices: true,
};

/** The listing's filters, read from the URL's query in the order of its fields; a select's value checked. */
function readFilters(listing: Listing<unknown, unknown>, params: URLSearchParams): Filters {
	const filters: Filters = {};
	for (const field of listing.fields) {
		const value = text(params, field.name, field.max);
		if (field.options && !field.options.some(([option]) => option === value))
			throw badInput(field.invalid ?? "");
		filters[field.name] = value;
	}
	return filters;
}

function input(field: Field, value: string): Html {
	if (field.options === undefined) {
		const type = field.type ? raw(` type="${field.type}"`) : "";
		return html`<label>${field.label} <input${type} name="${field.name}" value="${value}"${raw(field.attributes ?? "")}></label>`;
	}
	const options = field.options.map(
		([option, label]) =>
			html`<option value="${option}"${option !== "" && option === value ? raw(" selected") : ""}>${label}</option>`,
	);
	return html`<label>${field.label} <select name="${field.name}">${options}</select></label>`;
}

/** One page of a listing: its filters, the CSV link, the table and the pager. */
function listingPage<Row>(
	page: PageContext,
	listing: Listing<Row, unknown>,
	view: { rows: Row[]; filters: Filters; page: number; hasNext: boolean; notice: string | null },
): Html {
	const { name, title } = listing;
	const f = view.filters;
	const back = `/${name}${query({ ...f, page: view.page > 1 ? view.page : null })}`;
	return html`<h1>${title}</h1>
<p class="sub">${listing.intro}</p>
${messages(listing.notices ? view.notice : null, null)}
<form class="filters" method="get" action="${page.base}/${name}" role="search">
${listing.fields.map((field, i) => html`${i === 0 ? "" : "\n"}${input(field, f[field.name] ?? "")}`)}
<button type="submit" class="secondary">Filter</button>
<a href="${page.base}/${name}.csv${query(f)}">Download CSV</a></form>
${tablePanel(
	title,
	html`${view.rows.length === 0 ? html`<p class="muted">No ${name} match.</p>` : listing.table(page, view.rows, back)}
${pager(page, `/${name}`, f, view.page, view.hasNext)}`,
)}`;
}

/** The routes of a listing: its pages, and its CSV. */
export function listingRoutes<Row, Query>(listing: Listing<Row, Query>) {
	const answer = async (ctx: RouteContext, csv: boolean): Promise<DashboardResponse> => {
		const filters = readFilters(listing as Listing<unknown, unknown>, ctx.query);
		const query = listing.query(filters);
		if (csv) return csvResponse(listing.name, csvLines(listing.columns, listing.export(ctx.refkit, query)));
		const current = pageNumber(ctx.query.get("page"));
		const rows = await listing.list(ctx.refkit, {
			...query,
			limit: PAGE_SIZE + 1,
			offset: (current - 1) * PAGE_SIZE,
		});
		const view = {
			rows: rows.slice(0, PAGE_SIZE),
			filters,
			page: current,
			hasNext: rows.length > PAGE_SIZE,
			notice: DONE[ctx.query.get("done") ?? ""] ?? null,
		};
		return ctx.show(200, listing.title, listing.name, listingPage(ctx.page, listing, view));
	};
	return [
		{ method: "GET", path: `/${listing.name}`, handle: (ctx: RouteContext) => answer(ctx, false) },
		{ method: "GET", path: `/${listing.name}.csv`, handle: (ctx: RouteContext) => answer(ctx, true) },
	] as const;
}

/** The routes of the hits and conversions listings. */
export const LISTING_ROUTES = [...listingRoutes(HITS), ...listingRoutes(CONVERSIONS)];
