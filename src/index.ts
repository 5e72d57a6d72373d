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
export type { CsvColumns } from "./csv.js";
export type { DashboardOptions, DashboardRequest, DashboardResponse } from "./dashboard/dashboard.js";
export { isRefkitError, RefkitError, type RefkitErrorCode } from "./errors.js";
export type { ConsentCheck, WebhookDelivery, WebhookReceiver } from "./http/request.js";
export { DEFAULTS, type ErrorContext, type RefkitOptions, type ResolvedOptions } from "./options.js";
export type {
	DeliverOptions,
	DeliverResult,
	DeliveryHandler,
	LedgerDeliveryHandler,
} from "./outbox/deliver.js";
export {
	type VerifyWebhookSignatureInput,
	verifyWebhookSignature,
	WEBHOOK_ID_HEADER,
	WEBHOOK_SIGNATURE_HEADER,
	WEBHOOK_TIMESTAMP_HEADER,
	WebhookDeliveryError,
	type WebhookSenderOptions,
	webhookSender,
} from "./outbox/webhook.js";
export { isCurrency, minorDigits, percentOf, takenBack, toMajor } from "./programs/money.js";
export type { ResolvedPrograms, ReviewCandidate, ReviewDecision, ReviewOptions } from "./programs/options.js";
export { PAYOUT_COLUMNS } from "./programs/payouts.js";
export type {
	Balance,
	Commission,
	CommissionStatus,
	GoalRule,
	LedgerEvent,
	LedgerEventType,
	Liability,
	NamedRule,
	Payout,
	PayoutRun,
	Program,
	ProgramOptions,
	RecordSaleResult,
	Refund,
	RefundSaleResult,
	RewardRule,
	Sale,
	SaleRule,
} from "./programs/types.js";
export { DEFAULT_REFERRER_MESSAGES, type ReferrerMessages } from "./referrer/messages.js";
export type { ReferrerPageOptions } from "./referrer/options.js";
export type { ReferrerTheme } from "./referrer/style.js";
export type {
	DisplayName,
	LeaderboardEntry,
	ReferrerDay,
	ReferrerEarnings,
	ReferrerFunnel,
	ReferrerLink,
	ReferrerPayout,
	ReferrerReferral,
	ReferrerSummary,
	ReferrerSummaryInput,
	UpcomingEarnings,
} from "./referrer/types.js";
export {
	type ClosePayoutResult,
	type CreateLinkInput,
	type CreatePayoutsInput,
	createRefkit,
	type ExportCommissionsInput,
	type ExportConversionsInput,
	type ExportHitsInput,
	type ListCommissionsInput,
	type ListConversionsInput,
	type ListHitsInput,
	type ListLinksInput,
	type ListPayoutsInput,
	type ListSalesInput,
	type PruneInput,
	type PruneResult,
	type RecordSaleInput,
	type Refkit,
	type RefundSaleInput,
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
	LedgerDelivery,
	MigrationResult,
	ReferralLink,
	RewardTransaction,
	Stats,
	TopReferrer,
	UserExport,
} from "./types.js";
