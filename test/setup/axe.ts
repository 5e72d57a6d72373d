import { AxeBuilder } from "@axe-core/playwright";
import type { Page } from "playwright-core";

/**
 * Accessibility audits for browser tests, with axe-core (through `@axe-core/playwright`, pinned to 4.13: 4.14
 * needs Node 22). Any page of any app can be audited:
 *
 * ```ts
 * await page.goto(url);
 * const violations = await seriousViolations(page);
 * expect(violations, formatViolations(violations, "the overview, 360 px")).toEqual([]);
 * ```
 *
 * On a strict Content-Security-Policy (the dashboard's is `default-src 'none'`, with no `script-src`): the
 * builder injects axe-core with `page.evaluate()`, which runs through the DevTools protocol, and the protocol's
 * evaluations are not subject to the page's CSP; the final step runs in a blank page of the same context,
 * which has no CSP at all. So no `bypassCSP` is needed, and the page is audited with the very headers it is
 * served with (test/browser/accessibility.test.ts checks that the CSP is in force while it audits).
 */

/** axe-core's result of one rule, as `AxeBuilder.analyze()` reports it. */
type AxeResult = Awaited<ReturnType<AxeBuilder["analyze"]>>["violations"][number];

/** How bad axe says a violation is. */
export type Impact = "minor" | "moderate" | "serious" | "critical";

/** The impacts a test fails on by default: what keeps someone from reading or using the page. */
export const SERIOUS_IMPACTS: readonly Impact[] = ["serious", "critical"];

/** One element that breaks a rule. */
export interface ViolationNode {
	/**
	 * The element's CSS selector: one per frame on the way to it, outermost first; within a frame, the
	 * selectors through shadow roots joined with ` >>> `.
	 */
	target: string[];
	/** The start of the element's markup. */
	html: string;
	/** What to fix, in axe's words ("Fix any of the following: ..."). */
	failureSummary: string;
}

/** A rule the page breaks, with the elements that break it: axe's result, trimmed to what a reader needs. */
export interface Violation {
	/** The rule's id, such as `color-contrast`. */
	id: string;
	impact: Impact;
	/** What the rule asks, in a line. */
	help: string;
	/** Deque's page about the rule. */
	helpUrl: string;
	nodes: ViolationNode[];
}

/** What to audit, and against which rules. Unless told, the whole page against every rule axe runs by default. */
export interface AuditOptions {
	/** Audit only within these CSS selectors. */
	include?: string[];
	/** Leave out these CSS selectors (such as a third-party widget the test cannot fix). */
	exclude?: string[];
	/** Run only the rules with these tags, such as `["wcag2a", "wcag2aa"]`. */
	tags?: string[];
	/** Rule ids not to run; say in the test why. */
	disableRules?: string[];
	/** The impacts to report; {@link SERIOUS_IMPACTS} unless told. */
	impacts?: readonly Impact[];
}

/**
 * The violations of the page as it is now (audit after it has finished loading and after any interaction
 * the audit is about), of serious or critical impact unless `options.impacts` says otherwise. An empty array
 * when there are none. Throws when axe cannot run.
 */
export async function seriousViolations(page: Page, options: AuditOptions = {}): Promise<Violation[]> {
	let builder = new AxeBuilder({ page });
	for (const selector of options.include ?? []) builder = builder.include(selector);
	for (const selector of options.exclude ?? []) builder = builder.exclude(selector);
	if (options.tags) builder = builder.withTags(options.tags);
	if (options.disableRules) builder = builder.disableRules(options.disableRules);
	const results = await builder.analyze();
	const impacts = options.impacts ?? SERIOUS_IMPACTS;
	return results.violations
		.filter((result): result is AxeResult & { impact: Impact } => impacts.includes(result.impact as Impact))
		.map((result) => ({
			id: result.id,
			impact: result.impact,
			help: result.help,
			helpUrl: result.helpUrl,
			nodes: result.nodes.map((node) => ({
				target: node.target.map((part) => (Array.isArray(part) ? part.join(" >>> ") : String(part))),
				html: node.html,
				failureSummary: node.failureSummary ?? "",
			})),
		}));
}

/**
 * The violations as a message for `expect(violations, formatViolations(violations, where)).toEqual([])`:
 * where the audit was, then per rule its id, impact, help and link, and each failing element's selector,
 * markup and what to fix. "" when there are none.
 */
export function formatViolations(violations: readonly Violation[], where = ""): string {
	if (violations.length === 0) return "";
	const count = violations.reduce((sum, violation) => sum + violation.nodes.length, 0);
	const lines = [
		`${where ? `${where}: ` : ""}${violations.length} accessibility rule(s) broken on ${count} element(s)`,
	];
	for (const violation of violations) {
		lines.push("", `[${violation.impact}] ${violation.id}: ${violation.help}`, `  ${violation.helpUrl}`);
		for (const node of violation.nodes) {
			lines.push(`  - ${node.target.join(" → ")}`, `    ${node.html.replace(/\s+/g, " ").slice(0, 200)}`);
			for (const line of node.failureSummary.split("\n")) lines.push(`    ${line.trim()}`);
		}
	}
	return lines.join("\n");
}
