import { createHmac } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import fc from "fast-check";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { isRefkitError } from "../errors.js";
import type { Conversion, Delivery } from "../types.js";
import {
	verifyWebhookSignature,
	WEBHOOK_IDEMPOTENCY_HEADER,
	WEBHOOK_SIGNATURE_HEADER,
	WebhookDeliveryError,
	type WebhookSenderOptions,
	webhookSender,
} from "./webhook.js";

const SECRET = "w".repeat(32);

const conversion: Conversion = {
	id: "0b6f3c4e-8a1d-4f2b-9c7e-5d3a2b1c0f9e",
	goal: "purchase",
	referredUserId: "user_42",
	referrerUserId: "user_7",
	hitId: "6a1e2d3c-4b5a-4968-8776-655443322110",
	linkId: 3,
	value: 4999,
	createdAt: new Date("2025-01-02T03:04:05.678Z"),
	reversedAt: new Date("2025-02-03T04:05:06.789Z"),
	reversalReason: "refund",
	deliveredAt: null,
	reversalDeliveredAt: null,
};

const delivery: Delivery = {
	type: "reversal",
	idempotencyKey: `${conversion.id}:reversal`,
	attempt: 2,
	conversion,
};

/** The signature header for `body` at `timestamp`, computed here with node:crypto alone. */
function signatureFor(body: string, secret: string, timestamp: number): string {
	const hex = createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex");
	return `t=${timestamp},v1=${hex}`;
}

function nowSeconds(): number {
	return Math.floor(Date.now() / 1000);
}

function expectInvalidArgument(run: () => unknown): void {
	let thrown: unknown;
	try {
		run();
	} catch (error) {
		thrown = error;
	}
	expect(isRefkitError(thrown, "INVALID_ARGUMENT"), String(thrown)).toBe(true);
	expect((thrown as Error).message).toMatch(/^refkit: /);
}

async function rejection(promise: Promise<unknown>): Promise<WebhookDeliveryError> {
	const error = await promise.then(
		() => undefined,
		(reason: unknown) => reason,
	);
	expect(error).toBeInstanceOf(WebhookDeliveryError);
	return error as WebhookDeliveryError;
}

interface Received {
	method: string;
	path: string;
	headers: IncomingHttpHeaders;
	body: string;
}

type Answer = (request: IncomingMessage, response: ServerResponse) => void;

