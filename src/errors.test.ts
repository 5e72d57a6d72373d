import { describe, expect, test } from "vitest";
import { isRefkitError, RefkitError } from "./errors.js";

describe("isRefkitError", () => {
	test("recognises refkit's errors by code, and nothing else", () => {
		const error = new RefkitError("SALE_NOT_FOUND", "no sale");
		expect(isRefkitError(error)).toBe(true);
		expect(isRefkitError(error, "SALE_NOT_FOUND")).toBe(true);
		expect(isRefkitError(error, "NOT_MIGRATED")).toBe(false);
		for (const other of [
			new Error("x"),
			{ name: "RefkitError", code: "SALE_NOT_FOUND" },
			null,
			"RefkitError",
		]) {
			expect(isRefkitError(other)).toBe(false);
		}
	});

	test("an error of another copy of refkit (a bundler loads one per entry) is recognised by its name and code", () => {
		class OtherCopysRefkitError extends Error {
			readonly code = "CURRENCY_MISMATCH";
			override name = "RefkitError";
		}
		const error = new OtherCopysRefkitError("from another bundle");
		expect(error instanceof RefkitError).toBe(false);
		expect(isRefkitError(error, "CURRENCY_MISMATCH")).toBe(true);
		expect(isRefkitError(error, "SALE_NOT_FOUND")).toBe(false);
	});
});
