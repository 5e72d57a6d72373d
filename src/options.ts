import { randomBytes } from "node:crypto";
import { invalidOption } from "./core/arguments.js";
import { COOKIE_NAME, type CookieAttributes } from "./core/cookies.js";
import type { IpStorage, TrustProxy } from "./core/ip.js";
import { safeRedirectPath } from "./core/safe-redirect.js";
import { explainSkips, type SkippedHit } from "./core/skips.js";
import { type ResolvedPrograms, type ReviewOptions, resolvePrograms } from "./programs/options.js";
import type { ProgramOptions } from "./programs/types.js";
import type { DatabaseOption } from "./store/open.js";

/** Where a failure happened that refkit handled without troubling the visitor. */
export interface ErrorContext {
	/**
	 * `follow`: `/ref/<id>`; `ref-param`: `?ref=`; `claim`: giving hits to a user at login; `database`: the pool;
	 * `event`: a listener added with `refkit.on()` threw; `deliver`: an outbox handler failed (it is retried);
	 * `dashboard`: the dashboard could not read the database, or `authorize` threw; `billing`: a billing
	 * system's webhook could not be recorded (it answered 500, and the billing system sends it again);
	 * `referrer`: the referrer's page could not read the database, or its `displayName` or `getUserId` threw.
	 */
	operation:
		| "follow"
		| "ref-param"
		| "claim"
		| "confirm"
		| "database"
		| "event"
		| "deliver"
		| "dashboard"
		| "billing"
		| "referrer";
	/** The link identifier involved, when there is one. */
	identifier?: string;
}

