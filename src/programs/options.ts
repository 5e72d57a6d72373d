import { invalidOption } from "../core/arguments.js";
import { basisPoints, isCurrency, MAX_AMOUNT } from "./money.js";
import type { NamedRule, Program, ProgramOptions } from "./types.js";

/** What the review hook is asked about: a commission about to be written. */
export interface ReviewCandidate {
	userId: string;
	role: "referrer" | "referred";
	program: string;
	rule: string;
	amount: number;
	currency: string;
	sourceType: "conversion" | "sale";
	sourceId: string;
	/** The referred user and the referrer of the referral it comes from. */
	referredUserId: string;
	referrerUserId: string;
}

/** The review's answer: `approve` (the usual holding period) or hold for an admin, with a reason they will read. */
export type ReviewDecision = "approve" | { hold: string };

/** Option `review` of `createRefkit()`: what holds a commission for an admin instead of approving it. */
export interface ReviewOptions {
	/** Hold when the referred user's credited visit came from an IP address the referrer used. Default `false`. */
	sameIp?: boolean | undefined;
	/** Hold when that visit's browser (its User-Agent) is one the referrer's own visits had. Default `false`. */
	sameBrowser?: boolean | undefined;
	/** Hold a referrer's commissions beyond this many in an hour. Default: no limit. */
	maxPerHour?: number | undefined;
	/** The application's own decision, after the built-in checks passed. Runs in the ledger's transaction. */
	hook?: ((candidate: ReviewCandidate) => ReviewDecision | Promise<ReviewDecision>) | undefined;
}

/** The programs after validation: by id, and the default one. */
export interface ResolvedPrograms {
	readonly byId: ReadonlyMap<string, Program>;
	readonly default: Program | null;
	readonly review: Readonly<ReviewOptions>;
}

const PROGRAM_ID = /^[A-Za-z0-9_.-]{1,64}$/;
const GOAL = /^[A-Za-z0-9_.:-]{1,64}$/;
const KNOWN_PROGRAM = new Set(["id", "currency", "holdDays", "minimumPayout", "rules"]);
const KNOWN_GOAL = new Set(["on", "goal", "referrer", "referred"]);
const KNOWN_SALE = new Set([
	"on",
	"percent",
	"amount",
	"months",
	"maxSales",
	"capPerReferral",
	"minimumSale",
]);

function amountOption(value: unknown, name: string): number | undefined {
	if (value === undefined) return undefined;
	if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > MAX_AMOUNT) {
		invalidOption(
			`${name} must be a whole number of minor units (cents) from 0, such as 500 for 5.00 (got ${JSON.stringify(value)}).`,
		);
	}
	return value;
}

function countOption(value: unknown, name: string, max: number): number | undefined {
	if (value === undefined) return undefined;
	if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > max) {
		invalidOption(`${name} must be a whole number from 1 to ${max} (got ${JSON.stringify(value)}).`);
	}
	return value;
}

function unknownKeys(value: object, known: Set<string>, name: string): void {
	for (const key of Object.keys(value)) {
		if (!known.has(key)) invalidOption(`${name}.${key} is not an option (known: ${[...known].join(", ")}).`);
	}
}

function resolveRule(rule: unknown, name: string, sales: number): NamedRule {
	if (typeof rule !== "object" || rule === null) invalidOption(`${name} must be an object with "on".`);
	const r = rule as Record<string, unknown>;
	if (r.on === "goal") {
		unknownKeys(r, KNOWN_GOAL, name);
		if (typeof r.goal !== "string" || !GOAL.test(r.goal)) {
			invalidOption(`${name}.goal must be a goal name such as "signup" (got ${JSON.stringify(r.goal)}).`);
		}
		const referrer = amountOption(r.referrer, `${name}.referrer`);
		const referred = amountOption(r.referred, `${name}.referred`);
		if (referrer === undefined && referred === undefined) {
			invalidOption(`${name} rewards nobody: give "referrer", "referred" or both, in minor units.`);
		}
		return Object.freeze({ on: "goal", goal: r.goal, referrer, referred, name: r.goal });
	}
	if (r.on === "sale") {
		unknownKeys(r, KNOWN_SALE, name);
		const percent = r.percent;
		if (percent !== undefined && basisPoints(percent) === null) {
			invalidOption(
				`${name}.percent must be a percentage from 0 to 100 with at most two decimals (got ${JSON.stringify(percent)}).`,
			);
		}
		const amount = amountOption(r.amount, `${name}.amount`);
		if ((percent === undefined) === (amount === undefined)) {
			invalidOption(
				`${name} needs either "percent" (of each sale) or "amount" (per sale), not both or neither.`,
			);
		}
		const capPerReferral = amountOption(r.capPerReferral, `${name}.capPerReferral`);
		if (capPerReferral !== undefined && amount !== undefined && capPerReferral < amount) {
			invalidOption(
				`${name}.capPerReferral (${capPerReferral}) is below the amount of one sale (${amount}): no sale could earn it whole.`,
			);
		}
		return Object.freeze({
			on: "sale",
			percent: percent as number | undefined,
			amount,
			months: countOption(r.months, `${name}.months`, 1200),
			maxSales: countOption(r.maxSales, `${name}.maxSales`, 1_000_000),
			capPerReferral,
			minimumSale: amountOption(r.minimumSale, `${name}.minimumSale`),
			name: sales === 0 ? "sale" : `sale:${sales + 1}`,
		});
	}
	invalidOption(`${name}.on must be "goal" or "sale" (got ${JSON.stringify(r.on)}).`);
}

