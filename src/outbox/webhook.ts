import { Webhook } from "standardwebhooks";
import { invalid } from "../core/arguments.js";
import { describeLocation, describeWebhookUrl } from "../redact.js";
import type { Delivery, LedgerDelivery } from "../types.js";

/**
 * A delivery handler for the outbox that POSTs each {@link Delivery} to a URL as signed JSON, and the check
 * a receiver runs on what arrives. Requests follow the Standard Webhooks specification
 * (https://www.standardwebhooks.com), signed and checked by its reference library (`standardwebhooks`), so a
 * receiver can verify them with any Standard Webhooks library in any language: `webhook-id` (the same on
 * every retry), `webhook-timestamp` (unix seconds) and `webhook-signature`, `v1,<base64 HMAC-SHA256 of
 * "<id>.<timestamp>.<raw body>">` under a `whsec_` secret. The id and timestamp are signed too, so a
 * captured request cannot be replayed once it is older than the receiver's tolerance.
 */

/** The header that carries the delivery's id, the same on every retry of one event: receivers dedupe by it. */
export const WEBHOOK_ID_HEADER = "webhook-id";

/** The header that carries when the request was signed, in unix seconds. */
export const WEBHOOK_TIMESTAMP_HEADER = "webhook-timestamp";

/** The header that carries the signature, `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<raw body>">`. */
export const WEBHOOK_SIGNATURE_HEADER = "webhook-signature";

const DEFAULT_TIMEOUT_MS = 10_000;
// setTimeout, and so AbortSignal.timeout, fires at once for longer delays.
const MAX_TIMEOUT_MS = 2_147_483_647;
// Enough bytes for 200 characters of any script; the rest of an error answer is not read.
const MAX_EXCERPT_BYTES = 1024;
const EXCERPT_CHARACTERS = 200;

const SECRET_PREFIX = "whsec_";
// The specification's floor for a secret's key: 24 random bytes (192 bits).
const MIN_SECRET_BYTES = 24;
// Standard base64 with its padding, as Standard Webhooks libraries decode a secret.
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const MAKE_SECRET = `node -e "console.log('whsec_' + require('crypto').randomBytes(32).toString('base64'))"`;

/** The headers the sender sets itself, which `headers` may not override (`content-length` is fetch's). */
const RESERVED_HEADERS: readonly string[] = [
	"content-type",
	"content-length",
	"user-agent",
	WEBHOOK_ID_HEADER,
	WEBHOOK_TIMESTAMP_HEADER,
	WEBHOOK_SIGNATURE_HEADER,
];

