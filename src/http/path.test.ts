import fc from "fast-check";
import { expect, test } from "vitest";
import { pathAndQuery } from "./path.js";

test("pathAndQuery gives what the URL parser gives, for any URL a Request can carry", () => {
	fc.assert(
		fc.property(fc.webUrl({ withQueryParameters: true, withFragments: true }), (raw) => {
			const url = new URL(raw);
			expect(pathAndQuery(url.href)).toBe(url.pathname + url.search);
		}),
	);
	expect(pathAndQuery("http://localhost")).toBe("/");
	expect(pathAndQuery("https://a.example:8443/ref/x?next=%2Fa#top")).toBe("/ref/x?next=%2Fa");
});