function resolveProgram(value: unknown, index: number, isDefault: boolean): Program {
	const name = `options.programs[${index}]`;
	if (typeof value !== "object" || value === null) invalidOption(`${name} must be an object.`);
	const p = value as ProgramOptions;
	unknownKeys(p, KNOWN_PROGRAM, name);
	if (typeof p.id !== "string" || !PROGRAM_ID.test(p.id)) {
		invalidOption(
			`${name}.id must be 1 to 64 letters, digits, "_", "-" or "." (got ${JSON.stringify(p.id)}).`,
		);
	}
	if (!isCurrency(p.currency)) {
		invalidOption(
			`${name}.currency must be an ISO 4217 code in capitals, such as "USD" (got ${JSON.stringify(p.currency)}).`,
		);
	}
	const holdDays = p.holdDays ?? 30;
	if (typeof holdDays !== "number" || !Number.isInteger(holdDays) || holdDays < 0 || holdDays > 3650) {
		invalidOption(
			`${name}.holdDays must be a whole number of days from 0 to 3650 (got ${JSON.stringify(holdDays)}).`,
		);
	}
	const minimumPayout = amountOption(p.minimumPayout, `${name}.minimumPayout`) ?? 0;
	if (!Array.isArray(p.rules) || p.rules.length === 0)
		invalidOption(`${name}.rules must be a non-empty list.`);
	const rules: NamedRule[] = [];
	for (const [i, rule] of p.rules.entries()) {
		const resolved = resolveRule(rule, `${name}.rules[${i}]`, rules.filter((r) => r.on === "sale").length);
		if (rules.some((r) => r.name === resolved.name)) {
			invalidOption(`${name} has two rules for the goal "${resolved.name}": give each goal one rule.`);
		}
		rules.push(resolved);
	}
	return Object.freeze({
		id: p.id,
		currency: p.currency,
		holdDays,
		minimumPayout,
		isDefault,
		rules: Object.freeze(rules),
	});
}

function resolveReview(review: unknown): Readonly<ReviewOptions> {
	if (review === undefined) return Object.freeze({});
	if (typeof review !== "object" || review === null) invalidOption("options.review must be an object.");
	const r = review as ReviewOptions;
	unknownKeys(r, new Set(["sameIp", "sameBrowser", "maxPerHour", "hook"]), "options.review");
	for (const key of ["sameIp", "sameBrowser"] as const) {
		if (r[key] !== undefined && typeof r[key] !== "boolean")
			invalidOption(`options.review.${key} must be true or false.`);
	}
	countOption(r.maxPerHour, "options.review.maxPerHour", 1_000_000);
	if (r.hook !== undefined && typeof r.hook !== "function") {
		invalidOption('options.review.hook must be a function (candidate) => "approve" | { hold: reason }.');
	}
	return Object.freeze({ ...r });
}

/** Checks options `programs`, `defaultProgram` and `review`; throws `INVALID_OPTION` with what to change. */
export function resolvePrograms(
	programs: unknown,
	defaultProgram: unknown,
	review: unknown,
): ResolvedPrograms {
	if (programs === undefined) {
		if (defaultProgram !== undefined)
			invalidOption("options.defaultProgram names a program, but options.programs is empty.");
		return Object.freeze({ byId: new Map(), default: null, review: resolveReview(review) });
	}
	if (!Array.isArray(programs)) invalidOption("options.programs must be a list of programs.");
	const ids = programs.map((p: { id?: unknown }) => (typeof p === "object" && p !== null ? p.id : undefined));
	const defaultId = defaultProgram ?? ids[0];
	if (defaultProgram !== undefined && !ids.includes(defaultProgram)) {
		invalidOption(
			`options.defaultProgram is ${JSON.stringify(defaultProgram)}, which no program of options.programs is.`,
		);
	}
	const byId = new Map<string, Program>();
	for (const [i, value] of programs.entries()) {
		const program = resolveProgram(value, i, ids[i] === defaultId);
		if (byId.has(program.id)) invalidOption(`options.programs has two programs named "${program.id}".`);
		byId.set(program.id, program);
	}
	return Object.freeze({
		byId,
		default: byId.get(defaultId as string) ?? null,
		review: resolveReview(review),
	});
}
