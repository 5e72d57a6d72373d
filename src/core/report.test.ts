import { describe, expect, test, vi } from "vitest";
import { RefkitError } from "../errors.js";
import type { CoreContext } from "./context.js";
import { report } from "./report.js";

function fakeContext(onError: (error: unknown) => void): CoreContext {
	return {
		options: { onError } as unknown as CoreContext["options"],
		counters: {
			hitsRecorded: 0,
			hitsSkipped: { bot: 0, preview: 0, head: 0, duplicate: 0, consent: 0 },
			hitsDropped: 0,
			errors: 0,
		},
	} as unknown as CoreContext;
}

describe("report", () => {
	test("dropped hits are all counted, and told to onError once a second, not once a hit", () => {
		vi.useFakeTimers();
		try {
			const told: unknown[] = [];
			const ctx = fakeContext((error) => told.push(error));
			const full = new RefkitError("QUEUE_FULL", "refkit: 10000 hits are already waiting");
			for (let i = 0; i < 500; i++) report(ctx, full, { operation: "follow" });
			expect(ctx.counters).toMatchObject({ hitsDropped: 500, errors: 1 });
			expect(told).toEqual([full]);
			vi.advanceTimersByTime(1001);
			report(ctx, full, { operation: "follow" });
			expect(ctx.counters).toMatchObject({ hitsDropped: 501, errors: 2 });
			// Other errors are told every time.
			report(ctx, new Error("other"), { operation: "follow" });
			report(ctx, new Error("other"), { operation: "follow" });
			expect(told).toHaveLength(4);
		} finally {
			vi.useRealTimers();
		}
	});
});