/** Options of {@link webhookSender}. */
export interface WebhookSenderOptions {
	/** Where to POST: an absolute `http:` or `https:` URL, the final one (redirects are not followed). */
	url: string;
	/**
	 * Signs every request: a Standard Webhooks secret, `whsec_` followed by the base64 of at least 24 random
	 * bytes (plain base64 is accepted too), shared with the receiver only. Generate one with
	 * `node -e "console.log('whsec_' + require('crypto').randomBytes(32).toString('base64'))"`. Anything
	 * else, `undefined` (an environment variable that is not set) included, throws `INVALID_ARGUMENT`.
	 */
	secret: string | undefined;
	/** How long to wait for the whole answer, in milliseconds; default 10 000. */
	timeoutMs?: number;
	/**
	 * Extra headers to send, such as `authorization`. They may not replace the ones the sender sets:
	 * `content-type`, `content-length`, `user-agent`, `webhook-id`, `webhook-timestamp` and `webhook-signature`.
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

/**
 * The Standard Webhooks signer for `secret`, after checking that it is one: `whsec_` and the base64 of at
 * least 24 bytes, or that base64 alone. Anything else throws `INVALID_ARGUMENT` saying how to make one; the
 * message never quotes the secret.
 */
function signerFor(secret: unknown, method: string): Webhook {
	if (typeof secret !== "string" || secret === "") {
		const got = secret === "" ? "an empty string" : secret === null ? "null" : typeof secret;
		invalid(
			`${method} needs the webhook secret (got ${got}); check that its environment variable is set. Generate one with ${MAKE_SECRET}, share it with the receiver only and pass it from an environment variable.`,
		);
	}
	const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
	const bytes = BASE64.test(encoded) ? Buffer.byteLength(encoded, "base64") : -1;
	if (bytes < MIN_SECRET_BYTES) {
		const problem = bytes < 0 ? "it is not base64" : `it holds ${bytes} bytes`;
		invalid(
			`${method}: the webhook secret must be "${SECRET_PREFIX}" followed by the base64 of at least ${MIN_SECRET_BYTES} random bytes, as Standard Webhooks secrets are (${problem}). Generate one with ${MAKE_SECRET}.`,
		);
	}
	try {
		return new Webhook(secret);
	} catch (error) {
		// Not reached for a secret that passed the checks above; the library's message is not shown either way.
		invalid(`${method}: the webhook secret was refused by the standardwebhooks library.`, error);
	}
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
 * Creates a delivery handler for the outbox that POSTs each event to `options.url` as JSON, signed as the
 * Standard Webhooks specification says, so the receiver can check it with {@link verifyWebhookSignature} or
 * with any Standard Webhooks library. Options are checked here, once: a bad one throws `INVALID_ARGUMENT` with
 * a message that says what to change.
 *
 * A conversion's body is `JSON.stringify({ type, idempotencyKey, attempt, conversion })`, with the
 * conversion's dates as ISO 8601 strings; a ledger event's (from `deliverEvents()`) is
 * `{ type, idempotencyKey, attempt, createdAt, data }`:
 *
 * ```json
 * { "type": "conversion", "idempotencyKey": "8b0c…", "attempt": 1,
 *   "conversion": { "id": "8b0c…", "goal": "signup", "referredUserId": "u_42", "referrerUserId": "u_7",
 *     "hitId": "…", "linkId": 3, "value": null, "createdAt": "2025-01-02T03:04:05.678Z", "reversedAt": null,
 *     "reversalReason": null, "deliveredAt": null, "reversalDeliveredAt": null } }
 * ```
 *
 * The headers are `content-type: application/json`, `user-agent: refkit-webhook` and the three of Standard
 * Webhooks: `webhook-id`, the delivery's `idempotencyKey` (the same on every retry, so the receiver can ignore
 * repeats); `webhook-timestamp`, when this attempt was signed, in unix seconds; and `webhook-signature`,
 * `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">` under the secret's decoded bytes.
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
 *   secret: process.env.REFKIT_WEBHOOK_SECRET, // whsec_ + base64 of 32 random bytes
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
	const signer = signerFor(options.secret, "webhookSender()");
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
		// One id for every attempt of this delivery; a new timestamp, and so a new signature, for each.
		const signedAt = new Date();
		const signature = signer.sign(idempotencyKey, signedAt, body);
		let response: Response;
		try {
			response = await fetch(target, {
				method: "POST",
				headers: {
					...extraHeaders,
					"content-type": "application/json",
					"user-agent": "refkit-webhook",
					[WEBHOOK_ID_HEADER]: idempotencyKey,
					// The seconds the library signed: it drops the milliseconds the same way.
					[WEBHOOK_TIMESTAMP_HEADER]: String(Math.floor(signedAt.getTime() / 1000)),
					[WEBHOOK_SIGNATURE_HEADER]: signature,
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
	/** The request body exactly as received, before any JSON parsing: a string, or its bytes (a `Buffer`). */
	body: string | Uint8Array;
	/**
	 * The request's headers, in any case: a `Headers` object (`request.headers` in fetch, Hono, Next.js) or a
	 * plain object (`req.headers` in Node, Express, Fastify). `webhook-id`, `webhook-timestamp` and
	 * `webhook-signature` are read.
	 */
	headers: Headers | Record<string, string | string[] | undefined>;
	/**
	 * The secret given to {@link webhookSender}: `whsec_` and the base64 of at least 24 bytes. `undefined`
	 * (an environment variable that is not set) or a malformed secret throws `INVALID_ARGUMENT`, rather than
	 * verifying against nothing.
	 */
	secret: string | undefined;
}

/** One header's value, whatever the object and the case of its names; `undefined` when absent or repeated. */
function headerValue(headers: VerifyWebhookSignatureInput["headers"], name: string): string | undefined {
	if (typeof (headers as Headers).get === "function") return (headers as Headers).get(name) ?? undefined;
	for (const [key, value] of Object.entries(headers)) {
		if (key.toLowerCase() === name) return typeof value === "string" ? value : undefined;
	}
	return undefined;
}

/**
 * Tells whether a webhook request really comes from {@link webhookSender} with this `secret`, as the Standard
 * Webhooks specification checks it, by its reference library (`standardwebhooks`): `webhook-signature` must
 * hold a `v1,` signature of `<webhook-id>.<webhook-timestamp>.<body>` that matches, compared in constant
 * time, and `webhook-timestamp` must be within 5 minutes of this machine's clock, either way. Several
 * signatures separated by spaces are allowed (one per secret while rotating); one match is enough.
 *
 * Pass the raw body: JSON parsed and serialised again does not keep the same bytes. Never throws for
 * missing or malformed headers or a body that is neither a string nor bytes — it returns `false`; it throws
 * `INVALID_ARGUMENT` only when `secret` is not a Standard Webhooks secret (a missing environment variable,
 * usually).
 *
 * A valid signature proves where the request comes from, not that it is new: store each `webhook-id` you
 * process and skip repeats, since the outbox retries until it gets a 2xx. Any Standard Webhooks library
 * checks the same headers the same way; this function saves a dependency.
 *
 * @example
 * import express from "express";
 * import { verifyWebhookSignature, WEBHOOK_ID_HEADER } from "refkit";
 *
 * const secret = process.env.REFKIT_WEBHOOK_SECRET;
 * // express.text() keeps the raw body as a string; express.json() would parse it.
 * app.post("/webhooks/refkit", express.text({ type: "application/json" }), (req, res) => {
 *   if (!verifyWebhookSignature({ body: req.body, headers: req.headers, secret })) {
 *     return res.status(400).send("bad signature");
 *   }
 *   const id = req.get(WEBHOOK_ID_HEADER); // the same on every retry: skip it if already processed
 *   const event = JSON.parse(req.body); // { type, idempotencyKey, attempt, conversion }
 *   res.status(204).end();
 * });
 */
export function verifyWebhookSignature(input: VerifyWebhookSignatureInput): boolean {
	if (typeof input !== "object" || input === null) {
		invalid("verifyWebhookSignature() needs an object: { body, headers, secret }.");
	}
	const webhook = signerFor(input.secret, "verifyWebhookSignature()");
	const { body, headers } = input;
	if (typeof headers !== "object" || headers === null) return false;
	const id = headerValue(headers, WEBHOOK_ID_HEADER);
	const timestamp = headerValue(headers, WEBHOOK_TIMESTAMP_HEADER);
	const signature = headerValue(headers, WEBHOOK_SIGNATURE_HEADER);
	if (id === undefined || timestamp === undefined || signature === undefined) return false;
	try {
		webhook.verify(
			body,
			{
				[WEBHOOK_ID_HEADER]: id,
				[WEBHOOK_TIMESTAMP_HEADER]: timestamp,
				[WEBHOOK_SIGNATURE_HEADER]: signature,
			},
			{ jsonParse: false },
		);
		return true;
	} catch {
		// A WebhookVerificationError (no match, a stale timestamp), or a body that is neither string nor bytes.
		return false;
	}
}
