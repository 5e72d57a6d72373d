export type { TrustProxy } from "./core/ip.js";
export { safeRedirectPath } from "./core/safe-redirect.js";
export { isRefkitError, RefkitError, type RefkitErrorCode } from "./errors.js";
export type { MaybeUserId, Outcome, Redirect, RefkitRequest } from "./http/request.js";
export { DEFAULTS, type ErrorContext, type RefkitOptions, type ResolvedOptions } from "./options.js";
export {
	type CreateLinkInput,
	createRefkit,
	type ListHitsInput,
	type ListLinksInput,
	type Refkit,
} from "./refkit.js";
export type { DatabaseOption } from "./store/open.js";
export type { DialectName, Hit, HitWithLink, MigrationResult, ReferralLink } from "./types.js";