/** Options of {@link createRefkit}. Only `database` and `secret` are required. */
export interface RefkitOptions {
	/** A `postgres://` URL, a SQLite file path (`sqlite:`/`file:` prefixes accepted) or a Kysely instance. */
	database: DatabaseOption;
	/**
	 * Signs the visitor cookie (and the dashboard's CSRF tokens): at least 32 characters, kept secret.
	 * Required unless `NODE_ENV` is `development` or `test`, where a fixed development secret is used with a
	 * warning. To rotate it, give a list, newest first: `[newSecret, oldSecret]`. New cookies are signed
	 * with the newest; cookies signed with any listed secret stay valid until you drop it from the list.
	 */
	secret?: string | readonly string[] | undefined;
	cookie?: {
		/** Default `refkit_visitor`. */
		name?: string;
		/** Default `true`: scripts cannot read the cookie. */
		httpOnly?: boolean;
		/** Lifetime in seconds. Default one year. */
		maxAge?: number;
		/** Default `lax`, so the cookie is sent when the visitor comes back from another site. */
		sameSite?: "lax" | "strict" | "none";
		/** Default `false`; set `true` when the site is served over HTTPS. */
		secure?: boolean;
		/** Default `/`. */
		path?: string;
		/** Default: none, the cookie belongs to the exact host. */
		domain?: string;
	};
	/** The query parameter that turns any page into a referral link. Default `ref`. */
	urlParam?: string;
	/** Where visitors go when there is no safe `next` and the link has no target. A same-site path; default `/`. */
	successUrl?: string;
	/** The path referral links live under. Default `/ref`, so links are `/ref/<identifier>`. */
	mountPath?: string;
	/** Whether to read the client's IP from `X-Forwarded-For`; see {@link TrustProxy}. Default `false`. */
	trustProxy?: TrustProxy;
	/**
	 * How much of the visitor's IP address a hit keeps: `full` (default), `truncate` (the last octet of IPv4,
	 * the last 80 bits of IPv6 zeroed: enough for rough location and fraud checks, not for identifying a
	 * household) or `none`.
	 */
	ip?: IpStorage;
	/** Which hit `confirm()` credits when a user followed several links: the `last` (default) or the `first`. */
	attribution?: "last" | "first";
	/** How old, in milliseconds, a hit may be and still earn a conversion. Default 90 days. */
	attributionWindow?: number;
	/** How long after signing up, in milliseconds, a user may still `applyCode()`. Default 30 days. */
	codeWindow?: number;
	/**
	 * Keeps one hit per visitor per link within this many milliseconds: a visitor who follows a link again
	 * sooner is redirected as usual but not recorded again. Default `0`: every visit is recorded.
	 */
	dedupeWindow?: number;
	/**
	 * When a follow's redirect is sent. `"durable"` (default): after its hit is committed (hits arriving
	 * together share one INSERT and one commit), so every redirected hit is in the database even if the
	 * process is killed; except while the database fails or is slower than 1.5 s, when the visitor stops
	 * waiting and the hit waits in memory for the database. `"buffered"`: at once, the hit being written with the next batch, a few milliseconds
	 * later; `close()` writes what is left. Faster on a distant database, but a crash loses the hits of
	 * the batch under way.
	 */
	hitWrites?: "durable" | "buffered";
	/**
	 * Whether to leave out of the hits the requests no person made: bots and link-preview fetchers (by
	 * User-Agent, with isbot; a missing User-Agent counts as a bot) and HEAD requests. They are still
	 * redirected, and `refkit.counters()` counts them. Default `true`.
	 */
	skipBots?: boolean;
	/**
	 * Told of every error refkit absorbed to keep a visitor's request working (the database being down, say).
	 * Default: `console.error`.
	 */
	onError?: (error: unknown, context: ErrorContext) => void;
	/**
	 * Told of every request to an enabled link that was redirected without being recorded (a bot, a link
	 * preview, a HEAD request, a repeat within `dedupeWindow`, no consent); `false` for nobody. Default: in
	 * development (`NODE_ENV=development`), one `console.warn` per reason and User-Agent saying why, so that
	 * a test browser that records nothing says so; elsewhere nobody.
	 */
	onSkip?: ((skip: SkippedHit) => void) | false;
	/**
	 * Referral programs: what referrals earn (goal and sale rules), in which currency, how long commissions
	 * wait before they are payable, and the smallest payout. See docs/programs.md. Default: none, and
	 * `confirm()` records conversions only.
	 */
	programs?: readonly ProgramOptions[] | undefined;
	/** The program of links that name none. Default: the first of `programs`. */
	defaultProgram?: string | undefined;
	/** What holds a commission for review instead of approving it; every check off by default. */
	review?: ReviewOptions | undefined;
}

/** The options after validation, with every default filled in. Frozen. */
export interface ResolvedOptions {
	/** The newest secret: what refkit signs with. */
	readonly secret: string;
	/** Every secret, newest first: what a signature is checked against. */
	readonly secrets: readonly string[];
	readonly cookieName: string;
	/**
	 * The browser cookie's name: `refkit_browser`, or `<cookie.name>_browser` when the visitor cookie is
	 * renamed. It carries the signed browser id that tells self-referrals (see `confirm()`).
	 */
	readonly browserCookieName: string;
	readonly cookie: Readonly<CookieAttributes>;
	readonly urlParam: string;
	readonly successUrl: string;
	readonly mountPath: string;
	readonly trustProxy: TrustProxy;
	readonly ip: IpStorage;
	readonly attribution: "last" | "first";
	readonly attributionWindow: number;
	readonly codeWindow: number;
	readonly dedupeWindow: number;
	readonly hitWrites: "durable" | "buffered";
	readonly skipBots: boolean;
	/** The `onError` given, or the default that logs with `console.error`. */
	readonly onError: (error: unknown, context: ErrorContext) => void;
	/** The `onSkip` given, the development default, or `null` for nobody. */
	readonly onSkip: ((skip: SkippedHit) => void) | null;
	/** The programs by id, the default one, and the review's checks. */
	readonly programs: ResolvedPrograms;
}

