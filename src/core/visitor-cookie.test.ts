import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { newVisitorId, signVisitorId, verifyVisitorCookie } from "./visitor-cookie.js";

const SECRET = "s".repeat(32);

describe("visitor cookie", () => {
	test("a signed visitor id verifies, as <visitor id>.<signature>", () => {
		const id = newVisitorId();
		const value = signVisitorId(id, SECRET);
		expect(value.startsWith(`${id}.`)).toBe(true);
		expect(verifyVisitorCookie(value, [SECRET])).toBe(id);
	});

	test("new visitor ids are version 7 UUIDs, and cookies made before them (version 4) still verify", () => {
		const id = newVisitorId();
		expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
		expect(Number.parseInt(id.replaceAll("-", "").slice(0, 12), 16)).toBeLessThanOrEqual(Date.now());
		const older = "0b7e3c1a-52f4-4d7e-9a0c-3f1d2e4b5a69";
		expect(verifyVisitorCookie(signVisitorId(older, SECRET), [SECRET])).toBe(older);
	});

	test("another secret's signature does not verify", () => {
		const value = signVisitorId(newVisitorId(), SECRET);
		expect(verifyVisitorCookie(value, ["t".repeat(32)])).toBeNull();
	});

	test("property: any change to a valid cookie makes it invalid", () => {
		const value = signVisitorId(newVisitorId(), SECRET);
		fc.assert(
			fc.property(fc.nat(value.length - 1), fc.string({ minLength: 1, maxLength: 1 }), (index, char) => {
				fc.pre(value[index] !== char);
				const tampered = value.slice(0, index) + char + value.slice(index + 1);
				expect(verifyVisitorCookie(tampered, [SECRET])).toBeNull();
			}),
		);
	});

	test("property: arbitrary input never verifies and never throws", () => {
		fc.assert(
			fc.property(fc.oneof(fc.string({ maxLength: 200 }), fc.anything()), (value) => {
				expect(verifyVisitorCookie(value, [SECRET])).toBeNull();
			}),
		);
	});

	test("while rotating, a cookie signed with any listed secret verifies; a dropped one does not", () => {
		const id = newVisitorId();
		const old = signVisitorId(id, SECRET);
		const fresh = signVisitorId(id, "n".repeat(32));
		expect(verifyVisitorCookie(old, ["n".repeat(32), SECRET])).toBe(id);
		expect(verifyVisitorCookie(fresh, ["n".repeat(32), SECRET])).toBe(id);
		expect(verifyVisitorCookie(old, ["n".repeat(32)])).toBeNull();
		expect(verifyVisitorCookie(old, [])).toBeNull();
	});

	test("oversized values are refused before any hashing", () => {
		const value = signVisitorId(newVisitorId(), SECRET);
		expect(verifyVisitorCookie(value + "A".repeat(100_000), [SECRET])).toBeNull();
	});
});
