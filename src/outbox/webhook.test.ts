import { createHmac, randomBytes } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import fc from "fast-check";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { isRefkitError } from "../errors.js";
import type { Sale } from "../programs/types.js";
import type { Conversion, Delivery, LedgerDelivery } from "../types.js";
import {
	verifyWebhookSignature,
	WEBHOOK_ID_HEADER,
	WEBHOOK_SIGNATURE_HEADER,
	WEBHOOK_TIMESTAMP_HEADER,
	WebhookDeliveryError,
	type WebhookSenderOptions,
	webhookSender,
} from "./webhook.js";

/** A Standard Webhooks secret: `whsec_` and the base64 of 32 bytes. */
const SECRET = `whsec_${Buffer.from("refkit webhook test secret, 32 b").toString("base64")}`;
const OTHER_SECRET = `whsec_${Buffer.alloc(32, 7).toString("base64")}`;

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

const sale = { id: 12, externalId: "in_1", amount: 4999, currency: "EUR" } as unknown as Sale;
const ledgerDelivery: LedgerDelivery = {
	type: "sale.recorded",
	idempotencyKey: "5e0c1b7a-2f4d-4c3b-8a9e-1d2c3b4a5f6e",
	attempt: 1,
	event: {
		id: "5e0c1b7a-2f4d-4c3b-8a9e-1d2c3b4a5f6e",
		type: "sale.recorded",
		createdAt: new Date("2025-03-04T05:06:07.089Z"),
		data: sale,
	},
};

/** The three Standard Webhooks headers for `body`, signed by the `standardwebhooks` package itself. */
function signedHeaders(body: string, options: { secret?: string; id?: string; at?: Date } = {}) {
	const id = options.id ?? "msg_1";
	const at = options.at ?? new Date();
	return {
		[WEBHOOK_ID_HEADER]: id,
		[WEBHOOK_TIMESTAMP_HEADER]: String(Math.floor(at.getTime() / 1000)),
		[WEBHOOK_SIGNATURE_HEADER]: new Webhook(options.secret ?? SECRET).sign(id, at, body),
	};
}

function nowSeconds(): number {
	return Math.floor(Date.now() / 1000);
}

function expectInvalidArgument(run: () => unknown): RefkitErrorLike {
	let thrown: unknown;
	try {
		run();
	} catch (error) {
		thrown = error;
	}
	expect(isRefkitError(thrown, "INVALID_ARGUMENT"), String(thrown)).toBe(true);
	expect((thrown as Error).message).toMatch(/^refkit: /);
	return thrown as RefkitErrorLike;
}

type RefkitErrorLike = Error & { code: string };

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
	/** Whether the receiver's `standardwebhooks` check passed, and its error when it did not. */
	verified: true | string;
}

type Answer = (request: IncomingMessage, response: ServerResponse) => void;