const DAY = 24 * 60 * 60 * 1000;
/** The longest window refkit accepts: about 100 years, far inside what a `Date` can hold. */
const MAX_WINDOW = 36_500 * DAY;

/** The defaults, as documented in docs/options.md. */
export const DEFAULTS = Object.freeze({
	cookie: Object.freeze({
		name: "refkit_visitor",
		httpOnly: true,
		maxAge: 60 * 60 * 24 * 365,
		sameSite: "lax",
		secure: false,
		path: "/",
	}),
	urlParam: "ref",
	successUrl: "/",
	mountPath: "/ref",
	trustProxy: false,
	ip: "full",
	attribution: "last",
	attributionWindow: 90 * DAY,
	codeWindow: 30 * DAY,
	dedupeWindow: 0,
	hitWrites: "durable",
	skipBots: true,
});

export const MIN_SECRET_LENGTH = 32;
const DEVELOPMENT_SECRET = "refkit-development-secret-do-not-use-in-production";
const KNOWN = new Set([
	"database",
	"programs",
	"defaultProgram",
	"review",
	"secret",
	"cookie",
	"urlParam",
	"successUrl",
	"mountPath",
	"trustProxy",
	"ip",
	"attribution",
	"attributionWindow",
	"codeWindow",
	"dedupeWindow",
	"hitWrites",
	"skipBots",
	"onError",
	"onSkip",
]);
const KNOWN_COOKIE = new Set(["name", "httpOnly", "maxAge", "sameSite", "secure", "path", "domain"]);

/** The most secrets a rotation list may hold: the newest and a few older ones still being phased out. */
const MAX_SECRETS = 10;

/** The secrets, newest first: a list for rotation, or one secret. */
function resolveSecrets(secret: unknown): readonly string[] {
	if (!Array.isArray(secret)) return [resolveSecret(secret)];
	if (secret.length === 0 || secret.length > MAX_SECRETS) {
		invalidOption(
			`options.secret as a list must hold 1 to ${MAX_SECRETS} secrets, the newest first (got ${secret.length}).`,
		);
	}
	secret.forEach((item, i) => {
		if (typeof item !== "string" || item.length < MIN_SECRET_LENGTH) {
			invalidOption(
				`options.secret[${i}] must be a string of at least ${MIN_SECRET_LENGTH} characters. Generate one with \`openssl rand -hex 32\`.`,
			);
		}
	});
	if (new Set(secret).size !== secret.length) invalidOption("options.secret lists the same secret twice.");
	return Object.freeze([...secret]);
}

function resolveSecret(secret: unknown): string {
	const development = process.env.NODE_ENV === "development" || process.env.NODE_ENV === "test";
	if (secret !== undefined && typeof secret !== "string") {
		invalidOption("options.secret must be a string, or a list of strings (newest first) while rotating.");
	}
	if (typeof secret === "string" && secret.length >= MIN_SECRET_LENGTH) return secret;
	const problem =
		secret === undefined || secret === ""
			? "options.secret is missing"
			: `options.secret must be at least ${MIN_SECRET_LENGTH} characters (got ${secret.length})`;
	if (secret === undefined && process.env.NEXT_PHASE === "phase-production-build") {
		// `next build` loads server modules to collect their settings, serving nobody: the secret is needed by
		// `next start`, where the check applies. A random one signs nothing that could be verified later.
		return randomBytes(32).toString("hex");
	}
	if (!development) {
		invalidOption(
			`${problem}. Generate one with \`openssl rand -hex 32\` and pass it from an environment variable, e.g. secret: process.env.REFKIT_SECRET.`,
		);
	}
	console.warn(`refkit: ${problem}; NODE_ENV is ${process.env.NODE_ENV}, so an insecure secret is used.`);
	return secret || DEVELOPMENT_SECRET;
}

