import { describe, expect, test } from "vitest";
import { describeLocation, describeWebhookUrl, redactCredentials } from "./redact.js";

describe("secrets in messages", () => {
	test("a URL's password is replaced, wherever it is in the text", () => {
		expect(redactCredentials('cannot use "mysql://admin:s3cr%40t@db.example/app"')).toBe(
			'cannot use "mysql://admin:***@db.example/app"',
		);
		expect(redactCredentials("postgres://u:p@h/db and postgresql://:only@h")).toBe(
			"postgres://u:***@h/db and postgresql://:***@h",
		);
		expect(redactCredentials("postgres://user@h/db ./refkit.sqlite")).toBe(
			"postgres://user@h/db ./refkit.sqlite",
		);
		// A password with @, / or :, and one in the query.
		expect(redactCredentials("mysql://u:p@ss/w:rd@h/db")).toBe("mysql://u:***@h/db");
		expect(redactCredentials("postgres://h/db?user=u&password=s3cret&ssl=1")).toBe(
			"postgres://h/db?user=u&password=***&ssl=1",
		);
	});

	test("a webhook URL shows its origin and first path segment, never the token after it", () => {
		expect(describeWebhookUrl(new URL("https://hooks.slack.com/services/T00/B00/XXXXSECRET"))).toBe(
			"https://hooks.slack.com/services/…",
		);
		expect(describeWebhookUrl(new URL("https://discord.com/api/webhooks/123/tok"))).toBe(
			"https://discord.com/api/…",
		);
		expect(describeWebhookUrl(new URL("https://crm.example/hook?token=abc"))).toBe(
			"https://crm.example/hook/…",
		);
		expect(describeWebhookUrl(new URL("https://crm.example/refkit"))).toBe("https://crm.example/refkit");
		expect(describeWebhookUrl(new URL("https://crm.example/"))).toBe("https://crm.example");
		expect(describeLocation("/new/path/secret", new URL("https://a.example/x"))).toBe(
			"https://a.example/new/…",
		);
	});
});
