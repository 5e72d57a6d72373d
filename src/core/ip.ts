import { isIP } from "node:net";

/**
 * How far to trust `X-Forwarded-For`:
 * - `false` (default): not at all, the socket's peer is the client;
 * - `true`: every proxy, the left-most address is the client;
 * - a number `n`: the `n` proxies closest to the server, so the client is the `n`-th address from the right.
 */
export type TrustProxy = boolean | number;

/** The canonical form of an IP address, or `null` if `value` is not one. `::ffff:1.2.3.4` becomes `1.2.3.4`. */
export function normalizeIp(value: string | undefined): string | null {
	if (!value) return null;
	let ip = value.trim();
	if (ip.startsWith("[") && ip.endsWith("]")) ip = ip.slice(1, -1);
	const version = isIP(ip);
	if (version === 4) return ip;
	if (version !== 6) return null;
	ip = ip.toLowerCase();
	const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(ip);
	return mapped?.[1] ?? ip;
}

/** The client's IP address, reading `X-Forwarded-For` only as far as `trustProxy` allows. */
export function clientIp(
	remoteAddress: string | undefined,
	forwardedFor: string | undefined,
	trustProxy: TrustProxy,
): string | null {
	if (trustProxy === false || !forwardedFor) return normalizeIp(remoteAddress);
	const chain = forwardedFor.split(",").map((entry) => entry.trim());
	if (trustProxy === true) return normalizeIp(chain[0]);
	// The peer is the first proxy; each further trusted hop moves one address to the left.
	const hops = [...chain, remoteAddress];
	const index = Math.max(0, hops.length - 1 - trustProxy);
	return normalizeIp(hops[index]);
}