function resolveCookie(cookie: RefkitOptions["cookie"]): { name: string; attributes: CookieAttributes } {
	if (cookie !== undefined && (typeof cookie !== "object" || cookie === null)) {
		invalidOption("options.cookie must be an object.");
	}
	const given = cookie ?? {};
	for (const key of Object.keys(given)) {
		if (!KNOWN_COOKIE.has(key))
			invalidOption(`options.cookie.${key} is not an option (known: ${[...KNOWN_COOKIE].join(", ")}).`);
	}
	const merged = { ...DEFAULTS.cookie, ...given };
	if (typeof merged.name !== "string" || !COOKIE_NAME.test(merged.name)) {
		invalidOption(
			`options.cookie.name must be a cookie name of letters, digits and !#$%&'*+-.^_\`|~ (got ${JSON.stringify(merged.name)}).`,
		);
	}
	if (typeof merged.httpOnly !== "boolean") invalidOption("options.cookie.httpOnly must be a boolean.");
	if (typeof merged.secure !== "boolean") invalidOption("options.cookie.secure must be a boolean.");
	if (!Number.isInteger(merged.maxAge) || merged.maxAge <= 0) {
		invalidOption(`options.cookie.maxAge must be a positive whole number of seconds (got ${merged.maxAge}).`);
	}
	if (!["lax", "strict", "none"].includes(merged.sameSite)) {
		invalidOption(
			`options.cookie.sameSite must be "lax", "strict" or "none" (got ${JSON.stringify(merged.sameSite)}).`,
		);
	}
	if (merged.sameSite === "none" && !merged.secure) {
		invalidOption(
			'options.cookie.sameSite "none" needs options.cookie.secure: true (browsers refuse it otherwise).',
		);
	}
	if (typeof merged.path !== "string" || !/^\/[\x21-\x3a\x3c-\x7e]*$/.test(merged.path)) {
		invalidOption(
			`options.cookie.path must be a path starting with "/" (got ${JSON.stringify(merged.path)}).`,
		);
	}
	const domain = "domain" in given ? given.domain : undefined;
	if (domain !== undefined && (typeof domain !== "string" || !/^\.?[A-Za-z0-9.-]{1,253}$/.test(domain))) {
		invalidOption(`options.cookie.domain must be a host name (got ${JSON.stringify(domain)}).`);
	}
	return {
		name: merged.name,
		attributes: {
			httpOnly: merged.httpOnly,
			maxAge: merged.maxAge,
			sameSite: merged.sameSite,
			secure: merged.secure,
			path: merged.path,
			domain,
		},
	};
}

/** A window in milliseconds: a whole number from `min` to about 100 years. */
function resolveWindow(name: string, value: unknown, fallback: number, min: 0 | 1): number {
	if (value === undefined) return fallback;
	if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > MAX_WINDOW) {
		invalidOption(
			`options.${name} must be a whole number of milliseconds from ${min} to ${MAX_WINDOW}, e.g. 30 * 24 * 60 * 60 * 1000 for 30 days (got ${JSON.stringify(value)}).`,
		);
	}
	return value;
}

/**
 * Checks every option once, fills in the defaults and freezes the result. Throws `INVALID_OPTION` with a
 * message that says what to change.
 */
