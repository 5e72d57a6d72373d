import { expect, test } from "vitest";
import type { ReferralLink } from "../types.js";
import { LINK_CACHE_MS, LinkCache } from "./link-cache.js";

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

test("known() keeps the last answer after it goes stale and after a failed lookup; forget() drops it", async () => {
	const cache = new LinkCache();
	expect(cache.known("spring")).toBeUndefined();
	await cache.find("spring", async () => link);
	expect(cache.known("spring")).toEqual({ value: link });
	cache.forget();
	await cache.find("spring", async () => link);
	// A failed refresh (forced by forgetting freshness: a new lookup after the answer went stale) keeps it.
	const stale = new LinkCache();
	await stale.find("spring", async () => link);
	await new Promise((resolve) => setTimeout(resolve, LINK_CACHE_MS + 20));
	expect(stale.peek("spring")).toBeUndefined();
	await expect(stale.find("spring", async () => Promise.reject(new Error("down")))).rejects.toThrow("down");
	expect(stale.known("spring")).toEqual({ value: link });
	// Concurrent lookups share one query while it is under way, even past its freshness.
	let loads = 0;
	let release: (value: ReferralLink | null) => void = () => {};
	const first = stale.find("spring", () => {
		loads++;
		return new Promise((resolve) => (release = resolve));
	});
	const second = stale.find("spring", async () => {
		loads++;
		return null;
	});
	release(link);
	expect(await Promise.all([first, second])).toEqual([link, link]);
	expect(loads).toBe(1);
	stale.forget("spring");
	expect(stale.known("spring")).toBeUndefined();
});
