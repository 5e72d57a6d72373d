import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { safeRedirectPath } from "./safe-redirect.js";

const ORIGIN = "https://app.example";

/** Where a browser on ORIGIN would go for a Location header value. */
function browserResolves(location: string): URL {
	return new URL(location, `${ORIGIN}/ref/abc`);
}

// Open-redirect payloads collected from public bypass lists (OWASP, PayloadsAllTheThings) and browser quirks.
const BYPASSES = [
	// Dot segments that a browser (and the URL parser) resolve into "//evil.example"; found by fast-check.
	"/.//evil.example",
	"/a/..//evil.example",
	"/./%2F/evil.example",
	"/.//",
	"//evil.example",
	"//evil.example/path",
	"///evil.example",
	"////evil.example",
	"/\\evil.example",
	"\\\\evil.example",
	"\\/evil.example",
	"/\\/evil.example",
	"/%5Cevil.example",
	"/%5cevil.example",
	"/%2F/evil.example",
	"/%2f%2fevil.example",
	"%2F%2Fevil.example",
	"/%252F%252Fevil.example",
	"/%25252F%25252Fevil.example",
	"https://evil.example",
	"http://evil.example",
	"HTTPS://evil.example",
	"//evil.example@app.example",
	"https:evil.example",
	"https:/evil.example",
	"javascript:alert(1)",
	"JaVaScRiPt:alert(1)",
	" javascript:alert(1)",
	"java\tscript:alert(1)",
	"java\nscript:alert(1)",
	"data:text/html,<script>alert(1)</script>",
	"vbscript:msgbox(1)",
	"mailto:a@evil.example",
	" //evil.example",
	"\t//evil.example",
	"/\t/evil.example",
	"/\n/evil.example",
	"/\r/evil.example",
	"/%09/evil.example",
	"/%0a/evil.example",
	"/%0d/evil.example",
	"/%00/evil.example",
	"/ /evil.example",
	"\u0000//evil.example",
	"/\u0000/evil.example",
	"evil.example",
	"evil.example/path",
	"./evil",
	"../evil",
	"?next=//evil.example",
	"#//evil.example",
	"",
	"/%",
	"/%E0%A4%A",
	`/${"a".repeat(3000)}`,
];

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
