import { createHmac, timingSafeEqual } from "node:crypto";
import { invalid } from "../core/arguments.js";
import { MIN_SECRET_LENGTH } from "../options.js";
import { describeLocation, describeWebhookUrl } from "../redact.js";
import type { Delivery, LedgerDelivery } from "../types.js";

/**
 * A delivery handler for the outbox that POSTs each {@link Delivery} to a URL as signed JSON, and the check
 * a receiver runs on what arrives. The signature follows Stripe's scheme: `t=<unix seconds>,v1=<hex>`, where
 * the hex is the HMAC-SHA256 of `<t>.<raw body>` under a shared secret. The timestamp is signed too, so a
 * captured request cannot be replayed once it is older than the receiver's tolerance.
 */

/** The header that carries the signature, `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`. */
export const WEBHOOK_SIGNATURE_HEADER = "refkit-signature";

/** The header that carries the delivery's idempotency key, the same on every retry of one event. */
export const WEBHOOK_IDEMPOTENCY_HEADER = "refkit-idempotency-key";

const DEFAULT_TIMEOUT_MS = 10_000;
// setTimeout, and so AbortSignal.timeout, fires at once for longer delays.
const MAX_TIMEOUT_MS = 2_147_483_647;
const DEFAULT_TOLERANCE_SECONDS = 300;
// A real header is about 80 characters, or 150 per secret during a rotation; refuse long ones before parsing.
const MAX_SIGNATURE_HEADER_LENGTH = 4096;
// Enough bytes for 200 characters of any script; the rest of an error answer is not read.
const MAX_EXCERPT_BYTES = 1024;
const EXCERPT_CHARACTERS = 200;
const HEX_SHA256 = /^[0-9a-f]{64}$/;

/** The headers the sender sets itself, which `headers` may not override (`content-length` is fetch's). */
const RESERVED_HEADERS: readonly string[] = [
	"content-type",
	"content-length",
	"user-agent",
	WEBHOOK_IDEMPOTENCY_HEADER,
	WEBHOOK_SIGNATURE_HEADER,
];

/** Options of {@link webhookSender}. */
export interface WebhookSenderOptions {
	/** Where to POST: an absolute `http:` or `https:` URL, the final one (redirects are not followed). */
	url: string;
	/**
	 * Signs every request: at least 32 characters, shared with the receiver only. Generate one with
	 * `openssl rand -hex 32`. `undefined` (an environment variable that is not set) throws `INVALID_ARGUMENT`.
	 */
	secret: string | undefined;
	/** How long to wait for the whole answer, in milliseconds; default 10 000. */
	timeoutMs?: number;
	/**
	 * Extra headers to send, such as `authorization`. They may not replace the ones the sender sets:
	 * `content-type`, `content-length`, `user-agent`, `refkit-idempotency-key` and `refkit-signature`.
	 */
	headers?: Record<string, string>;
}

/**
 * Why a webhook delivery failed: the receiver answered something other than 2xx (`status` says what), or
 * it could not be reached in time (`status` is `undefined`; `cause` holds the network error).
 *
 * @example
 * // onError receives it each time a delivery fails; the outbox retries it later.
 * createRefkit({ database, secret, onError: (error) => {
 *   if (error instanceof WebhookDeliveryError) metrics.increment("webhook.failed", { status: error.status });
 * } });
 */
export class WebhookDeliveryError extends Error {
	/** The HTTP status the receiver answered, when it answered. */
	readonly status?: number;

	constructor(message: string, options: { status?: number | undefined; cause?: unknown } = {}) {
		super(message, options.cause === undefined ? undefined : { cause: options.cause });
		this.name = "WebhookDeliveryError";
		if (options.status !== undefined) this.status = options.status;
	}
}

function sign(secret: string, timestamp: number | string, body: string): string {
	return createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex");
}

