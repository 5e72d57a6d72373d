import { isRefkitError, RefkitError } from "../errors.js";
import type { ReferralLink } from "../types.js";
import {
	filtersObject,
	invalid,
	optionalBoolean,
	optionalSearch,
	optionalUserId,
	page,
} from "./arguments.js";
import type { CoreContext } from "./context.js";
import { assertIdentifier, generateIdentifier } from "./identifiers.js";
import { safeRedirectPath } from "./safe-redirect.js";

/**
 * The rules of links: creating one (a generated identifier retried on the rare collision), a user's own link,
 * reading and listing them, and enabling or disabling one. Whatever creates or changes a link forgets its
 * identifier in the link cache, so that visitors' requests see the change at once.
 */

/** Arguments of {@link Refkit.createLink}. */
export interface CreateLinkInput {
	/** The identifier to use; generated (8 characters, no look-alikes) when omitted. */
	identifier?: string | undefined;
	/** The user who owns the link. */
	userId?: string | null | undefined;
	/** Where the link sends visitors who give no `next`: a same-site path such as `/pricing`. */
	target?: string | null | undefined;
	/**
	 * The referral program its referrals earn under (option `programs`); default the default program. A
	 * campaign's link can name one with its own terms.
	 */
	program?: string | null | undefined;
}

/** Filters of {@link Refkit.listLinks}. */
export interface ListLinksInput {
	userId?: string | undefined;
	disabled?: boolean | undefined;
	/**
	 * Only the links whose identifier or user id contains this text, ignoring case (`%`, `_` and `\` are plain
	 * characters). At most 200 characters; `""` matches every link.
	 */
	search?: string | undefined;
	/** At most this many, 1 to 1000; default 100. */
	limit?: number | undefined;
	offset?: number | undefined;
}

/** How many times a generated identifier is tried before its collision is thrown (`IDENTIFIER_TAKEN`). */
const GENERATED_ATTEMPTS = 5;

/**
 * Runs `attempt` with a new generated identifier until it does not collide: one does about once in 10^14, so
 * a few tries are plenty. The last collision, or any other error, is thrown.
 */
async function withGeneratedIdentifier<T>(attempt: (identifier: string) => Promise<T>): Promise<T> {
	for (let tries = 1; ; tries++) {
		try {
			return await attempt(generateIdentifier());
		} catch (error) {
			if (!isRefkitError(error, "IDENTIFIER_TAKEN") || tries >= GENERATED_ATTEMPTS) throw error;
		}
	}
}

/** Creates a link, with the chosen identifier or a generated one; `target` must be a same-site path. */
export async function createLink(ctx: CoreContext, input: CreateLinkInput = {}): Promise<ReferralLink> {
	const userId = optionalUserId(input.userId, "userId") ?? null;
	let target: string | null = null;
	if (input.target !== undefined && input.target !== null) {
		target = safeRedirectPath(input.target);
		if (target === null) {
			invalid(
				`target must be a same-site path such as "/pricing" (got ${JSON.stringify(String(input.target).slice(0, 100))}).`,
			);
		}
	}
	const program = input.program ?? null;
	if (program !== null) {
		const { byId } = ctx.options.programs;
		if (
			typeof program !== "string" ||
			(byId.size > 0 ? !byId.has(program) : !/^[A-Za-z0-9_.-]{1,64}$/.test(program))
		) {
			invalid(
				`program must name a program of options.programs (${[...byId.keys()].join(", ") || "none configured"}); got ${JSON.stringify(String(program).slice(0, 70))}.`,
			);
		}
	}
	const insert = async (identifier: string) => {
		const link = await ctx.store.insertLink({ identifier, userId, target, program }, ctx.now());
		ctx.links.forget(identifier); // "unknown" may be cached
		return link;
	};
	if (input.identifier !== undefined) return insert(assertIdentifier(input.identifier));
	return withGeneratedIdentifier(insert);
}

/**
 * The user's link: their oldest enabled one, else their oldest, else a new one with a generated identifier,
 * created under the store's per-user lock so that racing calls give one link.
 */
export async function linkFor(ctx: CoreContext, userId: string | number): Promise<ReferralLink> {
	const owner = typeof userId === "number" && Number.isSafeInteger(userId) ? String(userId) : userId;
	if (typeof owner !== "string" || owner === "") {
		invalid(
			`linkFor() needs a user id: a non-empty string or a whole number (got ${JSON.stringify(userId) ?? String(userId)}).`,
		);
	}
	return withGeneratedIdentifier(async (identifier) => {
		const link = await ctx.store.userLink(owner, { identifier, userId: owner, target: null }, ctx.now());
		if (link.identifier === identifier) ctx.links.forget(identifier); // "unknown" may be cached
		return link;
	});
}

/** The link with this identifier, or `null`; a malformed identifier rejects with `INVALID_IDENTIFIER`. */
export async function getLink(ctx: CoreContext, identifier: string): Promise<ReferralLink | null> {
	return ctx.store.findLink(assertIdentifier(identifier));
}

/** A page of links, newest first, after their filters are checked. */
export async function listLinks(ctx: CoreContext, input?: ListLinksInput): Promise<ReferralLink[]> {
	const filters: ListLinksInput = filtersObject(input, "listLinks()");
	return ctx.store.listLinks({
		userId: optionalUserId(filters.userId, "userId"),
		disabled: optionalBoolean(filters.disabled, "disabled"),
		search: optionalSearch(filters.search),
		...page(filters),
	});
}

/**
 * Disables or enables a link, and forgets it in the link cache so that this process's visitors see the change
 * at once. Throws `LINK_NOT_FOUND` for an unknown identifier.
 */
export async function setLinkDisabled(
	ctx: CoreContext,
	identifier: string,
	disabled: boolean,
): Promise<ReferralLink> {
	const link = await ctx.store.setLinkDisabled(assertIdentifier(identifier), disabled, ctx.now());
	ctx.links.forget(identifier);
	if (link === null)
		throw new RefkitError("LINK_NOT_FOUND", `refkit: no link has the identifier "${identifier}".`);
	return link;
}
