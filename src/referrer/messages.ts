import { RefkitError } from "../errors.js";

/**
 * Every text of the referrer's page, for an application to translate or reword (the option `messages`). Plain
 * strings are shown as they are (escaped); functions make the texts that hold a number, an amount or a name.
 * A function given a count receives it twice: the number, to choose a plural form, and the same number
 * formatted for the page's `locale`, to show. Amounts arrive formatted (`$5.00`, `5,00 €`).
 */
export interface ReferrerMessages {
	/** The page's title and its one heading. */
	title: string;
	/** The sentence under the heading. */
	intro: string;
	/** The link back to the application's home page (`/`). */
	home: string;

	/** The heading of the link's section. */
	linkHeading: string;
	/** The label of the field that holds the link. */
	linkLabel: string;
	/** Before the link's identifier, which a referred user may also type as a code. */
	codeLabel: string;
	/** The copy button (shown only with JavaScript). */
	copy: string;
	/** Announced when the link was copied. */
	copied: string;
	/** Announced when the browser would not copy: the link is then selected. */
	copyFailed: string;
	/** Said of a disabled link. */
	linkDisabled: string;
	/** Said when the user has no link (and `createLink` is off). */
	noLink: string;
	/** The label of the list that picks one of several links. */
	chooseLink: string;
	/** The list's choice for every link at once. */
	allLinks: string;
	/** A disabled link in that list: `abc123 (disabled)`. */
	disabledLink: (identifier: string) => string;
	/** The button that applies the choice (pages work without JavaScript). */
	show: string;

	/** The heading above the share links. */
	shareHeading: string;
	/** The accessible name of a share link that opens a network's page in a new tab. */
	shareOn: (network: string) => string;
	/** The share-by-email link's text. */
	shareByEmail: string;
	/** The subject of the share-by-email message. */
	emailSubject: string;
	/** The text shared with the link (email body, WhatsApp, X). */
	shareMessage: string;
	/** The accessible name of the QR code. */
	qrLabel: string;
	/** The caption under the QR code. */
	qrHint: string;

	/** The accessible name of the period's links. */
	periodLabel: string;
	/** A period's link: `Last 30 days`. */
	lastDays: (days: number, formatted: string) => string;
	/** The period's days, formatted: `Nov 8 – Dec 7, 2026 (UTC)`. */
	periodRange: (from: string, to: string) => string;

	/** The heading of the funnel's section. */
	funnelHeading: string;
	/** Clicks on the user's links (and codes typed). */
	clicks: string;
	/** A goal's name as a count's label: `signup` reads `Sign-ups`. */
	goal: (goal: string) => string;
	/** Under a goal's count: its conversion rate. */
	ofClicks: (rate: string) => string;
	/** Conversions of the period taken back since (refunds, fraud). */
	reversedSince: (count: number, formatted: string) => string;
	/** The clicks chart's title. */
	clicksPerDay: string;
	/** The conversions chart's title. */
	conversionsPerDay: string;
	/** The clicks chart's unit. */
	clicksUnit: string;
	/** The conversions chart's unit. */
	conversionsUnit: string;
	/** The charts' x axis. */
	dayAxis: string;
	/** A chart's description for screen readers; the numbers and days already formatted. */
	chartDescription: (input: { total: string; unit: string; from: string; to: string; max: string }) => string;
	/** The disclosure that shows every day's numbers as a table. */
	dailyTable: string;
	/** The day column. */
	day: string;
	/** The totals row. */
	total: string;
	/** The funnel table's caption. */
	funnelCaption: string;

	/** The heading of the earnings' section. */
	earningsHeading: string;
	/** Said without any earnings. */
	noEarnings: string;
	/** The currency column. */
	currency: string;
	/** Earned, waiting for the holding period (the refund window) to end. */
	pending: string;
	/** Held for review. */
	held: string;
	/** Payable at the next payout. */
	payable: string;
	/** Paid out. */
	paid: string;
	/** What pending means. */
	pendingHelp: string;
	/** What held means. */
	heldHelp: string;
	/** What payable means. */
	payableHelp: string;
	/** What paid means. */
	paidHelp: string;
	/** The earnings table's caption. */
	earningsCaption: string;
	/** The accessible name of one currency's bar. */
	earningsChart: (currency: string) => string;
	/** Said when refunds after a payout made the payable balance negative. */
	negativePayable: (amount: string) => string;
	/** The heading of the upcoming payable dates. */
	upcomingHeading: string;
	/** The date column. */
	date: string;
	/** The amount column. */
	amount: string;