function checkUrl(value: unknown): URL {
	if (typeof value !== "string" || !URL.canParse(value)) {
		invalid(
			`webhookSender() needs options.url as an absolute URL such as "https://example.com/webhooks/refkit" (got ${JSON.stringify(String(value).slice(0, 100))}).`,
		);
	}
	const url = new URL(value);
	if (url.protocol !== "http:" && url.protocol !== "https:") {
		invalid(`options.url must use http: or https: (got ${url.protocol}).`);
	}
	if (url.username !== "" || url.password !== "") {
		invalid(
			'options.url must not contain a user name or password; send credentials in options.headers instead, e.g. { authorization: "Bearer <token>" }.',
		);
	}
	return url;
}

function checkHeaders(value: unknown): Record<string, string> {
	if (value === undefined) return {};
	if (typeof value !== "object" || value === null || Array.isArray(value)) {
		invalid('options.headers must be an object of header names to strings, e.g. { authorization: "..." }.');
	}
	const headers: Record<string, string> = {};
	for (const [name, headerValue] of Object.entries(value)) {
		if (typeof headerValue !== "string") {
			invalid(`options.headers["${name}"] must be a string (got ${typeof headerValue}).`);
		}
		if (RESERVED_HEADERS.includes(name.toLowerCase())) {
			invalid(`options.headers may not set "${name}": the webhook sender sets it itself. Remove it.`);
		}
		headers[name] = headerValue;
	}
	try {
		new Headers(headers);
	} catch (error) {
		invalid(
			`options.headers holds an invalid header name or value (${error instanceof Error ? error.message : String(error)}).`,
			error,
		);
	}
	return headers;
}

function describeNetworkError(error: unknown, timeoutMs: number): string {
	if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError")) {
		return `no answer within ${timeoutMs} ms`;
	}
	const message = error instanceof Error ? error.message : String(error);
	// fetch's own message is "fetch failed"; the reason (ECONNREFUSED, a TLS error...) is in the cause.
	const cause = error instanceof Error ? error.cause : undefined;
	return cause instanceof Error ? `${message} (${cause.message})` : message;
}

/** The first characters of an answer's body, reading at most a kilobyte; the rest is cancelled. */
async function readExcerpt(response: Response): Promise<string> {
	if (response.body === null) return "";
	const reader = response.body.getReader();
	const chunks: Uint8Array[] = [];
	let size = 0;
	try {
		while (size < MAX_EXCERPT_BYTES) {
			const { done, value } = await reader.read();
			if (done) break;
			chunks.push(value);
			size += value.byteLength;
		}
	} catch {
		// A body that fails to arrive (a timeout, a reset) is not the error to report: the status is.
	} finally {
		await reader.cancel().catch(() => undefined);
	}
	const text = new TextDecoder().decode(Buffer.concat(chunks)).slice(0, EXCERPT_CHARACTERS);
	return text.replace(/\s+/g, " ").trim();
}

/**
 * Creates a delivery handler for the outbox that POSTs each event to `options.url` as JSON. Options are
 * checked here, once: a bad one throws `INVALID_ARGUMENT` with a message that says what to change.
 *
 * The body is `JSON.stringify({ type, idempotencyKey, attempt, conversion })`, with the conversion's dates
 * as ISO 8601 strings:
 *
 * ```json
 * { "type": "conversion", "idempotencyKey": "8b0c…", "attempt": 1,
 *   "conversion": { "id": "8b0c…", "goal": "signup", "referredUserId": "u_42", "referrerUserId": "u_7",
 *     "hitId": "…", "linkId": 3, "value": null, "createdAt": "2025-01-02T03:04:05.678Z", "reversedAt": null,
 *     "reversalReason": null, "deliveredAt": null, "reversalDeliveredAt": null } }
 * ```
 *
 * The headers are `content-type: application/json`, `user-agent: refkit-webhook`,
 * `refkit-idempotency-key` (the same on every retry, so the receiver can ignore repeats) and
 * `refkit-signature`, which the receiver checks with {@link verifyWebhookSignature}.
 *
 * The handler resolves only when the receiver answers 2xx. Anything else — another status, a redirect
 * (the URL is wrong: redirects are not followed), no answer within `timeoutMs`, a network error — makes it
 * reject with a {@link WebhookDeliveryError}, which is how the outbox knows to retry the event later with
 * backoff.
 *
 * @example
 * import { webhookSender } from "refkit";
 * const send = webhookSender({
 *   url: "https://crm.example.com/webhooks/refkit",
 *   secret: process.env.REFKIT_WEBHOOK_SECRET ?? "",
 * });
 * await refkit.deliverConversions(send);
 */
