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
	const peer = normalizeIp(remoteAddress);
	if (trustProxy === false || !forwardedFor) return peer;
	const chain = forwardedFor.split(",").map((entry) => entry.trim());
	// An entry that is no address (garbage a client wrote) falls back to the peer, which is one.
	if (trustProxy === true) return normalizeIp(chain[0]) ?? peer;
	// The peer is the first proxy; each further trusted hop moves one address to the left.
	const hops = [...chain, remoteAddress];
	const index = Math.max(0, hops.length - 1 - trustProxy);
	return normalizeIp(hops[index]) ?? peer;
}

/** How much of a visitor's IP address hits keep: all of it, a truncated network prefix, or none. */
export type IpStorage = "full" | "truncate" | "none";

/** The eight 16-bit groups of an IPv6 address that `isIP` accepted (an IPv4 tail becomes two groups). */
function ipv6Groups(ip: string): number[] {
	let text = ip.replace(/%.*$/, "");
	const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
	if (v4) {
		const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
		text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
	}
	const [head = "", tail] = text.split("::");
	const first = head === "" ? [] : head.split(":");
	const last = tail === undefined || tail === "" ? [] : tail.split(":");
	const middle = tail === undefined ? [] : Array(8 - first.length - last.length).fill("0");
	return [...first, ...middle, ...last].map((group) => Number.parseInt(group, 16));
}

/**
 * Zeroes the host part of an address, as the common privacy practice does: the last octet of IPv4
 * (`203.0.113.9` → `203.0.113.0`), the last 80 bits of IPv6 (`2001:db8:85a3:8d3:1319:8a2e:370:7348` →
 * `2001:db8:85a3::`). IPv6 tunnels that carry an IPv4 address are truncated as that address: 6to4
 * (`2002:cb00:7109::1`, which holds 203.0.113.9, → `2002:cb00:7100::`) and Teredo (→ `2001:0:0::`).
 * `ip` must be normalised already.
 */
export function truncateIp(ip: string): string {
	if (isIP(ip) === 4) return ip.replace(/\.\d+$/, ".0");
	const [a = 0, b = 0, c = 0] = ipv6Groups(ip);
	// 6to4 (2002::/16) carries the client's IPv4 address in bits 16 to 47: keep it truncated, as an IPv4's.
	if (a === 0x2002) return `2002:${b.toString(16)}:${(c & 0xff00).toString(16)}::`;
	// Teredo (2001:0::/32) carries its server's IPv4 address in bits 32 to 63 and the client's, obscured, in
	// the last 32: keep the prefix only.
	if (a === 0x2001 && b === 0) return "2001:0:0::";
	return `${a.toString(16)}:${b.toString(16)}:${c.toString(16)}::`;
}

/** The IP address as a hit stores it under the `ip` option. */
export function storedIp(ip: string | null, mode: IpStorage): string | null {
	if (ip === null || mode === "none") return null;
	return mode === "truncate" ? truncateIp(ip) : ip;
}