	/** The heading of the payouts' section. */
	payoutsHeading: string;
	/** Said without payouts. */
	noPayouts: string;
	/** A payout's status: `created` (to be paid), `paid` or `failed`. */
	payoutStatus: (status: "created" | "paid" | "failed") => string;
	/** The status column. */
	status: string;
	/** The paid-on column. */
	paidOn: string;
	/** The transfer's reference column. */
	reference: string;

	/** The heading of the recent referrals. */
	referralsHeading: string;
	/** Said without referrals. */
	noReferrals: string;
	/** The time column. */
	when: string;
	/** The person column. */
	who: string;
	/** The goal column. */
	goalColumn: string;
	/** A referral's goal, in its row: `signup` reads `Sign-up`. */
	referralGoal: (goal: string) => string;
	/** A referral that counts. */
	counted: string;
	/** A referral reversed since. */
	reversed: string;
	/** A referred user the application does not name (`displayName`): their alias, 6 hexadecimal digits. */
	referralName: (alias: string) => string;

	/** The heading of the terms. */
	termsHeading: string;
	/** A program's heading, when the user's links earn under more than one. */
	programHeading: (id: string) => string;
	/** What a goal is, as a verb: `signup` reads `signs up` ("when someone you refer signs up"). */
	goalAction: (goal: string) => string;
	/** A goal rule in words; `referrer` is what the user earns, `referred` what their friend gets (or `null`). */
	goalRule: (input: {
		goal: string;
		action: string;
		referrer: string | null;
		referred: string | null;
	}) => string;
	/**
	 * A sale rule in words: `percent` (`20%`) or `amount` of each payment, and its limits (`null` when the rule
	 * has none): months after the referral, the first sales, the smallest sale, the most per referral.
	 */
	saleRule: (input: {
		percent: string | null;
		amount: string | null;
		months: number | null;
		maxSales: number | null;
		minimumSale: string | null;
		capPerReferral: string | null;
	}) => string;
	/** The holding period, in days (0: payable at once). */
	holdingPeriod: (days: number, formatted: string) => string;
	/** The smallest payout, or `null` when any positive balance is paid. */
	minimumPayout: (amount: string | null) => string;

	/** The heading of the leaderboard. */
	leaderboardHeading: string;
	/** The leaderboard's caption. */
	leaderboardCaption: string;
	/** The rank column. */
	rank: string;
	/** The name column. */
	name: string;
	/** The conversions column. */
	conversions: string;
	/** Marks the user's own row. */
	you: string;
	/** A referrer the application does not name: their alias. */
	referrerName: (alias: string) => string;
	/** Said when nobody is on the leaderboard for the period. */
	noLeaderboard: string;

	/** The 401 page's heading (not logged in, without a `loginUrl`). */
	unauthenticatedTitle: string;
	/** The 401 page's (and JSON answer's) text. */
	unauthenticated: string;
	/** The 400 page's heading. */
	badRequestTitle: string;
	/** The 400 text for a period other than those offered. */
	badDays: (allowed: string) => string;
	/** The 400 text for a query parameter given twice (`days` or `link`). */
	repeated: (parameter: string) => string;
	/** The 404 page's heading. */
	notFoundTitle: string;
	/** The 404 text for a link that is not one of the user's. */
	linkNotFound: string;
	/** The 503 page's heading. */
	unavailableTitle: string;
	/** The 503 text. */
	unavailable: string;
	/** The error pages' link back to the page. */
	back: string;
}

const GOAL_NAMES: Record<string, string> = { signup: "Sign-ups", purchase: "Purchases" };
const GOAL_NAME: Record<string, string> = { signup: "Sign-up", purchase: "Purchase" };

/** `first_purchase` → `First purchase`. */
function capitalized(goal: string): string {
	return `${goal.charAt(0).toUpperCase()}${goal.slice(1).replace(/_/g, " ")}`;
}
const GOAL_ACTIONS: Record<string, string> = { signup: "signs up", purchase: "makes a purchase" };

