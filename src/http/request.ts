import type { RefkitRequest } from "../core/request.js";

/** What an adapter's `consent` option is given: the framework's own request, as for `getUserId`. */
export type ConsentCheck<Request> = (request: Request) => boolean | Promise<boolean>;

/**
 * The `Cache-Control` of every redirect refkit sends: the redirect is one visitor's (it may set their cookie)
 * and records a visit, so no shared cache may store it. A CDN that kept a bot's cookie-less 302 for
 * `/ref/<id>` would answer every later visitor without refkit seeing them.
 */
export const REDIRECT_CACHE_CONTROL = "private, no-store";

/** The largest form body the edge reads: the dashboard's forms are a few short fields. */
export const MAX_FORM_BYTES = 64 * 1024;

/**
 * A request to the dashboard: the method, URL and headers of a {@link RefkitRequest}, read the same way,
 * and the form of a POST.
 */
export interface DashboardRequest extends Pick<RefkitRequest, "method" | "url" | "header"> {
	/** The `application/x-www-form-urlencoded` body of a POST. */
	form(): Promise<URLSearchParams>;
}

/** What the dashboard answers: a body of HTML, or CSV lines produced as they are read from the database. */
export interface DashboardResponse {
	status: number;
	headers: Record<string, string | string[]>;
	body: string | AsyncIterable<string>;
}

/** A webhook delivery as received: the raw body (a signature is over its exact bytes), and its headers. */
export interface WebhookDelivery {
	body: string | Uint8Array;
	/** A header's value, by its name in any case. */
	header(name: string): string | undefined;
}

/** What receives a billing system's webhooks (`stripeWebhooks()` of `refkit/stripe`), mounted by each adapter. */
export interface WebhookReceiver {
	/** Checks a delivery and applies it: the HTTP answer to give the sender. */
	receive(delivery: WebhookDelivery): Promise<DashboardResponse>;
}

/** The most bytes of a webhook's body an adapter reads (Stripe's events are a few kilobytes). */
export const MAX_WEBHOOK_BYTES = 1024 * 1024;

/**
 * The one request shape of the edge: what each runtime's translator (`nodeRequest` in node.ts,
 * `webRequest` in fetch.ts) builds, read by the referral handler as a {@link RefkitRequest} and by the
 * dashboard as a {@link DashboardRequest}.
 */
export type EdgeRequest = RefkitRequest & DashboardRequest;

/** Who the visitor is, as a {@link RefkitRequest} asks it, bound to one framework request. */
export type Visitor = Pick<RefkitRequest, "getUserId" | "hasConsent">;

/** The visitor of a dashboard request: nobody asks who it is there, `authorize` judges the request. */
export const UNASKED: Visitor = Object.freeze({ getUserId: () => null });
