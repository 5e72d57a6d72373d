import type { IncomingMessage, ServerResponse } from "node:http";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { nodeHeader } from "../http/node.js";
import type { DashboardRequest, DashboardResponse } from "./dashboard.js";

/** The largest form body the dashboard reads: its forms are a few short fields. */
const MAX_FORM_BYTES = 64 * 1024;

/** Reads a urlencoded form from a Node request stream; rejects a body over 64 kB. */
export async function readNodeForm(req: IncomingMessage): Promise<URLSearchParams> {
	let size = 0;
	const chunks: Buffer[] = [];
	for await (const chunk of req) {
		size += (chunk as Buffer).length;
		if (size > MAX_FORM_BYTES) throw new Error("form too large");
		chunks.push(chunk as Buffer);
	}
	return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

/** A {@link DashboardRequest} from a Node request; `parsedBody` is what a body parser already read, if any. */
export function fromNodeDashboardRequest(
	req: IncomingMessage,
	url: string,
	parsedBody?: unknown,
): DashboardRequest {
	return {
		method: req.method ?? "GET",
		url,
		header: nodeHeader(req),
		form: async () => {
			if (typeof parsedBody === "object" && parsedBody !== null) {
				const params = new URLSearchParams();
				for (const [key, value] of Object.entries(parsedBody))
					if (typeof value === "string") params.set(key, value);
				return params;
			}
			return readNodeForm(req);
		},
	};
}

/** A {@link DashboardRequest} from a Web-standard `Request`. */
export function fromWebDashboardRequest(request: Request): DashboardRequest {
	const url = new URL(request.url);
	return {
		method: request.method,
		url: url.pathname + url.search,
		header: (name) => request.headers.get(name) ?? undefined,
		form: async () => {
			const length = Number(request.headers.get("content-length") ?? 0);
			if (length > MAX_FORM_BYTES) throw new Error("form too large");
			const body = await request.text();
			if (body.length > MAX_FORM_BYTES) throw new Error("form too large");
			return new URLSearchParams(body);
		},
	};
}

/** A body as a Web stream that pulls one CSV line at a time, so a large export never sits in memory. */
function webBody(body: string | AsyncIterable<string>): BodyInit {
	if (typeof body === "string") return body;
	const iterator = body[Symbol.asyncIterator]();
	const encoder = new TextEncoder();
	return new ReadableStream<Uint8Array>({
		async pull(controller) {
			const { value, done } = await iterator.next();
			if (done) controller.close();
			else controller.enqueue(encoder.encode(value));
		},
		async cancel() {
			await iterator.return?.();
		},
	});
}

/** A dashboard response as a Web-standard `Response`. */
export function toWebResponse(response: DashboardResponse): Response {
	const headers = new Headers();
	for (const [name, value] of Object.entries(response.headers)) {
		for (const one of Array.isArray(value) ? value : [value]) headers.append(name, one);
	}
	const empty = response.status === 303 || response.status === 405;
	return new Response(empty ? null : webBody(response.body), { status: response.status, headers });
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