function plural(count: number, formatted: string, one: string, many: string): string {
	return `${formatted} ${count === 1 ? one : many}`;
}

function saleRule(input: Parameters<ReferrerMessages["saleRule"]>[0]): string {
	const base =
		input.percent !== null
			? `You earn ${input.percent} of every payment made by someone you refer`
			: `You earn ${input.amount ?? ""} for every payment made by someone you refer`;
	const limits = [
		input.months !== null
			? `during the first ${input.months === 1 ? "month" : `${input.months} months`} after they were referred`
			: null,
		input.maxSales !== null
			? `on their first ${input.maxSales === 1 ? "payment" : `${input.maxSales} payments`}`
			: null,
		input.minimumSale !== null ? `on payments of at least ${input.minimumSale}` : null,
		input.capPerReferral !== null ? `up to ${input.capPerReferral} per person you refer` : null,
	].filter((limit) => limit !== null);
	return `${[base, ...limits].join(", ")}.`;
}

/** The English texts of the page: what an application's `messages` replace, one by one. */
export const DEFAULT_REFERRER_MESSAGES: Readonly<ReferrerMessages> = Object.freeze({
	title: "Your referrals",
	intro: "Share your link with friends: what they do through it, and what it earns you, shows here.",
	home: "Back to the site",

	linkHeading: "Your link",
	linkLabel: "Your referral link",
	codeLabel: "Your code",
	copy: "Copy link",
	copied: "Copied",
	copyFailed: "The link is selected: press Ctrl+C (⌘C on a Mac) to copy it.",
	linkDisabled: "This link is disabled: visits through it are not counted.",
	noLink: "You have no referral link yet.",
	chooseLink: "Link",
	allLinks: "All links",
	disabledLink: (identifier) => `${identifier} (disabled)`,
	show: "Show",

	shareHeading: "Share it",
	shareOn: (network) => `Share on ${network} (opens in a new tab)`,
	shareByEmail: "Email",
	emailSubject: "An invitation for you",
	shareMessage: "Here is my referral link:",
	qrLabel: "QR code of your referral link",
	qrHint: "Scan it with a phone's camera to open your link.",

	periodLabel: "Period",
	lastDays: (_days, formatted) => `Last ${formatted} days`,
	periodRange: (from, to) => `${from} – ${to} (UTC)`,

	funnelHeading: "Clicks and conversions",
	clicks: "Clicks",
	goal: (goal) => (Object.hasOwn(GOAL_NAMES, goal) ? (GOAL_NAMES[goal] as string) : capitalized(goal)),
	ofClicks: (rate) => `${rate} of clicks`,
	reversedSince: (count, formatted) =>
		`${plural(count, formatted, "conversion", "conversions")} of this period ${count === 1 ? "was" : "were"} reversed since (a refund or a cancellation).`,
	clicksPerDay: "Clicks per day",
	conversionsPerDay: "Conversions per day",
	clicksUnit: "clicks",
	conversionsUnit: "conversions",
	dayAxis: "Day (UTC)",
	chartDescription: ({ total, unit, from, to, max }) =>
		`${total} ${unit} from ${from} to ${to}; the most in one day: ${max}.`,
	dailyTable: "Every day's numbers",
	day: "Day",
	total: "Total",
	funnelCaption: "Your clicks and conversions in this period",

	earningsHeading: "Your earnings",
	noEarnings: "No earnings yet: they show here as soon as someone you refer earns you something.",
	currency: "Currency",
	pending: "Pending",
	held: "Held",
	payable: "Payable",
	paid: "Paid",
	pendingHelp: "earned, waiting for the refund window to end.",
	heldHelp: "waiting for a review.",
	payableHelp: "to be paid with the next payout.",
	paidHelp: "paid out to you.",
	earningsCaption: "Your earnings by state",
	earningsChart: (currency) => `Your earnings in ${currency}, by state`,
	negativePayable: (amount) =>
		`Refunds after a payout took back ${amount} more than you have earned since: it is deducted from your next earnings.`,
	upcomingHeading: "Becoming payable",
	date: "Date",
	amount: "Amount",

	payoutsHeading: "Payouts",
	noPayouts: "No payouts yet.",
	payoutStatus: (status) => ({ created: "To be paid", paid: "Paid", failed: "Failed" })[status],
	status: "Status",
	paidOn: "Paid on",
	reference: "Reference",

	referralsHeading: "Recent referrals",
	noReferrals: "Nobody has signed up through your link yet.",
	when: "When",
	who: "Who",
	goalColumn: "Goal",
	referralGoal: (goal) => GOAL_NAME[goal] ?? capitalized(goal),
	counted: "Counted",
	reversed: "Reversed",
	referralName: (alias) => `Referral #${alias}`,

	termsHeading: "How you earn",
	programHeading: (id) => `Program ${id}`,
	goalAction: (goal) => GOAL_ACTIONS[goal] ?? `reaches the goal “${goal}”`,
	goalRule: ({ action, referrer, referred }) => {
		if (referrer !== null && referred !== null)
			return `You earn ${referrer} when someone you refer ${action}, and they get ${referred}.`;
		if (referrer !== null) return `You earn ${referrer} when someone you refer ${action}.`;
		if (referred !== null) return `When someone you refer ${action}, they get ${referred}.`;
		return `Nothing is earned when someone you refer ${action}.`;
	},
	saleRule,
	holdingPeriod: (days, formatted) =>
		days === 0
			? "Earnings are payable at once."
			: `Earnings become payable ${plural(days, formatted, "day", "days")} after they are earned, once the refund window is over.`,
	minimumPayout: (amount) =>
		amount === null
			? "Any positive balance is paid at the next payout."
			: `Payouts are made once your payable balance reaches ${amount}.`,

	leaderboardHeading: "Leaderboard",
	leaderboardCaption: "The top referrers of this period",
	rank: "Rank",
	name: "Name",
	conversions: "Conversions",
	you: "You",
	referrerName: (alias) => `Referrer #${alias}`,
	noLeaderboard: "Nobody is on the leaderboard for this period yet.",

	unauthenticatedTitle: "Log in to see your referrals",
	unauthenticated: "This page shows your own referrals: log in first.",
	badRequestTitle: "Bad request",
	badDays: (allowed) => `The period must be one of ${allowed} days.`,
	repeated: (parameter) => `Give ${parameter} at most once.`,
	notFoundTitle: "Not found",
	linkNotFound: "You have no link with this identifier.",
	unavailableTitle: "Unavailable",
	unavailable: "Your referrals could not be read just now. The error was reported; try again in a moment.",
	back: "Back to your referrals",
} satisfies ReferrerMessages);

