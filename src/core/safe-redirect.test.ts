import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { OPEN_REDIRECT_BYPASSES as BYPASSES } from "../../test/setup/bypasses.js";
import { safeRedirectPath } from "./safe-redirect.js";

const ORIGIN = "https://app.example";

/** Where a browser on ORIGIN would go for a Location header value. */
function browserResolves(location: string): URL {
	return new URL(location, `${ORIGIN}/ref/abc`);
}

describe("safeRedirectPath", () => {
	test.each(BYPASSES)("refuses %j", (next) => {
		expect(safeRedirectPath(next)).toBeNull();
	});

	test.each([
		["/", "/"],
		["/foo", "/foo"],
		["/foo?a=1&b=2", "/foo?a=1&b=2"],
		["/foo/bar#section", "/foo/bar#section"],
		["/search?q=%2F%2Fnot-a-host", "/search?q=%2F%2Fnot-a-host"],
		["/my%20page?q=a%20b", "/my%20page?q=a%20b"],
		["/café", "/caf%C3%A9"],
		["/a/../b", "/b"],
		["/accounts/signup/", "/accounts/signup/"],
	])("%j becomes %j", (next, expected) => {
		expect(safeRedirectPath(next)).toBe(expected);
	});

	test("a next that normalising would make longer than 2,048 characters is refused: the Location stays bounded", () => {
		const emoji = "😀".repeat(1000); // 2,000 characters, 12,000 once percent-encoded
		expect(safeRedirectPath(`/x${emoji}`)).toBeNull();
		expect(safeRedirectPath(`/${"a".repeat(2047)}`)).toBe(`/${"a".repeat(2047)}`);
		expect(safeRedirectPath(`/${"é".repeat(300)}`)).toBe(`/${"%C3%A9".repeat(300)}`);
	});

	test("refuses what is not a string", () => {
		for (const value of [undefined, null, 42, {}, ["/foo"]]) expect(safeRedirectPath(value)).toBeNull();
	});

	test("property: whatever it accepts, a browser resolves on the same origin", () => {
		fc.assert(
			fc.property(fc.string({ unit: "binary", maxLength: 80 }), (next) => {
				const safe = safeRedirectPath(next);
				if (safe === null) return;
				expect(browserResolves(safe).origin).toBe(ORIGIN);
				// And so does the value as the visitor wrote it (some servers redirect to it undecoded).
				expect(browserResolves(next).origin).toBe(ORIGIN);
				expect(safe.startsWith("/") && !safe.startsWith("//")).toBe(true);
			}),
			{ numRuns: 5000 },
		);
	});

	test("property: prefixes an attacker controls never lead off-site", () => {
		const prefix = fc.constantFrom(
			"/",
			"//",
			"/\\",
			"\\",
			"/%2F",
			"/%5C",
			" /",
			"\t/",
			"https:",
			"javascript:",
			"/.",
			"/..",
			"/a/..",
		);
		const tail = fc.string({
			unit: fc.constantFrom("/", "\\", "%", "2", "F", "5", "C", "a", ".", ":", "@", "\t", " "),
			maxLength: 20,
		});
		fc.assert(
			fc.property(prefix, tail, (head, rest) => {
				const safe = safeRedirectPath(`${head}${rest}`);
				if (safe !== null) expect(browserResolves(safe).origin).toBe(ORIGIN);
			}),
			{ numRuns: 5000 },
		);
	});

	test("property: ordinary paths pass unchanged", () => {
		const segment = fc.string({
			unit: fc.constantFrom(..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~"),
			minLength: 1,
			maxLength: 12,
		});
		fc.assert(
			fc.property(fc.array(segment, { minLength: 1, maxLength: 5 }), (segments) => {
				const path = `/${segments.filter((s) => s !== "." && s !== "..").join("/")}`;
				expect(safeRedirectPath(path)).toBe(new URL(path, ORIGIN).pathname);
			}),
		);
	});
});