describe("webhookSender against a real receiver", () => {
	const received: Received[] = [];
	let answer: Answer = (_request, response) => response.writeHead(204).end();
	const server = createServer((request, response) => {
		const chunks: Buffer[] = [];
		request.on("data", (chunk: Buffer) => chunks.push(chunk));
		request.on("end", () => {
			received.push({
				method: request.method ?? "",
				path: request.url ?? "",
				headers: request.headers,
				body: Buffer.concat(chunks).toString("utf8"),
			});
			answer(request, response);
		});
	});
	let base = "";

	beforeAll(async () => {
		await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
		base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
	});

	afterAll(async () => {
		server.closeAllConnections();
		await new Promise<void>((resolve) => server.close(() => resolve()));
	});

	beforeEach(() => {
		received.length = 0;
		answer = (_request, response) => response.writeHead(204).end();
	});

	function send(options: Partial<WebhookSenderOptions> = {}): Promise<void> {
		return webhookSender({ url: `${base}/hooks/refkit`, secret: SECRET, ...options })(delivery);
	}

	test("a delivery arrives as signed JSON with its idempotency key, and the signature verifies", async () => {
		const before = nowSeconds();
		await send({ headers: { authorization: "Bearer abc" } });
		const after = nowSeconds();

		expect(received).toHaveLength(1);
		const [request] = received as [Received];
		expect(request.method).toBe("POST");
		expect(request.path).toBe("/hooks/refkit");
		expect(request.headers["content-type"]).toBe("application/json");
		expect(request.headers["user-agent"]).toBe("refkit-webhook");
		expect(request.headers.authorization).toBe("Bearer abc");
		expect(request.headers[WEBHOOK_IDEMPOTENCY_HEADER]).toBe(`${conversion.id}:reversal`);

		const event = JSON.parse(request.body);
		expect(event).toEqual({
			type: "reversal",
			idempotencyKey: `${conversion.id}:reversal`,
			attempt: 2,
			conversion: {
				...conversion,
				createdAt: "2025-01-02T03:04:05.678Z",
				reversedAt: "2025-02-03T04:05:06.789Z",
			},
		});
		expect(event.conversion.id).toBe(conversion.id);

		// Checked independently of the module: t=<seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">.
		const header = request.headers[WEBHOOK_SIGNATURE_HEADER];
		expect(typeof header).toBe("string");
		const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header as string);
		expect(match).not.toBeNull();
		const [, t, v1] = match as unknown as [string, string, string];
		expect(Number(t)).toBeGreaterThanOrEqual(before);
		expect(Number(t)).toBeLessThanOrEqual(after);
		expect(v1).toBe(createHmac("sha256", SECRET).update(`${t}.${request.body}`).digest("hex"));

		expect(verifyWebhookSignature({ body: request.body, signature: header as string, secret: SECRET })).toBe(
			true,
		);
	});

	test("any 2xx answer resolves, even with a body", async () => {
		answer = (_request, response) => response.writeHead(200, { "content-type": "text/plain" }).end("ok");
		await expect(send()).resolves.toBeUndefined();
		answer = (_request, response) => response.writeHead(202).end();
		await expect(send()).resolves.toBeUndefined();
	});

	test.each([500, 404])("a %i answer rejects with its status and the start of its body", async (status) => {
		answer = (_request, response) => response.writeHead(status).end(`boom ${"x".repeat(1000)}`);
		const error = await rejection(send());
		expect(error.status).toBe(status);
		// The URL's path may be a token (Slack, Discord, Zapier): only its first segment is shown.
		expect(error.message).toContain(`POST to ${base}/hooks/… answered ${status}`);
		expect(error.message).not.toContain("/hooks/refkit");
		expect(error.message).toContain(`boom ${"x".repeat(195)}`);
		expect(error.message).not.toContain("x".repeat(196));
	});

	test("a redirect is not followed and rejects with its status", async () => {
		answer = (request, response) => {
			if (request.url === "/moved") response.writeHead(204).end();
			else response.writeHead(302, { location: `${base}/moved` }).end();
		};
		const error = await rejection(send());
		expect(error.status).toBe(302);
		expect(error.message).toContain(`redirected (302 to ${base}/moved)`);
		expect(received.map((request) => request.path)).toEqual(["/hooks/refkit"]);
	});

	test("a receiver that never answers rejects after timeoutMs", async () => {
		answer = () => undefined;
		const started = Date.now();
		const error = await rejection(send({ timeoutMs: 200 }));
		expect(Date.now() - started).toBeLessThan(5_000);
		expect(error.status).toBeUndefined();
		expect(error.message).toContain("200 ms");
		expect(error.message).toContain(`${base}/hooks/…`);
	});

	test("a closed port rejects with the network error", async () => {
		const closed = createServer();
		await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
		const { port } = closed.address() as AddressInfo;
		await new Promise<void>((resolve) => closed.close(() => resolve()));

		const sendToClosed = webhookSender({ url: `http://127.0.0.1:${port}/hooks`, secret: SECRET });
		const error = await rejection(sendToClosed(delivery));
		expect(error.status).toBeUndefined();
		expect(error.message).toContain(`POST to http://127.0.0.1:${port}/hooks failed`);
		expect(error.message).toContain("ECONNREFUSED");
		expect(error.cause).toBeDefined();
	});
});

