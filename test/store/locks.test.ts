import { expect, test } from "vitest";
import { SUMMARY_LOCK } from "../../src/store/locks.js";
import * as m0004 from "../../src/store/migrations/0004-stats-days.js";
import * as m0005 from "../../src/store/migrations/0005-stats-partial-days.js";

test("the summaries' lock key of the running code is the one the triggers of migrations 0004 and 0005 take", () => {
	expect(m0004.SUMMARY_LOCK).toBe(SUMMARY_LOCK);
	expect(m0005.SUMMARY_LOCK).toBe(SUMMARY_LOCK);
});
