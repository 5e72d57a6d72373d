import { afterEach, describe, expect, test, vi } from "vitest";
import { isRefkitError } from "./errors.js";
import { DEFAULTS, type RefkitOptions, resolveOptions } from "./options.js";

const SECRET = "0123456789abcdef0123456789abcdef";
const base: RefkitOptions = { database: ":memory:", secret: SECRET };

function optionError(options: unknown): string {
	try {
		resolveOptions(options as RefkitOptions);
	} catch (error) {
		if (isRefkitError(error, "INVALID_OPTION")) return error.message;
		throw error;
	}
	throw new Error("expected INVALID_OPTION");
}

afterEach(() => {
	vi.unstubAllEnvs();
	vi.restoreAllMocks();
});

describe("resolveOptions", () => {
	test("fills in the documented defaults and freezes the result", () => {
		const resolved = resolveOptions(base);
		expect(resolved).toMatchObject({
			cookieName: DEFAULTS.cookie.name,
			urlParam: "ref",
			successUrl: "/",
			mountPath: "/ref",
			trustProxy: false,
			ip: "full",
			attribution: "last",
			attributionWindow: 90 * 24 * 60 * 60 * 1000,
			codeWindow: 30 * 24 * 60 * 60 * 1000,
			dedupeWindow: 0,
			hitWrites: "durable",
			skipBots: true,
		});
		expect(resolved.cookie).toMatchObject({
			httpOnly: true,
			maxAge: 31_536_000,
			sameSite: "lax",
			secure: false,
		});
		expect(Object.isFrozen(resolved)).toBe(true);
	});

	test.each(["production", "staging", undefined])(
		"outside development (NODE_ENV=%s) a missing secret is refused",
		(env) => {
			vi.stubEnv("NODE_ENV", env);
			expect(optionError({ database: ":memory:" })).toMatch(
				/options\.secret is missing.*openssl rand -hex 32/,
			);
		},
	);

	test("while Next.js builds, a missing secret is not an error; next start checks it again", () => {
		vi.stubEnv("NODE_ENV", "production");
		vi.stubEnv("NEXT_PHASE", "phase-production-build");
		const building = resolveOptions({ database: ":memory:" });
		expect(building.secret).toMatch(/^[0-9a-f]{64}$/);
		expect(resolveOptions({ database: ":memory:" }).secret).not.toBe(building.secret);
		// A short secret is a mistake even then.
		expect(optionError({ ...base, secret: "short" })).toMatch(/at least 32 characters/);
		vi.stubEnv("NEXT_PHASE", "phase-production-server");
		expect(optionError({ database: ":memory:" })).toMatch(/options\.secret is missing/);
	});

	test("outside development a short secret is refused, saying how long it was", () => {
		vi.stubEnv("NODE_ENV", "production");
		expect(optionError({ ...base, secret: "short" })).toMatch(
			/at least 32 characters \(got 5\).*openssl rand/,
		);
	});

	test("a list of secrets rotates: the newest signs, all verify", () => {
		const newest = "n".repeat(32);
		const resolved = resolveOptions({ ...base, secret: [newest, SECRET] });
		expect(resolved.secret).toBe(newest);
		expect(resolved.secrets).toEqual([newest, SECRET]);
		expect(resolveOptions(base).secrets).toEqual([SECRET]);
		expect(optionError({ ...base, secret: [] })).toMatch(/1 to 10 secrets/);
		expect(optionError({ ...base, secret: [newest, "short"] })).toMatch(
			/options\.secret\[1\] must be a string of at least 32/,
		);
		expect(optionError({ ...base, secret: [SECRET, SECRET] })).toMatch(/same secret twice/);
		expect(optionError({ ...base, secret: 42 })).toMatch(/must be a string, or a list/);
	});

	test("in development a missing secret is replaced with a warning", () => {
		vi.stubEnv("NODE_ENV", "development");
		const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
		expect(resolveOptions({ database: ":memory:" }).secret.length).toBeGreaterThanOrEqual(32);
		expect(warn).toHaveBeenCalledOnce();
	});

	test.each<[string, Record<string, unknown>, RegExp]>([
		["an unknown option (a typo)", { sucessUrl: "/" }, /options\.sucessUrl is not an option/],
		["no database", { database: undefined }, /options\.database is missing/],
		[
			"an off-site success URL",
			{ successUrl: "https://evil.example" },
			/successUrl must be a same-site path/,
		],
		["a scheme-relative success URL", { successUrl: "//evil.example" }, /successUrl/],
		["a mount path without a slash", { mountPath: "ref" }, /mountPath must be a path/],
		["a mount path with a query", { mountPath: "/ref?x" }, /mountPath/],
		["a bad URL parameter", { urlParam: "a b" }, /urlParam/],
		["a bad cookie name", { cookie: { name: "a;b" } }, /cookie\.name/],
		["an unknown cookie option", { cookie: { maxage: 5 } }, /cookie\.maxage is not an option/],
		["a negative max age", { cookie: { maxAge: -1 } }, /maxAge must be a positive/],
		["a fractional max age", { cookie: { maxAge: 1.5 } }, /maxAge/],
		["a bad sameSite", { cookie: { sameSite: "loose" } }, /sameSite must be/],
		["sameSite none without secure", { cookie: { sameSite: "none" } }, /needs options\.cookie\.secure/],
		["a bad trustProxy", { trustProxy: "yes" }, /trustProxy/],
		["a negative trustProxy", { trustProxy: -1 }, /trustProxy/],
		["a non-function onError", { onError: "log" }, /onError must be a function/],
	])("refuses %s with a message that names the option", (_name, override, message) => {
		expect(optionError({ ...base, ...override })).toMatch(message);
	});

	test.each([
		[{ attribution: "middle" }, /attribution must be "last" or "first"/],
		[{ ip: "partial" }, /options.ip must be "full", "truncate" or "none"/],
		[{ attributionWindow: 0 }, /attributionWindow must be a whole number of milliseconds from 1/],
		[{ attributionWindow: 1.5 }, /attributionWindow/],
		[{ attributionWindow: "90d" }, /attributionWindow/],
		[{ codeWindow: -1 }, /codeWindow/],
		[{ dedupeWindow: -1 }, /dedupeWindow must be a whole number of milliseconds from 0/],
		[{ dedupeWindow: 1e15 }, /dedupeWindow/],
		[{ skipBots: "no" }, /skipBots must be a boolean/],
		[{ hitWrites: "later" }, /hitWrites must be "durable" or "buffered"/],
	])("refuses %o", (options, message) => {
		expect(optionError({ ...base, ...options })).toMatch(message);
	});

	test("accepts custom settings and trims a trailing slash from the mount path", () => {
		const resolved = resolveOptions({
			...base,
			mountPath: "/invite/",
			urlParam: "via",
			successUrl: "/welcome",
			trustProxy: 1,
			cookie: { name: "ref_v", sameSite: "none", secure: true, maxAge: 60, domain: ".example.com" },
		});
		expect(resolved.mountPath).toBe("/invite");
		expect(resolved.cookie).toMatchObject({
			sameSite: "none",
			secure: true,
			maxAge: 60,
			domain: ".example.com",
		});
	});
});
