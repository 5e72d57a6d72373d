import { isIP } from "node:net";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { clientIp, normalizeIp, storedIp, truncateIp } from "./ip.js";

describe("normalizeIp", () => {
	test.each([
		["127.0.0.1", "127.0.0.1"],
		["::ffff:127.0.0.1", "127.0.0.1"],
		["::FFFF:10.1.2.3", "10.1.2.3"],
		["[2001:DB8::1]", "2001:db8::1"],
		["::1", "::1"],
		[" 203.0.113.7 ", "203.0.113.7"],
	])("%s → %s", (input, expected) => {
		expect(normalizeIp(input)).toBe(expected);
	});

	test.each([undefined, "", "localhost", "1.2.3.4.5", "not an ip", "1.2.3.4:80", "<script>"])(
		"%j is not an address",
		(input) => {
			expect(normalizeIp(input)).toBeNull();
		},
	);
});

describe("clientIp", () => {
	const xff = "203.0.113.1, 198.51.100.2, 10.0.0.3";

	test("ignores X-Forwarded-For unless trusted", () => {
		expect(clientIp("::ffff:10.0.0.9", xff, false)).toBe("10.0.0.9");
	});

	test("true trusts every proxy: the left-most address", () => {
		expect(clientIp("10.0.0.9", xff, true)).toBe("203.0.113.1");
	});

	test("a number trusts that many proxies from the right", () => {
		expect(clientIp("10.0.0.9", xff, 0)).toBe("10.0.0.9");
		expect(clientIp("10.0.0.9", xff, 1)).toBe("10.0.0.3");
		expect(clientIp("10.0.0.9", xff, 2)).toBe("198.51.100.2");
		expect(clientIp("10.0.0.9", xff, 9)).toBe("203.0.113.1");
	});

	test("an entry that is no address falls back to the peer's address", () => {
		expect(clientIp("10.0.0.9", "'; DROP TABLE refkit_hit; --", true)).toBe("10.0.0.9");
		expect(clientIp("10.0.0.9", "garbage, 198.51.100.2", 2)).toBe("10.0.0.9");
		expect(clientIp("::ffff:10.0.0.9", "unknown", 1)).toBe("10.0.0.9");
		expect(clientIp(undefined, "garbage", true)).toBeNull();
	});
});

describe("truncateIp", () => {
	test.each([
		["203.0.113.9", "203.0.113.0"],
		["10.0.0.255", "10.0.0.0"],
		["2001:db8:85a3:8d3:1319:8a2e:370:7348", "2001:db8:85a3::"],
		["2001:db8::1", "2001:db8:0::"],
		["::1", "0:0:0::"],
		["fe80::1%eth0", "fe80:0:0::"],
		["64:ff9b::192.0.2.33", "64:ff9b:0::"],
		// 6to4 holds the client's IPv4 address (203.0.113.9) in its /48: truncated as that address is.
		["2002:cb00:7109::1", "2002:cb00:7100::"],
		["2002:cb00:71ff:1:2:3:4:5", "2002:cb00:7100::"],
		// Teredo: server 65.54.227.120 in bits 32-63, the client obscured in the last 32: the prefix only.
		["2001:0:4136:e378:8000:63bf:3fff:fdd2", "2001:0:0::"],
	])("%s → %s", (input, expected) => {
		expect(truncateIp(input)).toBe(expected);
		expect(isIP(truncateIp(input))).toBe(isIP(input.replace(/%.*$/, "")));
	});

	test("property: an IPv6 address outside the tunnels keeps its first 48 bits and loses the other 80", () => {
		const group = fc.integer({ min: 0, max: 0xffff });
		fc.assert(
			fc.property(fc.array(group, { minLength: 8, maxLength: 8 }), (groups) => {
				if (groups[0] === 0x2002 || (groups[0] === 0x2001 && groups[1] === 0)) return; // tested above
				const full = groups.map((g) => g.toString(16)).join(":");
				const normal = normalizeIp(full) ?? full;
				const truncated = truncateIp(normal);
				// Expanding the truncated form gives the first three groups, then zeros.
				const expanded = new URL(`http://[${truncated}]/`).hostname;
				const expected = new URL(
					`http://[${groups
						.slice(0, 3)
						.map((g) => g.toString(16))
						.join(":")}::]/`,
				).hostname;
				expect(expanded).toBe(expected);
			}),
			{ numRuns: 2000 },
		);
	});

	test("storedIp keeps, truncates or drops the address", () => {
		expect(storedIp("203.0.113.9", "full")).toBe("203.0.113.9");
		expect(storedIp("203.0.113.9", "truncate")).toBe("203.0.113.0");
		expect(storedIp("203.0.113.9", "none")).toBeNull();
		expect(storedIp(null, "full")).toBeNull();
	});
});
