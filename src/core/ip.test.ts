import { describe, expect, test } from "vitest";
import { clientIp, normalizeIp } from "./ip.js";

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

	test("a spoofed garbage entry is not stored", () => {
		expect(clientIp("10.0.0.9", "'; DROP TABLE refkit_hit; --", true)).toBeNull();
	});
});
