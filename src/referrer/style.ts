import { RefkitError } from "../errors.js";

/**
 * The referrer page's look: one stylesheet whose colours, corners and font are CSS custom properties, so that
 * an application matches its own design with the option `theme` (or its own stylesheet, option `stylesheet`,
 * which can set the same properties or style any class). The defaults meet WCAG AA contrast.
 */

/** The page's custom properties an application may set, by their name in the option `theme`. */
export interface ReferrerTheme {
	/** `--refkit-accent`: links, buttons, the selected period, the charts' bars. Default `#3446c4`. */
	accent?: string | undefined;
	/** `--refkit-on-accent`: text on the accent (buttons). Default `#ffffff`. */
	onAccent?: string | undefined;
	/** `--refkit-text`: the text. Default `#1f2933`. */
	text?: string | undefined;
	/** `--refkit-muted`: secondary text, captions, axes. Default `#52606d`. */
	muted?: string | undefined;
	/** `--refkit-background`: the page behind the panels. Default `#f5f7fa`. */
	background?: string | undefined;
	/** `--refkit-surface`: the panels and fields. Default `#ffffff`. */
	surface?: string | undefined;
	/** `--refkit-border`: the panels' and tables' lines. Default `#d9e2ec`. */
	border?: string | undefined;
	/** `--refkit-radius`: the panels' corners. Default `10px`. */
	radius?: string | undefined;
	/** `--refkit-font`: the font family. Default the system's sans-serif. */
	font?: string | undefined;
}

/** Each theme key's custom property. */
export const THEME_PROPERTIES: Readonly<Record<keyof ReferrerTheme, string>> = Object.freeze({
	accent: "--refkit-accent",
	onAccent: "--refkit-on-accent",
	text: "--refkit-text",
	muted: "--refkit-muted",
	background: "--refkit-background",
	surface: "--refkit-surface",
	border: "--refkit-border",
	radius: "--refkit-radius",
	font: "--refkit-font",
});

const DEFAULT_THEME: Readonly<Record<keyof ReferrerTheme, string>> = Object.freeze({
	accent: "#3446c4",
	onAccent: "#ffffff",
	text: "#1f2933",
	muted: "#52606d",
	background: "#f5f7fa",
	surface: "#ffffff",
	border: "#d9e2ec",
	radius: "10px",
	font: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
});

/**
 * Whether a theme value stays inside its declaration: no `;`, braces, angle brackets, backslash, line break
 * or comment, quotes that close, brackets that close, and at most 200 characters. A value that could end the
 * declaration, the rule or the `<style>` element, or swallow the declarations after it, is refused rather
 * than escaped.
 */
