import { expect, test } from "vitest";
import { prefersJson, requestOrigin } from "./handler.js";

test("JSON only when Accept prefers it to HTML", () => {
	for (const accept of [
		"application/json",
		"application/json, text/plain",
		"text/html;q=0.5, application/json",
		"application/*",
		"*/*;q=0.1, application/json",
		"text/*;q=0.2, application/json;q=0.3",
	]) {
		expect(prefersJson(accept), accept).toBe(true);
	}
	for (const accept of [
		undefined,
		"",
		"*/*",
		"text/html",
		"text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8",
		"application/json;q=0.5, text/html",
		"application/json, text/html",
		"application/json;q=0, */*",
		"text/plain",
	]) {
		expect(prefersJson(accept), String(accept)).toBe(false);
	}
});

test("the origin from a Host that is a plain host name or address, and the request's scheme", () => {
	expect(requestOrigin("example.com", true)).toBe("https://example.com");
	expect(requestOrigin("Shop.Example.COM:8443", false)).toBe("http://shop.example.com:8443");
	expect(requestOrigin("127.0.0.1:3000", false)).toBe("http://127.0.0.1:3000");
	expect(requestOrigin("[::1]:3000", true)).toBe("https://[::1]:3000");
	expect(requestOrigin("localhost", false)).toBe("http://localhost");
	// The default port is no part of an origin.
	expect(requestOrigin("example.com:443", true)).toBe("https://example.com");
	for (const host of [
		undefined,
		"",
		"evil.example/path",
		"evil.example@good.example",
		"a b",
		"example.com:port",
		"example.com:123456",
		"-bad.example",
		"example.com\r\nx: y",
		"user:pass@example.com",
		`${"a".repeat(64)}.example`,
		"example.com.",
		'"><script>',
		// Plain to look at, refused by the URL parser: never an origin, so never an error to report.
		"foo.123",
		"1.2.3.4.5",
		"999.1.1.1",
		"[1:2]",
		"example.com:99999",
	]) {
		expect(requestOrigin(host, true), String(host)).toBeNull();
	}
});