/**
 * The page's texts: the defaults with the application's `messages` over them. Throws `INVALID_OPTION` for an
 * unknown key, or a value of the wrong kind (a string where a function is expected, or the reverse).
 */
export function mergeMessages(messages: unknown): ReferrerMessages {
	if (messages === undefined) return DEFAULT_REFERRER_MESSAGES;
	if (typeof messages !== "object" || messages === null || Array.isArray(messages)) {
		throw new RefkitError(
			"INVALID_OPTION",
			'refkit: the referrer page\'s messages must be an object of texts, such as { title: "Vos parrainages" }.',
		);
	}
	const merged: Record<string, unknown> = { ...DEFAULT_REFERRER_MESSAGES };
	for (const [key, value] of Object.entries(messages)) {
		const fallback = (DEFAULT_REFERRER_MESSAGES as unknown as Record<string, unknown>)[key];
		if (fallback === undefined || !Object.hasOwn(DEFAULT_REFERRER_MESSAGES, key)) {
			throw new RefkitError(
				"INVALID_OPTION",
				`refkit: the referrer page has no message ${JSON.stringify(key)}; see ReferrerMessages for their names.`,
			);
		}
		if (value === undefined) continue;
		if (typeof value !== typeof fallback) {
			const kind = typeof fallback === "function" ? "a function" : "a string";
			throw new RefkitError(
				"INVALID_OPTION",
				`refkit: the referrer page's message ${key} must be ${kind} (got ${typeof value}).`,
			);
		}
		merged[key] = value;
	}
	return Object.freeze(merged) as unknown as ReferrerMessages;
}
