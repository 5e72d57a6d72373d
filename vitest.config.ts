import { defineConfig } from "vitest/config";

export default defineConfig({
	test: {
		include: ["src/**/*.test.ts", "test/**/*.test.ts"],
		globalSetup: ["test/setup/postgres.ts"],
		reporters: ["default", "./test/setup/summary-reporter.ts"],
		testTimeout: 30_000,
		hookTimeout: 60_000,
	},
});
