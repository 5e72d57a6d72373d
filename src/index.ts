export type { SkipReason } from "./core/bots.js";
export type { RefkitCounters } from "./core/context.js";
export type { ConfirmInput, ConfirmResult, ReverseResult, Reward } from "./core/conversions.js";
export type { CookieAttributes } from "./core/cookies.js";
export type { ClaimEvent, RefkitEventName, RefkitEvents, RefkitListener } from "./core/events.js";
export type { IpStorage, TrustProxy } from "./core/ip.js";
export type { ApplyCodeOptions, ApplyCodeResult } from "./core/referral-codes.js";
export type { MaybeUserId, Outcome, Redirect, RefkitRequest } from "./core/request.js";
export { safeRedirectPath } from "./core/safe-redirect.js";
export type { SkippedHit } from "./core/skips.js";
export type { DashboardOptions, DashboardRequest, DashboardResponse } from "./dashboard/dashboard.js";
export { isRefkitError, RefkitError, type RefkitErrorCode } from "./errors.js";
export type { ConsentCheck } from "./http/request.js";
export { DEFAULTS, type ErrorContext, type RefkitOptions, type ResolvedOptions } from "./options.js";
export type { DeliverOptions, DeliverResult, DeliveryHandler } from "./outbox/deliver.js";
export {
	type VerifyWebhookSignatureInput,
	verifyWebhookSignature,
	WEBHOOK_IDEMPOTENCY_HEADER,
	WEBHOOK_SIGNATURE_HEADER,
	WebhookDeliveryError,
	type WebhookSenderOptions,
	webhookSender,
} from "./outbox/webhook.js";
export {
	type CreateLinkInput,
	createRefkit,
	type ExportConversionsInput,
	type ExportHitsInput,
	type ListConversionsInput,
	type ListHitsInput,
	type ListLinksInput,
	type PruneInput,
	type PruneResult,
	type Refkit,
	type StatsInput,
} from "./refkit.js";
export type { DatabaseOption } from "./store/open.js";
export type {
	Conversion,
	DailyStats,
	Delivery,
	DialectName,
	EraseUserResult,
	Hit,
	HitSource,
	HitWithLink,
	MigrationResult,
	ReferralLink,
	RewardTransaction,
	Stats,
	TopReferrer,
	UserExport,
} from "./types.js";
