import { describe, expect, test } from "vitest";
import { csvField } from "./csv.js";

describe("csvField", () => {
	test("a formula at the start of a field is defused, as before", () => {
		expect(csvField("=1+1")).toBe("'=1+1");
		expect(csvField("@SUM(A1)")).toBe("'@SUM(A1)");
		expect(csvField("-2+3")).toBe("'-2+3");
		expect(csvField("\t=1")).toBe("'\t=1");
	});

	test("a formula after a list separator is defused too: ; in German, French and Dutch spreadsheets", () => {
		expect(csvField("/x;=1+1;")).toBe("/x;'=1+1;");
		expect(csvField("/x;+cmd|' /C calc'!A0")).toBe("/x;'+cmd|' /C calc'!A0");
		expect(csvField("a,@b")).toBe(`"a,'@b"`);
		expect(csvField("a;\r=1")).toBe(`"a;'\r=1"`);
		expect(csvField("x;-1;=2")).toBe("x;'-1;'=2");
	});

	test("ordinary values are left as they are, and quoted where RFC 4180 says", () => {
		expect(csvField("Mozilla/5.0 (X11; Linux x86_64)")).toBe("Mozilla/5.0 (X11; Linux x86_64)");
		expect(csvField("/pricing?a=1&b=2")).toBe("/pricing?a=1&b=2");
		expect(csvField('say "hi", then go')).toBe('"say ""hi"", then go"');
		expect(csvField(null)).toBe("");
		expect(csvField(42)).toBe("42");
	});
});
