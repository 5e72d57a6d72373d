import type { IncomingMessage } from "node:http";
import { toWebResponse } from "./fetch.js";
import { type DashboardResponse, MAX_WEBHOOK_BYTES, type WebhookReceiver } from "./request.js";

/* Webhook deliveries from each runtime, to a WebhookReceiver: the raw body, never a parsed one. */

/** A webhook's JSON answer, never cached. */
export function jsonReply(status: number, body: unknown): DashboardResponse {
	return {
		status,
		headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" },
		body: JSON.stringify(body),
	};
}

const plain = (status: number, error: string) => jsonReply(status, { received: false, error });

const POST_ONLY = plain(405, "Webhooks are delivered with POST.");
const TOO_LARGE = plain(413, `A webhook's body is at most ${MAX_WEBHOOK_BYTES} bytes.`);

/**
 * A delivery from a Node.js request (Express, Fastify). A body parser may have read it already: as bytes or a
 * string (`express.raw()`, `express.text()`) it is used; parsed as JSON, its exact bytes are lost and the
 * signature cannot be checked, which the answer says.
 */
export async function receiveNodeWebhook(
	receiver: WebhookReceiver,
	raw: IncomingMessage,
	parsedBody: unknown,
): Promise<DashboardResponse> {
	if (raw.method !== "POST") return POST_ONLY;
	let body: string | Uint8Array;
	if (typeof parsedBody === "string" || parsedBody instanceof Uint8Array) {
		body = parsedBody;
	} else if (typeof parsedBody === "object" && parsedBody !== null && Object.keys(parsedBody).length > 0) {
		return plain(
			400,
			"The body was parsed as JSON before refkit read it, so its signature cannot be checked: mount the webhook before express.json(), or give it express.raw({ type: 'application/json' }).",
		);
	} else {
		let size = 0;
		const chunks: Buffer[] = [];
		// Read to the end even when too large (keeping nothing more): leaving the loop early would destroy the
		// request, and the client would see its connection reset instead of the 413.
		for await (const chunk of raw) {
			size += (chunk as Buffer).length;
			if (size <= MAX_WEBHOOK_BYTES) chunks.push(chunk as Buffer);
		}
		if (size > MAX_WEBHOOK_BYTES) return TOO_LARGE;
		body = Buffer.concat(chunks);
	}
	return receiver.receive({
		body,
		header: (name) => {
			const value = raw.headers[name.toLowerCase()];
			return Array.isArray(value) ? value.join(", ") : value;
		},
	});
}

/** A `Request`'s body, read a chunk at a time up to {@link MAX_WEBHOOK_BYTES}; `null` beyond. */
async function limitedBody(request: Request): Promise<Uint8Array | null> {
	if (request.body === null) return new Uint8Array();
	const reader = request.body.getReader();
	const chunks: Uint8Array[] = [];
	let size = 0;
	for (;;) {
		const { done, value } = await reader.read();
		if (done) break;
		size += value.byteLength;
		if (size > MAX_WEBHOOK_BYTES) {
			await reader.cancel();
			return null;
		}
		chunks.push(value);
	}
	const body = new Uint8Array(size);
	let at = 0;
	for (const chunk of chunks) {
		body.set(chunk, at);
		at += chunk.byteLength;
	}
	return body;
}

/**
 * A delivery from a Web-standard `Request` (Hono, Next.js, Bun, Deno, Workers), answered as a `Response`.
 * `read` gives the body when the framework already read it (Hono keeps a copy); else it is read here.
 */
export async function receiveWebWebhook(
	receiver: WebhookReceiver,
	request: Request,
	read?: () => Promise<Uint8Array>,
): Promise<Response> {
	if (request.method !== "POST") return toWebResponse(POST_ONLY);
	if (Number(request.headers.get("content-length") ?? 0) > MAX_WEBHOOK_BYTES) return toWebResponse(TOO_LARGE);
	if (read === undefined && request.bodyUsed) {
		return toWebResponse(
			plain(400, "The body was read before refkit could: mount the webhook before what reads it."),
		);
	}
	const body = read === undefined ? await limitedBody(request) : await read();
	if (body === null || body.byteLength > MAX_WEBHOOK_BYTES) return toWebResponse(TOO_LARGE);
	return toWebResponse(
		await receiver.receive({ body, header: (name) => request.headers.get(name) ?? undefined }),
	);
}