export function webhookSender(
	options: WebhookSenderOptions,
): (delivery: Delivery | LedgerDelivery) => Promise<void> {
	if (typeof options !== "object" || options === null) {
		invalid("webhookSender() needs an options object: { url, secret }.");
	}
	const url = checkUrl(options.url);
	const { secret } = options;
	if (typeof secret !== "string" || secret.length < MIN_SECRET_LENGTH) {
		const problem =
			typeof secret !== "string" || secret === ""
				? "webhookSender() needs options.secret"
				: `options.secret must be at least ${MIN_SECRET_LENGTH} characters (got ${secret.length})`;
		invalid(
			`${problem}. Generate one with \`openssl rand -hex 32\`, share it with the receiver only and pass it from an environment variable.`,
		);
	}
	const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
	if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > MAX_TIMEOUT_MS) {
		invalid(
			`options.timeoutMs must be a whole number of milliseconds from 1 to ${MAX_TIMEOUT_MS} (got ${timeoutMs}); leave it out for 10 000.`,
		);
	}
	const extraHeaders = checkHeaders(options.headers);
	const target = url.href;
	const where = describeWebhookUrl(url);

	return async function deliverWebhook(delivery: Delivery | LedgerDelivery): Promise<void> {
		const { type, idempotencyKey, attempt } = delivery;
		// A conversion's body as before; a ledger event's row under `data`.
		const body = JSON.stringify(
			"conversion" in delivery
				? { type, idempotencyKey, attempt, conversion: delivery.conversion }
				: { type, idempotencyKey, attempt, createdAt: delivery.event.createdAt, data: delivery.event.data },
		);
		const timestamp = Math.floor(Date.now() / 1000);
		let response: Response;
		try {
			response = await fetch(target, {
				method: "POST",
				headers: {
					...extraHeaders,
					"content-type": "application/json",
					"user-agent": "refkit-webhook",
					[WEBHOOK_IDEMPOTENCY_HEADER]: idempotencyKey,
					[WEBHOOK_SIGNATURE_HEADER]: `t=${timestamp},v1=${sign(secret, timestamp, body)}`,
				},
				body,
				redirect: "manual",
				signal: AbortSignal.timeout(timeoutMs),
			});
		} catch (error) {
			throw new WebhookDeliveryError(
				`refkit: the webhook POST to ${where} failed: ${describeNetworkError(error, timeoutMs)}.`,
				{ cause: error },
			);
		}
		if (response.status >= 200 && response.status < 300) {
			// The answer's body means nothing here, but left unread it would hold the connection.
			await response.body?.cancel().catch(() => undefined);
			return;
		}
		const excerpt = await readExcerpt(response);
		const location = response.headers.get("location");
		const answer =
			response.status >= 300 && response.status < 400
				? `redirected (${response.status}${location === null ? "" : ` to ${describeLocation(location, url)}`}); set url to the final address`
				: `answered ${response.status}`;
		throw new WebhookDeliveryError(
			`refkit: the webhook POST to ${where} ${answer}${excerpt === "" ? "" : `: ${JSON.stringify(excerpt)}`}.`,
			{ status: response.status },
		);
	};
}

