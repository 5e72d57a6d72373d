import type { IncomingMessage, ServerResponse } from "node:http";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { MaybeUserId, Redirect } from "../core/request.js";
import type { DashboardResponse, EdgeRequest, Visitor } from "./request.js";
import { MAX_FORM_BYTES, REDIRECT_CACHE_CONTROL, UNASKED } from "./request.js";

/**
 * The edge's request from a Node.js request, for the adapters of frameworks built on `node:http` (Express,
 * Fastify), for the referral handler and the dashboard alike. `url` is the request target as the client
 * sent it, before any router rewrote it; `parsedBody` is what a body parser already read, if any.
 */
export function nodeRequest(
	raw: IncomingMessage,
	url: string,
	visitor: Visitor = UNASKED,
	parsedBody?: unknown,
): EdgeRequest {
	return {
		method: raw.method ?? "GET",
		url,
		header: (name) => {
			const value = raw.headers[name];
			return Array.isArray(value) ? value.join(", ") : value;
		},
		remoteAddress: raw.socket?.remoteAddress,
		getUserId: visitor.getUserId,
		...(visitor.hasConsent ? { hasConsent: visitor.hasConsent } : {}),
		form: () => nodeForm(raw, parsedBody),
	};
}

/** A form from what a body parser read, or else read from the request stream; rejects a body over 64 kB. */
async function nodeForm(raw: IncomingMessage, parsedBody: unknown): Promise<URLSearchParams> {
	const params = new URLSearchParams();
	if (typeof parsedBody === "object" && parsedBody !== null) {
		for (const [key, value] of Object.entries(parsedBody))
			if (typeof value === "string") params.set(key, value);
		return params;
	}
	let size = 0;
	const chunks: Buffer[] = [];
	for await (const chunk of raw) {
		size += (chunk as Buffer).length;
		if (size > MAX_FORM_BYTES) throw new Error("form too large");
		chunks.push(chunk as Buffer);
	}
	return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

/** `request.user?.id`, the convention of Passport and @fastify/passport: the default `getUserId`. */
export function passportUserId(request: object): MaybeUserId {
	const id = (request as { user?: { id?: unknown } }).user?.id;
	return typeof id === "string" || typeof id === "number" ? id : null;
}

/** Whether a Node.js request came over TLS (an `https` server's socket): a proxy's TLS is not seen here. */
export function isTls(raw: IncomingMessage): boolean {
	return (raw.socket as { encrypted?: boolean } | undefined)?.encrypted === true;
}

/** Sends refkit's redirect on a Node.js response (its cookies are already set). */
export function sendRedirect(res: ServerResponse, redirect: Redirect): void {
	res.statusCode = redirect.status;
	res.setHeader("Location", redirect.location);
	res.setHeader("Cache-Control", REDIRECT_CACHE_CONTROL);
	res.end();
}

/**
 * Writes a dashboard response to a Node response, streaming a CSV body with backpressure. A client that
 * goes away mid-download ends the stream quietly.
 */
export async function sendNodeResponse(res: ServerResponse, response: DashboardResponse): Promise<void> {
	res.statusCode = response.status;
	for (const [name, value] of Object.entries(response.headers)) res.setHeader(name, value);
	if (typeof response.body === "string") {
		res.end(response.body);
		return;
	}
	try {
		await pipeline(Readable.from(response.body), res);
	} catch (error) {
		if ((error as { code?: string }).code !== "ERR_STREAM_PREMATURE_CLOSE") throw error;
	}
}