export function resolveOptions(options: RefkitOptions): ResolvedOptions {
	if (typeof options !== "object" || options === null)
		invalidOption("createRefkit() needs an options object.");
	for (const key of Object.keys(options)) {
		if (!KNOWN.has(key)) invalidOption(`options.${key} is not an option (known: ${[...KNOWN].join(", ")}).`);
	}
	if (options.database === undefined || options.database === null || options.database === "") {
		invalidOption(
			'options.database is missing: give a SQLite file path ("./refkit.sqlite"), a postgres:// URL or a Kysely instance.',
		);
	}
	const cookie = resolveCookie(options.cookie);
	const secrets = resolveSecrets(options.secret);

	const urlParam = options.urlParam ?? DEFAULTS.urlParam;
	if (typeof urlParam !== "string" || !/^[A-Za-z0-9_.-]{1,64}$/.test(urlParam)) {
		invalidOption(
			`options.urlParam must be 1 to 64 letters, digits, "_", "." or "-" (got ${JSON.stringify(urlParam)}).`,
		);
	}
	const successUrl = options.successUrl ?? DEFAULTS.successUrl;
	if (safeRedirectPath(successUrl) === null) {
		invalidOption(
			`options.successUrl must be a same-site path such as "/" or "/welcome" (got ${JSON.stringify(successUrl)}).`,
		);
	}
	const mountPath = (options.mountPath ?? DEFAULTS.mountPath).toString().replace(/\/+$/, "");
	if (!/^(\/[A-Za-z0-9._~-]+)+$/.test(mountPath)) {
		invalidOption(
			`options.mountPath must be a path such as "/ref" (got ${JSON.stringify(options.mountPath)}).`,
		);
	}
	const trustProxy = options.trustProxy ?? DEFAULTS.trustProxy;
	if (typeof trustProxy !== "boolean" && !(Number.isInteger(trustProxy) && trustProxy >= 0)) {
		invalidOption(
			`options.trustProxy must be true, false or a number of proxies (got ${JSON.stringify(trustProxy)}).`,
		);
	}
	const ip = options.ip ?? DEFAULTS.ip;
	if (ip !== "full" && ip !== "truncate" && ip !== "none") {
		invalidOption(`options.ip must be "full", "truncate" or "none" (got ${JSON.stringify(ip)}).`);
	}
	const attribution = options.attribution ?? DEFAULTS.attribution;
	if (attribution !== "last" && attribution !== "first") {
		invalidOption(`options.attribution must be "last" or "first" (got ${JSON.stringify(attribution)}).`);
	}
	const hitWrites = options.hitWrites ?? DEFAULTS.hitWrites;
	if (hitWrites !== "durable" && hitWrites !== "buffered") {
		invalidOption(`options.hitWrites must be "durable" or "buffered" (got ${JSON.stringify(hitWrites)}).`);
	}
	const skipBots = options.skipBots ?? DEFAULTS.skipBots;
	if (typeof skipBots !== "boolean") invalidOption("options.skipBots must be a boolean.");
	if (options.onError !== undefined && typeof options.onError !== "function") {
		invalidOption("options.onError must be a function (error, context) => void.");
	}
	if (options.onSkip !== undefined && options.onSkip !== false && typeof options.onSkip !== "function") {
		invalidOption("options.onSkip must be a function (skip) => void, or false.");
	}
	const onSkip =
		options.onSkip === false
			? null
			: (options.onSkip ?? (process.env.NODE_ENV === "development" ? explainSkips() : null));
	const onError =
		options.onError ??
		((error: unknown, context: ErrorContext) => console.error(`refkit: ${context.operation} failed:`, error));

	return Object.freeze({
		secret: secrets[0] as string,
		secrets,
		cookieName: cookie.name,
		browserCookieName: cookie.name === DEFAULTS.cookie.name ? "refkit_browser" : `${cookie.name}_browser`,
		cookie: Object.freeze(cookie.attributes),
		urlParam,
		successUrl: safeRedirectPath(successUrl) as string,
		mountPath,
		trustProxy,
		ip,
		attribution,
		attributionWindow: resolveWindow(
			"attributionWindow",
			options.attributionWindow,
			DEFAULTS.attributionWindow,
			1,
		),
		codeWindow: resolveWindow("codeWindow", options.codeWindow, DEFAULTS.codeWindow, 1),
		dedupeWindow: resolveWindow("dedupeWindow", options.dedupeWindow, DEFAULTS.dedupeWindow, 0),
		hitWrites,
		skipBots,
		onError,
		onSkip,
		programs: resolvePrograms(options.programs, options.defaultProgram, options.review),
	});
}