/** Arguments of {@link verifyWebhookSignature}. */
export interface VerifyWebhookSignatureInput {
	/** The request body exactly as received, before any JSON parsing. */
	body: string;
	/** The `refkit-signature` header. */
	signature: string | null | undefined;
	/**
	 * The sender's secret. `undefined` (an environment variable that is not set) throws `INVALID_ARGUMENT`
	 * saying so, rather than verifying against nothing.
	 */
	secret: string | undefined;
	/** How far the signed timestamp may be from `now`, in seconds; default 300. */
	toleranceSeconds?: number;
	/** The current time; default `new Date()`. */
	now?: Date;
}

/**
 * Tells whether a webhook request really comes from {@link webhookSender} with this `secret`: the
 * `refkit-signature` header must hold a timestamp within `toleranceSeconds` of `now` and a `v1=` HMAC of
 * `<timestamp>.<body>` that matches, compared in constant time. Several `v1=` entries are allowed (one
 * per secret while rotating); one match is enough.
 *
 * Pass the raw body: JSON parsed and serialised again does not keep the same bytes. Never throws for a
 * missing or malformed header, a body that is not a string or an unusable tolerance — it returns `false`;
 * it throws `INVALID_ARGUMENT` only when `secret` is not a string (a missing environment variable, usually).
 * An empty secret verifies nothing.
 *
 * A valid signature proves where the request comes from, not that it is new: store each
 * `idempotencyKey` you process and skip repeats, since the outbox retries until it gets a 2xx.
 *
 * @example
 * import express from "express";
 * import { verifyWebhookSignature, WEBHOOK_SIGNATURE_HEADER } from "refkit";
 *
 * const secret = process.env.REFKIT_WEBHOOK_SECRET ?? "";
 * // express.text() keeps the raw body as a string; express.json() would parse it.
 * app.post("/webhooks/refkit", express.text({ type: "application/json" }), (req, res) => {
 *   if (!verifyWebhookSignature({ body: req.body, signature: req.get(WEBHOOK_SIGNATURE_HEADER), secret })) {
 *     return res.status(400).send("bad signature");
 *   }
 *   const event = JSON.parse(req.body); // { type, idempotencyKey, attempt, conversion }
 *   // ...skip event.idempotencyKey if already processed, otherwise record it and act on event.conversion
 *   res.status(204).end();
 * });
 */
export function verifyWebhookSignature(input: VerifyWebhookSignatureInput): boolean {
	const { body, signature, secret } = input;
	if (typeof secret !== "string") {
		invalid(
			`verifyWebhookSignature() needs the webhook secret as a string (got ${secret === null ? "null" : typeof secret}); check that its environment variable is set.`,
		);
	}
	if (secret === "" || typeof body !== "string") return false;
	if (typeof signature !== "string" || signature.length > MAX_SIGNATURE_HEADER_LENGTH) return false;

	// Kept as written: the signature covers the timestamp's characters, not its value.
	let timestamp: string | undefined;
	const candidates: string[] = [];
	for (const part of signature.split(",")) {
		const equals = part.indexOf("=");
		if (equals < 0) continue;
		const key = part.slice(0, equals).trim();
		const value = part.slice(equals + 1).trim();
		if (key === "t") {
			// Two timestamps are ambiguous: refuse rather than pick one.
			if (timestamp !== undefined || !/^\d{1,15}$/.test(value)) return false;
			timestamp = value;
		} else if (key === "v1" && HEX_SHA256.test(value)) {
			candidates.push(value);
		}
	}
	if (timestamp === undefined || candidates.length === 0) return false;

	const now = (input.now ?? new Date()).getTime() / 1000;
	const tolerance = input.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
	// Written so that NaN (an invalid date or tolerance) refuses.
	if (!(Math.abs(now - Number(timestamp)) <= tolerance)) return false;

	const expected = Buffer.from(sign(secret, timestamp, body), "utf8");
	let matched = false;
	for (const candidate of candidates) {
		const given = Buffer.from(candidate, "utf8");
		// Every candidate is compared, so the time taken does not say which one matched.
		if (given.length === expected.length && timingSafeEqual(given, expected)) matched = true;
	}
	return matched;
}
