import { expect, test } from "vitest";
import { redirectResponse } from "./fetch.js";

test("redirectResponse() carries the location and every cookie, however many", () => {
	const redirect = { status: 302, location: "/welcome" } as const;
	expect(redirectResponse({ redirect: null, setCookies: ["a=1"] })).toBeNull();
	for (const cookies of [[], ["a=1; Path=/"], ["a=1; Path=/", "b=; Max-Age=0"]]) {
		const response = redirectResponse({ redirect, setCookies: cookies });
		expect(response?.status).toBe(302);
		expect(response?.headers.get("location")).toBe("/welcome");
		expect(response?.headers.getSetCookie()).toEqual(cookies);
	}
});
