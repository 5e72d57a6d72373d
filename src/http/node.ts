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
	hasConsent?: () => boolean | Promise<boolean>,
): RefkitRequest {
	return {
		method: raw.method ?? "GET",
		url,
		header: nodeHeader(raw),
		remoteAddress: raw.socket?.remoteAddress,
		getUserId,
		...(hasConsent ? { hasConsent } : {}),
	};
}

/** Reads one header of a Node.js request by its lower-case name; repeated headers are joined. */
export function nodeHeader(raw: IncomingMessage): (name: string) => string | undefined {
	return (name) => {
		const value = raw.headers[name];
		return Array.isArray(value) ? value.join(", ") : value;
	};
}

/** `request.user?.id`, the convention of Passport and @fastify/passport: the default `getUserId`. */
export function passportUserId(request: object): MaybeUserId {
	const id = (request as { user?: { id?: unknown } }).user?.id;
	return typeof id === "string" || typeof id === "number" ? id : null;
}