function isSafeValue(value: string): boolean {
	return (
		balanced(value.replace(/"[^"]*"|'[^']*'/g, "")) &&
		value.trim() !== "" &&
		value.length <= 200 &&
		// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses.
		!/[;{}<>\\\u0000-\u001f\u007f]/.test(value) &&
		!value.includes("/*") &&
		!value.includes("*/") &&
		/^(?:[^"']|"[^"]*"|'[^']*')*$/.test(value)
	);
}

/** Whether every `(` and `[` of `value` closes, in order. */
function balanced(value: string): boolean {
	const open: string[] = [];
	for (const char of value) {
		if (char === "(" || char === "[") open.push(char === "(" ? ")" : "]");
		else if ((char === ")" || char === "]") && open.pop() !== char) return false;
	}
	return open.length === 0;
}

/** The theme's declarations for `:root`, checked; throws `INVALID_OPTION` for an unknown key or an unsafe value. */
export function themeDeclarations(theme: unknown): string {
	if (theme === undefined) return "";
	if (typeof theme !== "object" || theme === null || Array.isArray(theme)) {
		throw new RefkitError(
			"INVALID_OPTION",
			'refkit: the referrer page\'s theme must be an object such as { accent: "#0a7d50", radius: "4px" }.',
		);
	}
	const declarations: string[] = [];
	for (const [key, value] of Object.entries(theme)) {
		if (!Object.hasOwn(THEME_PROPERTIES, key)) {
			throw new RefkitError(
				"INVALID_OPTION",
				`refkit: the referrer page's theme has no property ${JSON.stringify(key)}; use ${Object.keys(THEME_PROPERTIES).join(", ")}.`,
			);
		}
		if (value === undefined) continue;
		if (typeof value !== "string" || !isSafeValue(value)) {
			throw new RefkitError(
				"INVALID_OPTION",
				`refkit: the referrer page's theme.${key} must be a CSS value such as "#0a7d50" or "4px", without ; { } < > \\, comments, line breaks or unclosed quotes (got ${JSON.stringify(value).slice(0, 80)}).`,
			);
		}
		declarations.push(`${THEME_PROPERTIES[key as keyof ReferrerTheme]}: ${value.trim()};`);
	}
	return declarations.join(" ");
}

const DEFAULTS = Object.entries(DEFAULT_THEME)
	.map(([key, value]) => `${THEME_PROPERTIES[key as keyof ReferrerTheme]}: ${value};`)
	.join(" ");

/** The page's stylesheet, the custom properties' defaults first. */
export const STYLE = `
:root { ${DEFAULTS} }
*, *::before, *::after { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 var(--refkit-font); color: var(--refkit-text); background: var(--refkit-background); overflow-wrap: break-word; }
a { color: var(--refkit-accent); }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, [tabindex]:focus-visible { outline: 3px solid var(--refkit-accent); outline-offset: 2px; }
[hidden] { display: none !important; }
.refkit-top, main { max-width: 60rem; margin: 0 auto; padding: 0 1rem; }
.refkit-top { padding-top: .75rem; }
main { padding-bottom: 3rem; }
h1 { font-size: 1.6rem; line-height: 1.25; margin: .75rem 0 .25rem; }
h2 { font-size: 1.2rem; line-height: 1.3; margin: 0 0 .75rem; }
h3 { font-size: 1rem; margin: 1.25rem 0 .5rem; }
p { margin: .5rem 0; }
.refkit-sub, .refkit-muted, .refkit-help { color: var(--refkit-muted); }
.refkit-panel { background: var(--refkit-surface); border: 1px solid var(--refkit-border); border-radius: var(--refkit-radius); padding: 1rem; margin-top: 1rem; min-width: 0; }
.refkit-share { display: flex; flex-wrap: wrap; gap: 1rem 2rem; align-items: flex-start; }
.refkit-share > div { flex: 1 1 18rem; min-width: 0; }
.refkit-share > h2 { flex-basis: 100%; margin-bottom: 0; }
label { display: block; font-weight: 600; margin-bottom: .25rem; }
.refkit-field { display: flex; flex-wrap: wrap; gap: .5rem; }
input, select, button { font: inherit; border-radius: 6px; }
.refkit-field input { flex: 1 1 14rem; min-width: 0; width: 100%; padding: .5rem .65rem; border: 1px solid #7b8794; background: var(--refkit-surface); color: var(--refkit-text); font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }
select { padding: .4rem .5rem; border: 1px solid #7b8794; background: var(--refkit-surface); color: var(--refkit-text); max-width: 100%; }
button { padding: .5rem .9rem; border: 1px solid var(--refkit-accent); background: var(--refkit-accent); color: var(--refkit-on-accent); cursor: pointer; }
.refkit-status { min-height: 1.5em; margin: .25rem 0; color: var(--refkit-muted); }
code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .95em; overflow-wrap: anywhere; }
.refkit-notice { border-left: 4px solid var(--refkit-accent); padding: .25rem .75rem; }
.refkit-share-links { list-style: none; padding: 0; margin: .5rem 0 0; display: flex; flex-wrap: wrap; gap: .5rem; }
.refkit-share-links a { display: inline-block; padding: .3rem .85rem; border: 1px solid var(--refkit-accent); border-radius: 999px; text-decoration: none; background: var(--refkit-surface); }
.refkit-share h3 { margin-top: 1rem; }
.refkit-qr { margin: 0; flex: 0 0 auto; text-align: center; }
.refkit-qr svg { display: block; width: 11rem; height: 11rem; max-width: 100%; margin: 0 auto; }
.refkit-qr figcaption { font-size: .85rem; color: var(--refkit-muted); max-width: 11rem; }
.refkit-pick { display: flex; flex-wrap: wrap; gap: .5rem; align-items: flex-end; margin-top: 1rem; }
.refkit-pick > div { flex: 1 1 12rem; min-width: 0; }
.refkit-pick select { width: 100%; }
.refkit-periods { list-style: none; padding: 0; margin: 0 0 .5rem; display: flex; flex-wrap: wrap; gap: .5rem; }
.refkit-periods a { display: inline-block; padding: .2rem .75rem; border: 1px solid var(--refkit-border); border-radius: 999px; text-decoration: none; background: var(--refkit-surface); }
.refkit-periods a[aria-current="true"] { background: var(--refkit-accent); border-color: var(--refkit-accent); color: var(--refkit-on-accent); }
.refkit-cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 9rem), 1fr)); gap: .75rem; margin: .75rem 0; padding: 0; }
.refkit-card { border: 1px solid var(--refkit-border); border-radius: var(--refkit-radius); padding: .6rem .85rem; margin: 0; }
.refkit-card dt { color: var(--refkit-muted); font-size: .85rem; }
.refkit-card dd { margin: 0; font-size: 1.5rem; font-weight: 650; font-variant-numeric: tabular-nums; }
.refkit-card dd small { display: block; font-size: .8rem; font-weight: 400; color: var(--refkit-muted); }
.refkit-charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 22rem), 1fr)); gap: .75rem; margin-top: .75rem; }
figure.chart { margin: 0; min-width: 0; }
figure.chart svg { width: 100%; height: auto; display: block; }
figure.chart figcaption { color: var(--refkit-muted); font-size: .85rem; margin-top: .25rem; }
svg text { font: 13px var(--refkit-font); fill: var(--refkit-muted); }
svg .axis-title { font-weight: 600; }
.refkit-clicks rect { fill: var(--refkit-accent); }
.refkit-conversions rect { fill: var(--refkit-text); }
.refkit-scroll { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; width: 100%; font-size: .95rem; }
caption { text-align: left; color: var(--refkit-muted); font-size: .9rem; padding-bottom: .35rem; }
th, td { text-align: left; padding: .45rem .6rem; border-bottom: 1px solid var(--refkit-border); vertical-align: top; }
thead th { font-size: .85rem; color: var(--refkit-muted); font-weight: 600; }
td.refkit-num, th.refkit-num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.refkit-you { font-weight: 650; }
.refkit-tag { display: inline-block; padding: 0 .5rem; border-radius: 999px; font-size: .8rem; border: 1px solid currentColor; }
details { margin-top: .75rem; }
summary { cursor: pointer; color: var(--refkit-accent); }
.refkit-bar { display: block; width: 100%; height: 1.25rem; margin: .25rem 0 .5rem; }
.refkit-bar rect, .refkit-swatch { fill: var(--refkit-accent); background: var(--refkit-accent); }
.refkit-bar .refkit-back { fill: var(--refkit-border); }
.refkit-state-paid { opacity: 1; } .refkit-state-payable { opacity: .7; } .refkit-state-held { opacity: .45; } .refkit-state-pending { opacity: .25; }
.refkit-swatch { display: inline-block; width: .8rem; height: .8rem; border-radius: 2px; margin-right: .35rem; vertical-align: -.05rem; }
.refkit-legend { list-style: none; padding: 0; margin: .5rem 0; display: grid; gap: .25rem; font-size: .9rem; }
@media (max-width: 40rem) {
  /* A chart is drawn 640 units wide: on a phone, larger units keep its text about 10 px on screen. */
  svg text { font-size: 20px; } svg .y-title, svg .x-title { display: none; }
  .refkit-top, main { padding-left: .75rem; padding-right: .75rem; }
  .refkit-panel { padding: .75rem; }
  h1 { font-size: 1.4rem; }
}
`;
