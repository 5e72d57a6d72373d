import type { IncomingMessage } from "node:http";
import type { MaybeUserId, RefkitRequest } from "./request.js";

/**
 * A {@link RefkitRequest} from a Node.js request, for the adapters of frameworks built on `node:http`
 * (Express, Fastify). `url` is the request target as the client sent it, before any router rewrote it.
 */
export function fromNodeRequest(
	raw: IncomingMessage,
	url: string,
	getUserId: () => MaybeUserId | Promise<MaybeUserId>,
): RefkitRequest {
	return {
		method: raw.method ?? "GET",
		url,
		header: (name) => {
			const value = raw.headers[name];
			return Array.isArray(value) ? value.join(", ") : value;
		},
		remoteAddress: raw.socket?.remoteAddress,
		getUserId,
	};
}

/** `request.user?.id`, the convention of Passport and @fastify/passport: the default `getUserId`. */
export function passportUserId(request: object): MaybeUserId {
	const id = (request as { user?: { id?: unknown } }).user?.id;
	return typeof id === "string" || typeof id === "number" ? id : null;
}