describe("verifyWebhookSignature", () => {
	const body = JSON.stringify({ type: "conversion", idempotencyKey: conversion.id, attempt: 1, conversion });

	test("a fresh signature over the exact body verifies, spaces around entries or not", () => {
		const t = nowSeconds();
		const header = signatureFor(body, SECRET, t);
		expect(verifyWebhookSignature({ body, signature: header, secret: SECRET })).toBe(true);
		const spaced = ` ${header.replace(",", " , ").replace("=", " = ")} `;
		expect(verifyWebhookSignature({ body, signature: spaced, secret: SECRET })).toBe(true);
	});

	test("a tampered body or another secret does not verify", () => {
		const header = signatureFor(body, SECRET, nowSeconds());
		expect(
			verifyWebhookSignature({ body: body.replace("4999", "9999"), signature: header, secret: SECRET }),
		).toBe(false);
		expect(verifyWebhookSignature({ body: `${body} `, signature: header, secret: SECRET })).toBe(false);
		expect(verifyWebhookSignature({ body, signature: header, secret: "v".repeat(32) })).toBe(false);
		expect(verifyWebhookSignature({ body, signature: header, secret: "" })).toBe(false);
	});

	test("a timestamp further than the tolerance from now does not verify", () => {
		const now = new Date("2025-06-01T12:00:00Z");
		const t = now.getTime() / 1000;
		const check = (timestamp: number, toleranceSeconds?: number) =>
			verifyWebhookSignature({
				body,
				signature: signatureFor(body, SECRET, timestamp),
				secret: SECRET,
				now,
				...(toleranceSeconds === undefined ? {} : { toleranceSeconds }),
			});
		expect(check(t - 300)).toBe(true);
		expect(check(t - 301)).toBe(false);
		expect(check(t + 301)).toBe(false);
		expect(check(t - 3600)).toBe(false);
		expect(check(t - 3600, 7200)).toBe(true);
		expect(check(t - 10, 5)).toBe(false);
		expect(check(t - 10, Number.NaN)).toBe(false);
		// The real clock: a signature from an hour ago is refused.
		expect(
			verifyWebhookSignature({
				body,
				signature: signatureFor(body, SECRET, nowSeconds() - 3600),
				secret: SECRET,
			}),
		).toBe(false);
	});

	test("several v1 entries, as while rotating secrets: one match is enough", () => {
		const t = nowSeconds();
		const right = createHmac("sha256", SECRET).update(`${t}.${body}`).digest("hex");
		const wrong = createHmac("sha256", "v".repeat(32)).update(`${t}.${body}`).digest("hex");
		expect(
			verifyWebhookSignature({ body, signature: `t=${t},v1=${wrong},v1=${right}`, secret: SECRET }),
		).toBe(true);
		expect(
			verifyWebhookSignature({ body, signature: `t=${t}, v1=${right}, v1=${wrong}`, secret: SECRET }),
		).toBe(true);
		expect(
			verifyWebhookSignature({ body, signature: `t=${t},v1=${wrong},v1=${wrong}`, secret: SECRET }),
		).toBe(false);
	});

	test("malformed headers return false", () => {
		const t = nowSeconds();
		const right = createHmac("sha256", SECRET).update(`${t}.${body}`).digest("hex");
		const malformed: (string | null | undefined)[] = [
			null,
			undefined,
			"",
			"t=",
			"v1=abc",
			"garbage",
			`t=${t}`,
			`v1=${right}`,
			`t=${t},v1=`,
			`t=${t},v1=${right.slice(0, 63)}`,
			`t=${t},v1=${right.toUpperCase()}`,
			`t=${t},v0=${right}`,
			`t=abc,v1=${right}`,
			`t=${t}.5,v1=${right}`,
			`t=-${t},v1=${right}`,
			`t=${t},t=${t},v1=${right}`,
			`t=${t};v1=${right}`,
			`${right}`,
			`t=${t},v1=${right}${"0".repeat(5000)}`,
		];
		for (const signature of malformed) {
			expect(verifyWebhookSignature({ body, signature, secret: SECRET }), String(signature)).toBe(false);
		}
	});

	test("property: arbitrary signature headers never throw and never verify", () => {
		const t = nowSeconds();
		fc.assert(
			fc.property(
				fc.oneof(
					fc.string({ maxLength: 300 }),
					fc.string({ maxLength: 80 }).map((rest) => `t=${t},v1=${rest}`),
					fc.stringMatching(/^[0-9a-f]{64}$/).map((hex) => `t=${t},v1=${hex}`),
				),
				(signature) => {
					expect(verifyWebhookSignature({ body, signature, secret: SECRET })).toBe(false);
				},
			),
		);
	});

	test("property: changing any character of a valid header makes it fail", () => {
		const header = signatureFor(body, SECRET, nowSeconds());
		fc.assert(
			fc.property(fc.nat(header.length - 1), fc.string({ minLength: 1, maxLength: 1 }), (index, char) => {
				fc.pre(header[index] !== char && char.trim() !== "" && char !== ",");
				const tampered = header.slice(0, index) + char + header.slice(index + 1);
				expect(verifyWebhookSignature({ body, signature: tampered, secret: SECRET })).toBe(false);
			}),
		);
	});

	test("a secret that is not a string throws INVALID_ARGUMENT", () => {
		expectInvalidArgument(() =>
			verifyWebhookSignature({ body, signature: "t=1,v1=00", secret: undefined as unknown as string }),
		);
	});
});

describe("webhookSender options", () => {
	const valid: WebhookSenderOptions = { url: "https://example.com/hooks", secret: SECRET };

	test("valid options create a handler without any request", () => {
		expect(typeof webhookSender(valid)).toBe("function");
		expect(typeof webhookSender({ ...valid, url: "http://localhost:8080/x", timeoutMs: 1 })).toBe("function");
	});

	test.each<[string, Partial<Record<keyof WebhookSenderOptions, unknown>>]>([
		["a relative URL", { url: "/hooks" }],
		["an ftp: URL", { url: "ftp://example.com/hooks" }],
		["a URL with credentials", { url: "https://user:pass@example.com/hooks" }],
		["a missing URL", { url: undefined }],
		["a short secret", { secret: "too-short" }],
		["a missing secret", { secret: undefined }],
		["timeoutMs 0", { timeoutMs: 0 }],
		["a fractional timeoutMs", { timeoutMs: 1.5 }],
		["a header that overrides refkit-signature", { headers: { "Refkit-Signature": "t=1,v1=00" } }],
		["a header that overrides content-type", { headers: { "content-type": "text/plain" } }],
		["a header value that is not a string", { headers: { "x-count": 3 } }],
		["an invalid header name", { headers: { "bad header": "x" } }],
	])("%s throws INVALID_ARGUMENT", (_name, override) => {
		expectInvalidArgument(() => webhookSender({ ...valid, ...override } as WebhookSenderOptions));
	});

	test("the short-secret message says how to generate one", () => {
		expect(() => webhookSender({ ...valid, secret: "short" })).toThrow(/openssl rand -hex 32/);
	});
});
