import type { MaybeUserId } from "../core/request.js";
import { safeRedirectPath } from "../core/safe-redirect.js";
import { isRefkitError, RefkitError } from "../errors.js";
import type { ResolvedOptions } from "../options.js";
import { type Formats, formatsFor } from "./format.js";
import { mergeMessages, type ReferrerMessages } from "./messages.js";
import { type ReferrerTheme, themeDeclarations } from "./style.js";
import { baseOrigin } from "./summary.js";
import type { DisplayName } from "./types.js";

/** Options every adapter's referrer page takes, on the framework's request `Request`. */
export interface ReferrerPageOptions<Request> {
	/** Where the page lives, such as `/account/referrals`: exactly this path (a trailing slash too), nothing under it. */
	path: string;
	/**
	 * Who is logged in: the page shows this user's referrals, and only theirs. Default: as the adapter's
	 * middleware (`req.user?.id` for Express and Fastify); Hono and the Web handler need it.
	 */
	getUserId?: ((request: Request) => MaybeUserId | Promise<MaybeUserId>) | undefined;
	/**
	 * Your login page, a same-site path such as `/login`. A visitor who is not logged in is sent there (303)
	 * with `?next=` the page's path and query, for your login to send them back. Without it, they get a 401
	 * page. A request for JSON always gets a 401 JSON answer.
	 */
	loginUrl?: string | undefined;
	/**
	 * Your application's public origin, such as `https://example.com`, for the full URL of the link (to copy,
	 * share and scan). Without it, the origin is read from the request (its `Host` header, when it is a plain
	 * host name, and whether it came over TLS): behind a proxy or a load balancer that ends TLS, set it.
	 */
	baseUrl?: string | undefined;
	/** How referred users (and the leaderboard's referrers) are named; default masked (`Referral #3fa9c2`). */
	displayName?: DisplayName | undefined;
	/** Whether to show the period's top referrers (named by `displayName`, or masked); default `false`. */
	leaderboard?: boolean | undefined;
	/** Texts to replace, by name (see {@link ReferrerMessages}): to translate the page, or reword it. */
	messages?: Partial<ReferrerMessages> | undefined;
	/** The BCP 47 language of the page (`lang`), its numbers, money and dates, such as `fr` or `pt-BR`; default `en`. */
	locale?: string | undefined;
	/** Colours, corners and font, as the page's CSS custom properties (see {@link ReferrerTheme}). */
	theme?: ReferrerTheme | undefined;
	/** A same-site path to your own stylesheet, such as `/styles/referrals.css`, linked after refkit's. */
	stylesheet?: string | undefined;
	/** Whether a user without a link gets one (`refkit.linkFor()`) when they open the page; default `true`. */
	createLink?: boolean | undefined;
}

/** The referrer page's options, checked once. */
export interface ReferrerPageSettings {
	path: string;
	loginUrl: string | null;
	baseUrl: string | null;
	displayName: DisplayName | null;
	leaderboard: boolean;
	messages: ReferrerMessages;
	formats: Formats;
	/** The theme's custom properties, as declarations for `:root` ("" without a theme). */
	theme: string;
	stylesheet: string | null;
	createLink: boolean;
}

function refuse(message: string): never {
	throw new RefkitError("INVALID_OPTION", `refkit: the referrer page's ${message}`);
}

function sameSitePath(value: unknown, name: string, example: string): string | null {
	if (value === undefined) return null;
	const path = typeof value === "string" ? safeRedirectPath(value) : null;
	if (path === null) {
		refuse(`${name} must be a same-site path such as "${example}" (got ${JSON.stringify(value)}).`);
	}
	return path;
}

function optionalFlag(value: unknown, name: string, fallback: boolean): boolean {
	if (value === undefined) return fallback;
	if (typeof value !== "boolean") refuse(`${name} must be true or false (got ${JSON.stringify(value)}).`);
	return value;
}

function localeOf(value: unknown): string {
	if (value === undefined) return "en";
	let canonical: string[] = [];
	try {
		canonical = typeof value === "string" ? Intl.getCanonicalLocales(value) : [];
	} catch {
		canonical = [];
	}
	const [locale] = canonical;
	if (locale === undefined) {
		refuse(
			`locale must be a BCP 47 language tag such as "en", "fr" or "pt-BR" (got ${JSON.stringify(value)}).`,
		);
	}
	return locale;
}

/** The referrer page's validated options; throws `INVALID_OPTION` with what to give instead. */
export function referrerPageSettings<Request>(
	options: ReferrerPageOptions<Request> | undefined,
	refkitOptions: Pick<ResolvedOptions, "mountPath">,
): ReferrerPageSettings {
	if (typeof options !== "object" || options === null) {
		throw new RefkitError(
			"INVALID_OPTION",
			'refkit: the referrer page needs options, e.g. { path: "/account/referrals" }.',
		);
	}
	const path = typeof options.path === "string" ? options.path.replace(/\/+$/, "") : "";
	if (!/^(\/[A-Za-z0-9._~-]+)+$/.test(path)) {
		refuse(`path must be a path such as "/account/referrals" (got ${JSON.stringify(options.path)}).`);
	}
	const { mountPath } = refkitOptions;
	if (path === mountPath || path.startsWith(`${mountPath}/`)) {
		refuse(
			`path ${JSON.stringify(path)} is under refkit's mountPath ${JSON.stringify(mountPath)}, where links are followed: choose another.`,
		);
	}
	if (options.getUserId !== undefined && typeof options.getUserId !== "function") {
		refuse("getUserId must be a function (request) => the logged-in user's id, or null.");
	}
	if (options.displayName !== undefined && typeof options.displayName !== "function") {
		refuse("displayName must be a function (userId) => a name to show, or null.");
	}
	let baseUrl: string | null = null;
	if (options.baseUrl !== undefined) {
		try {
			baseUrl = baseOrigin(options.baseUrl, "baseUrl");
		} catch (error) {
			if (!isRefkitError(error)) throw error;
			refuse(
				`baseUrl must be an origin such as "https://example.com" (got ${JSON.stringify(options.baseUrl)}).`,
			);
		}
	}
	return {
		path,
		loginUrl: sameSitePath(options.loginUrl, "loginUrl", "/login"),
		baseUrl,
		displayName: options.displayName ?? null,
		leaderboard: optionalFlag(options.leaderboard, "leaderboard", false),
		messages: mergeMessages(options.messages),
		formats: formatsFor(localeOf(options.locale)),
		theme: themeDeclarations(options.theme),
		stylesheet: sameSitePath(options.stylesheet, "stylesheet", "/styles/referrals.css"),
		createLink: optionalFlag(options.createLink, "createLink", true),
	};
}
