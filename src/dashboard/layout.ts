import { type Html, html, raw } from "./html.js";

const STYLE = raw(`
/* Text reads at 4.5:1 or more on what it sits on (WCAG AA; test/browser/accessibility.test.ts): --muted on white,
   on the page and on code; --good on its soft green. */
:root { --ink: #1f2933; --muted: #536d87; --line: #d9e2ec; --bg: #f5f7fa; --brand: #3e4bd8; --brand-soft: #e0e4ff;
  --good: #157a3f; --bad: #c53030; --warn-soft: #fff3c4; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg); }
a { color: var(--brand); text-decoration: none; } a:hover { text-decoration: underline; }
/* A link within text (a paragraph, a heading, .in-text) is underlined: its colour alone does not set it apart. */
main p a, main h2 a, a.in-text { text-decoration: underline; text-underline-offset: .15em; }
header { background: #1f2933; color: #fff; }
header .bar { max-width: 72rem; margin: 0 auto; padding: .7rem 1.25rem; display: flex; gap: 2rem; align-items: center; }
header .brand { font-weight: 700; letter-spacing: .02em; color: #fff; }
header nav { display: flex; gap: .25rem; flex-wrap: wrap; }
header nav a { color: #cbd2d9; padding: .3rem .7rem; border-radius: 6px; }
header nav a[aria-current="page"] { background: #3e4c59; color: #fff; }
main { max-width: 72rem; margin: 0 auto; padding: 1.5rem 1.25rem 4rem; }
h1 { font-size: 1.5rem; margin: 0 0 .25rem; } h2 { font-size: 1.1rem; margin: 2rem 0 .75rem; } h3 { font-size: 1rem; margin: 0 0 .5rem; }
.sub { color: var(--muted); margin: 0 0 1.25rem; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(10rem, 1fr)); gap: .75rem; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: .8rem 1rem; }
.card .label { color: var(--muted); font-size: .8rem; text-transform: uppercase; letter-spacing: .04em; }
.card .value { font-size: 1.6rem; font-weight: 650; font-variant-numeric: tabular-nums; }
.card .detail { color: var(--muted); font-size: .8rem; }
.panel { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 1rem; margin-top: .75rem; overflow-x: auto; }
.panel:focus-visible { outline: 2px solid var(--brand); outline-offset: 2px; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 26rem), 1fr)); gap: .75rem; }
figure.chart { margin: 0; } figure.chart svg { width: 100%; height: auto; display: block; }
figure.chart figcaption { color: var(--muted); font-size: .85rem; margin-top: .25rem; }
svg text { font: 13px system-ui, sans-serif; fill: var(--muted); } svg .axis-title { font-weight: 600; }
@media (max-width: 40rem) {
  /* A chart is drawn 640 units wide: on a phone, larger units keep its text about 10 px on screen. */
  svg text { font-size: 20px; } svg .y-title, svg .x-title { display: none; }
  header .bar { gap: .75rem; flex-wrap: wrap; } main { padding: 1rem .75rem 3rem; }
  .panel { padding: .75rem; }
}
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { text-align: left; padding: .45rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 600; font-size: .8rem; text-transform: uppercase; letter-spacing: .03em; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.wrap { max-width: 18rem; overflow-wrap: anywhere; }
td.clip { max-width: 13rem; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
td.nowrap, td code, .nowrap { white-space: nowrap; } td.details { min-width: 12rem; }
tbody tr:hover { background: #f8fafc; }
.muted { color: var(--muted); }
.tag { display: inline-block; padding: .05rem .5rem; border-radius: 999px; font-size: .78rem; background: var(--brand-soft); color: var(--brand); }
.tag.off { background: #fde8e8; color: var(--bad); } .tag.ok { background: #e3f9e5; color: var(--good); }
.tag.warn { background: var(--warn-soft); color: #8d5a00; }
.amount { white-space: nowrap; font-variant-numeric: tabular-nums; } .amount.negative { color: var(--bad); }
ul.rules { margin: .25rem 0 0; padding-left: 1.2rem; } dl.terms { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: 0; }
dl.terms dt { color: var(--muted); } dl.terms dd { margin: 0; }
form.filters { display: flex; flex-wrap: wrap; gap: .5rem; align-items: end; margin-bottom: .75rem; }
label { display: grid; gap: .15rem; font-size: .8rem; color: var(--muted); }
input, select, button { font: inherit; padding: .35rem .55rem; border: 1px solid #bcccdc; border-radius: 6px; background: #fff; color: var(--ink); }
button { background: var(--brand); border-color: var(--brand); color: #fff; cursor: pointer; }
button.secondary { background: #fff; color: var(--brand); }
button.danger { background: #fff; color: var(--bad); border-color: #f5b5b5; }
form.inline { display: inline-flex; gap: .35rem; margin: 0; }
.actions form.inline { display: flex; margin: 0 0 .3rem; } .actions input { width: 10rem; } .actions button { white-space: nowrap; }
.notice { background: #e3f9e5; border: 1px solid #a8e6b0; padding: .6rem .9rem; border-radius: 8px; margin-bottom: 1rem; }
.error { background: #fde8e8; border: 1px solid #f5b5b5; padding: .6rem .9rem; border-radius: 8px; margin-bottom: 1rem; }
.pager { display: flex; gap: 1rem; margin-top: .75rem; align-items: center; }
.periods { display: flex; gap: .5rem; margin-bottom: 1rem; }
.periods a { padding: .2rem .7rem; border: 1px solid var(--line); border-radius: 999px; background: #fff; }
.periods a[aria-current="true"] { background: var(--brand); border-color: var(--brand); color: #fff; }
details summary { cursor: pointer; color: var(--brand); margin-top: .5rem; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .85em; background: #eef2f7; padding: .05rem .35rem; border-radius: 4px; }
`);

export type Section =
	| "overview"
	| "links"
	| "hits"
	| "conversions"
	| "programs"
	| "commissions"
	| "review"
	| "payouts";

/**
 * A whole dashboard page. `programs` says whether the application declares referral programs: only then does
 * the navigation lead to the ledger's pages (programs, commissions, review, payouts).
 */
export function layout(input: {
	base: string;
	title: string;
	section: Section | null;
	body: Html;
	programs?: boolean;
}): Html {
	const item = (section: Section, href: string, label: string) =>
		html`<a href="${input.base}${href}"${input.section === section ? raw(' aria-current="page"') : ""}>${label}</a>`;
	const ledger = input.programs
		? html`${item("programs", "/programs", "Programs")}${item("commissions", "/commissions", "Commissions")}${item("review", "/review", "Review")}${item("payouts", "/payouts", "Payouts")}`
		: "";
	return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><link rel="icon" href="data:,"><title>${input.title} · refkit</title><style>${STYLE}</style></head>
<body><header><div class="bar"><a class="brand" href="${input.base}/">refkit</a>
<nav aria-label="Dashboard">${item("overview", "/", "Overview")}${item("links", "/links", "Links")}${item("hits", "/hits", "Hits")}${item("conversions", "/conversions", "Conversions")}${ledger}</nav></div></header>
<main>${input.body}</main></body></html>`;
}

/** A number for people: 1234567 → "1,234,567". */
export function formatNumber(value: number): string {
	return value.toLocaleString("en-US", { maximumFractionDigits: 2 });
}

/** A time for people, in UTC: "2026-11-23 14:05". */
export function formatTime(date: Date | null): string {
	return date === null ? "" : date.toISOString().replace("T", " ").slice(0, 16);
}
