import { expect, test } from "vitest";
import type { ReferralLink } from "../types.js";
import { LinkCache } from "./link-cache.js";

const link = { id: 1, identifier: "spring", disabled: false } as ReferralLink;

test("peek() gives a link only once its lookup has succeeded, until it is forgotten", async () => {
	const cache = new LinkCache();
	let release: (value: ReferralLink | null) => void = () => {};
	const found = cache.find("spring", () => new Promise((resolve) => (release = resolve)));
	expect(cache.peek("spring")).toBeUndefined();
	release(link);
	await found;
	expect(cache.peek("spring")).toBe(link);
	cache.forget("spring");
	expect(cache.peek("spring")).toBeUndefined();
});

test("peek() gives null for an identifier looked up and unknown, and nothing after a failed lookup", async () => {
	const cache = new LinkCache();
	await cache.find("nobody", async () => null);
	expect(cache.peek("nobody")).toBeNull();
	await expect(cache.find("broken", async () => Promise.reject(new Error("down")))).rejects.toThrow("down");
	expect(cache.peek("broken")).toBeUndefined();
	// The failure is not kept: the next find looks it up again.
	expect(await cache.find("broken", async () => link)).toBe(link);
	expect(cache.peek("broken")).toBe(link);
});