describe("webhookSender against a real receiver", () => {
	const received: Received[] = [];
	let answer: Answer = (_request, response) => response.writeHead(204).end();
	// A receiver as a refkit user would write it with the standardwebhooks package, not with refkit.
	const receiver = new Webhook(SECRET);
	const server = createServer((request, response) => {
		const chunks: Buffer[] = [];
		request.on("data", (chunk: Buffer) => chunks.push(chunk));
		request.on("end", () => {
			const body = Buffer.concat(chunks).toString("utf8");
			let verified: true | string = true;
			try {
				receiver.verify(body, request.headers as Record<string, string>);
			} catch (error) {
				verified = String(error);
			}
			received.push({
				method: request.method ?? "",
				path: request.url ?? "",
				headers: request.headers,
				body,
				verified,
			});
			if (verified === true) answer(request, response);
			else response.writeHead(400).end("bad signature");
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

	function send(options: Partial<WebhookSenderOptions> = {}, what: Delivery | LedgerDelivery = delivery) {
		return webhookSender({ url: `${base}/hooks/refkit`, secret: SECRET, ...options })(what);
	}

	test("a receiver verifies refkit's webhooks with the standardwebhooks package", async () => {
		const before = nowSeconds();
		await send({ headers: { authorization: "Bearer abc" } });
		const after = nowSeconds();

		expect(received).toHaveLength(1);
		const [request] = received as [Received];
		expect(request.verified).toBe(true);
		expect(request.method).toBe("POST");
		expect(request.path).toBe("/hooks/refkit");
		expect(request.headers["content-type"]).toBe("application/json");
		expect(request.headers["user-agent"]).toBe("refkit-webhook");
		expect(request.headers.authorization).toBe("Bearer abc");
		expect(request.headers["webhook-id"]).toBe(`${conversion.id}:reversal`);

		// The body is unchanged by the move to Standard Webhooks.
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

		// Checked independently of both libraries: v1,<base64 HMAC-SHA256 of "<id>.<t>.<body>"> under the
		// secret's decoded bytes.
		const t = request.headers["webhook-timestamp"];
		expect(t).toMatch(/^\d+$/);
		expect(Number(t)).toBeGreaterThanOrEqual(before);
		expect(Number(t)).toBeLessThanOrEqual(after);
		const key = Buffer.from(SECRET.slice("whsec_".length), "base64");
		const mac = createHmac("sha256", key)
			.update(`${conversion.id}:reversal.${t}.${request.body}`)
			.digest("base64");
		expect(request.headers["webhook-signature"]).toBe(`v1,${mac}`);

		expect(verifyWebhookSignature({ body: request.body, headers: request.headers, secret: SECRET })).toBe(
			true,
		);
	});

	test("a ledger event arrives as { type, idempotencyKey, attempt, createdAt, data } and verifies", async () => {
		await send({}, ledgerDelivery);
		const [request] = received as [Received];
		expect(request.verified).toBe(true);
		expect(request.headers["webhook-id"]).toBe(ledgerDelivery.idempotencyKey);
		expect(JSON.parse(request.body)).toEqual({
			type: "sale.recorded",
			idempotencyKey: ledgerDelivery.idempotencyKey,
			attempt: 1,
			createdAt: "2025-03-04T05:06:07.089Z",
			data: sale,
		});
	});

	test("retries of one delivery keep the same webhook-id, each signed afresh", async () => {
		const statuses = [503, 204];
		answer = (_request, response) => response.writeHead(statuses.shift() ?? 204).end();
		const sender = webhookSender({ url: `${base}/hooks/refkit`, secret: SECRET });
		await rejection(sender(delivery));
		await sender({ ...delivery, attempt: 3 });
		await sender(ledgerDelivery);
		expect(received.map((request) => request.verified)).toEqual([true, true, true]);
		const ids = received.map((request) => request.headers["webhook-id"]);
		expect(ids).toEqual([delivery.idempotencyKey, delivery.idempotencyKey, ledgerDelivery.idempotencyKey]);
		// Another attempt is another body (its attempt number), so another signature under the same id.
		expect(received[0]?.headers["webhook-signature"]).not.toBe(received[1]?.headers["webhook-signature"]);
	});

	test("a receiver with another secret refuses the webhook", async () => {
		const error = await rejection(send({ secret: OTHER_SECRET }));
		expect(error.status).toBe(400);
		expect(received[0]?.verified).toMatch(/No matching signature/);
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
	const verify = (
		headers: Record<string, string | string[] | undefined> | Headers,
		text: string | Uint8Array = body,
	) => verifyWebhookSignature({ body: text, headers, secret: SECRET });

	test("headers signed by the standardwebhooks package verify, in a plain object or Headers, any case", () => {
		const headers = signedHeaders(body);
		expect(verify(headers)).toBe(true);
		expect(verify(new Headers(headers))).toBe(true);
		expect(verify(Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toUpperCase(), v])))).toBe(
			true,
		);
		expect(verify(headers, Buffer.from(body))).toBe(true);
		// Plain base64, without the prefix, is the same key.
		expect(verifyWebhookSignature({ body, headers, secret: SECRET.slice("whsec_".length) })).toBe(true);
	});

	test("a tampered body, a wrong secret, another id or another timestamp does not verify", () => {
		const headers = signedHeaders(body);
		expect(verify(headers, body.replace("4999", "9999"))).toBe(false);
		expect(verify(headers, `${body} `)).toBe(false);
		expect(verifyWebhookSignature({ body, headers, secret: OTHER_SECRET })).toBe(false);
		expect(verify({ ...headers, [WEBHOOK_ID_HEADER]: "msg_2" })).toBe(false);
		const t = Number(headers[WEBHOOK_TIMESTAMP_HEADER]);
		expect(verify({ ...headers, [WEBHOOK_TIMESTAMP_HEADER]: String(t - 1) })).toBe(false);
	});

	test("a timestamp more than 5 minutes old or ahead does not verify, as the standardwebhooks package says", () => {
		const at = (seconds: number) => signedHeaders(body, { at: new Date(Date.now() + seconds * 1000) });
		expect(verify(at(-240))).toBe(true);
		expect(verify(at(240))).toBe(true);
		expect(verify(at(-301))).toBe(false);
		expect(verify(at(-3600))).toBe(false);
		expect(verify(at(301))).toBe(false);
		expect(() => new Webhook(SECRET).verify(body, at(-3600))).toThrow(/too old/);
	});

	test("several signatures, as while rotating secrets: one match is enough", () => {
		const right = signedHeaders(body);
		const wrong = signedHeaders(body, { secret: OTHER_SECRET });
		const both = (a: string, b: string) => ({ ...right, [WEBHOOK_SIGNATURE_HEADER]: `${a} ${b}` });
		expect(verify(both(wrong[WEBHOOK_SIGNATURE_HEADER], right[WEBHOOK_SIGNATURE_HEADER]))).toBe(true);
		expect(verify(both(right[WEBHOOK_SIGNATURE_HEADER], wrong[WEBHOOK_SIGNATURE_HEADER]))).toBe(true);
		expect(verify(both(wrong[WEBHOOK_SIGNATURE_HEADER], wrong[WEBHOOK_SIGNATURE_HEADER]))).toBe(false);
	});

	test("missing, repeated or malformed headers, and bodies that are not text, return false", () => {
		const headers = signedHeaders(body);
		const signature = headers[WEBHOOK_SIGNATURE_HEADER];
		const malformed: Record<string, string | string[] | undefined>[] = [
			{},
			{ ...headers, [WEBHOOK_ID_HEADER]: undefined },
			{ ...headers, [WEBHOOK_TIMESTAMP_HEADER]: undefined },
			{ ...headers, [WEBHOOK_SIGNATURE_HEADER]: undefined },
			{ ...headers, [WEBHOOK_SIGNATURE_HEADER]: [signature, signature] },
			{ ...headers, [WEBHOOK_SIGNATURE_HEADER]: "" },
			{ ...headers, [WEBHOOK_SIGNATURE_HEADER]: signature.slice(3) },
			{ ...headers, [WEBHOOK_SIGNATURE_HEADER]: signature.replace("v1,", "v2,") },
			{ ...headers, [WEBHOOK_SIGNATURE_HEADER]: signature.slice(0, -2) },
			{ ...headers, [WEBHOOK_TIMESTAMP_HEADER]: "soon" },
			{ ...headers, [WEBHOOK_TIMESTAMP_HEADER]: "" },
		];
		for (const each of malformed) expect(verify(each), JSON.stringify(each)).toBe(false);
		expect(verify(null as never)).toBe(false);
		expect(verify(headers, { not: "text" } as never)).toBe(false);
		expect(verifyWebhookSignature({ body: undefined as never, headers, secret: SECRET })).toBe(false);
	});

	test("property: arbitrary signature headers never throw and never verify", () => {
		const headers = signedHeaders(body);
		fc.assert(
			fc.property(
				fc.oneof(
					fc.string({ maxLength: 300 }),
					fc.string({ maxLength: 80 }).map((rest) => `v1,${rest}`),
					fc
						.uint8Array({ minLength: 32, maxLength: 32 })
						.map((mac) => `v1,${Buffer.from(mac).toString("base64")}`),
				),
				(signature) => {
					expect(verify({ ...headers, [WEBHOOK_SIGNATURE_HEADER]: signature })).toBe(false);
				},
			),
		);
	});

	test("property: changing any character of a valid signature makes it fail", () => {
		const headers = signedHeaders(body);
		const signature = headers[WEBHOOK_SIGNATURE_HEADER];
		fc.assert(
			fc.property(fc.nat(signature.length - 1), fc.string({ minLength: 1, maxLength: 1 }), (index, char) => {
				fc.pre(signature[index] !== char);
				const tampered = signature.slice(0, index) + char + signature.slice(index + 1);
				expect(verify({ ...headers, [WEBHOOK_SIGNATURE_HEADER]: tampered })).toBe(false);
			}),
		);
	});

	test.each<[string, unknown]>([
		["undefined", undefined],
		["an empty string", ""],
		["a short password", "too-short"],
		["a string that is not base64", "whsec_not base64 at all!"],
		["the base64 of 23 bytes", `whsec_${Buffer.alloc(23, 1).toString("base64")}`],
	])("verifying with %s as the secret throws INVALID_ARGUMENT", (_name, secret) => {
		const headers = signedHeaders(body);
		expectInvalidArgument(() => verifyWebhookSignature({ body, headers, secret: secret as string }));
	});
});

describe("webhookSender options", () => {
	const valid: WebhookSenderOptions = { url: "https://example.com/hooks", secret: SECRET };

	test("valid options create a handler without any request", () => {
		expect(typeof webhookSender(valid)).toBe("function");
		expect(typeof webhookSender({ ...valid, url: "http://localhost:8080/x", timeoutMs: 1 })).toBe("function");
		// Plain base64 of at least 24 bytes, as Standard Webhooks libraries accept.
		expect(typeof webhookSender({ ...valid, secret: randomBytes(24).toString("base64") })).toBe("function");
	});

	test.each<[string, Partial<Record<keyof WebhookSenderOptions, unknown>>]>([
		["a relative URL", { url: "/hooks" }],
		["an ftp: URL", { url: "ftp://example.com/hooks" }],
		["a URL with credentials", { url: "https://user:pass@example.com/hooks" }],
		["a missing URL", { url: undefined }],
		["a short secret", { secret: "too-short" }],
		["a missing secret", { secret: undefined }],
		["an empty secret", { secret: "" }],
		["a secret that is not a string", { secret: 42 }],
		["a secret of 23 bytes", { secret: `whsec_${Buffer.alloc(23, 1).toString("base64")}` }],
		["a secret in base64url", { secret: `whsec_${Buffer.alloc(32, 0xfb).toString("base64url")}` }],
		[
			"a secret without its padding",
			{ secret: `whsec_${Buffer.alloc(25, 1).toString("base64").replace(/=+$/, "")}` },
		],
		["a secret with another prefix", { secret: `wh_${Buffer.alloc(32, 1).toString("base64")}` }],
		["timeoutMs 0", { timeoutMs: 0 }],
		["a fractional timeoutMs", { timeoutMs: 1.5 }],
		["a header that overrides webhook-signature", { headers: { "Webhook-Signature": "v1,AAAA" } }],
		["a header that overrides webhook-id", { headers: { "webhook-id": "msg_1" } }],
		["a header that overrides webhook-timestamp", { headers: { "WEBHOOK-TIMESTAMP": "1" } }],
		["a header that overrides content-type", { headers: { "content-type": "text/plain" } }],
		["a header value that is not a string", { headers: { "x-count": 3 } }],
		["an invalid header name", { headers: { "bad header": "x" } }],
	])("%s throws INVALID_ARGUMENT", (_name, override) => {
		expectInvalidArgument(() => webhookSender({ ...valid, ...override } as WebhookSenderOptions));
	});

	test.each([
		"Zq8x-Pw3m-Tn0r-Kv7L-cYb2-HsJd-5FgA-uQ1e",
		`whsec_${Buffer.from("too short: 20 bytes!").toString("base64")}`,
	])("a bad secret's message says how to make one and never shows the secret (%#)", (secret) => {
		const error = expectInvalidArgument(() => webhookSender({ ...valid, secret }));
		expect(error.message).toContain(
			`node -e "console.log('whsec_' + require('crypto').randomBytes(32).toString('base64'))"`,
		);
		const encoded = secret.replace(/^whsec_/, "");
		for (let i = 0; i + 6 <= encoded.length; i++)
			expect(error.message).not.toContain(encoded.slice(i, i + 6));
		expect(JSON.stringify(error)).not.toContain(encoded.slice(0, 6));
		expect(String(error.stack)).not.toContain(encoded.slice(0, 6));
	});
});
