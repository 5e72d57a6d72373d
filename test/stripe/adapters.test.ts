import { describe, expect, test } from "vitest";
import { stripeWebhooks } from "../../src/billing/stripe.js";
import { ledger, program, referredSignup, refkitWithPrograms } from "../programs/setup.js";
import { DATABASES } from "../setup/databases.js";
import { ADAPTERS, startApp, WEBHOOK_PATH } from "../setup/http.js";
import { charge, event, paidInvoice, signed, stripeId, WEBHOOK_SECRET } from "./events.js";

/*
 * Stripe's webhooks through each adapter, on a real HTTP server, as the docs mount them: the raw body read by
 * the adapter, the signature checked, each event applied once.
 */

describe.each(DATABASES)("Stripe's webhooks on %s", (kind) => {
	describe.each(ADAPTERS)("through %s", (adapter) => {
		async function app() {
			const refkit = await refkitWithPrograms(kind, [program({ minimumPayout: 0 })]);
			await referredSignup(refkit, "alice", "bob");
			const receiver = stripeWebhooks(refkit, {
				secret: WEBHOOK_SECRET,
				userId: (customer) => (customer === "cus_bob" ? "bob" : null),
			});
			const base = await startApp(adapter, refkit, receiver);
			const post = async (value: unknown, signature?: string, body?: string) => {
				const delivery = signed(value);
				const response = await fetch(base + WEBHOOK_PATH, {
					method: "POST",
					headers: {
						"content-type": "application/json",
						"stripe-signature": signature ?? delivery.signature,
					},
					body: body ?? delivery.body,
				});
				return { status: response.status, body: (await response.json()) as Record<string, unknown> };
			};
			return { refkit, post };
		}

		test("a sale and its refund, each once; a bad signature is a 400; an unknown type a 200", async () => {
			const { refkit, post } = await app();
			const pi = stripeId("pi");
			const paid = event(
				"invoice.paid",
				paidInvoice({ id: "in_http", customer: "cus_bob", amount: 10000, paymentIntent: pi }),
			);
			expect(await post(paid)).toMatchObject({ status: 200, body: { received: true, status: "applied" } });
			expect(await post(paid)).toMatchObject({ status: 200, body: { status: "duplicate" } });
			const refunded = event("charge.refunded", charge({ paymentIntent: pi, amount: 10000, refunded: 2500 }));
			expect((await post(refunded)).body.status).toBe("applied");
			expect((await post(refunded)).body.status).toBe("duplicate");
			const forged = signed(paid, "whsec_not_the_endpoints_secret_0123456789").signature;
			expect(
				(await post(event("invoice.paid", paidInvoice({ customer: "cus_bob", amount: 1 })), forged)).status,
			).toBe(400);
			expect((await post(paid, "")).status).toBe(400);
			expect((await post(event("customer.created", paidInvoice({ amount: 1 }) as never))).body.status).toBe(
				"ignored",
			);
			const sales = await refkit.listSales();
			expect(sales.map((s) => [s.externalId, s.amount, s.refunded])).toEqual([["in_http", 10000, 2500]]);
		});

		test("a body over 1 MB is answered 413, whole, and records nothing", async () => {
			const { refkit, post } = await app();
			const paid = event("invoice.paid", paidInvoice({ customer: "cus_bob", amount: 100 }));
			const huge = JSON.stringify({ ...paid, padding: "x".repeat(1024 * 1024) });
			expect(await post(paid, signed(huge).signature, huge)).toMatchObject({
				status: 413,
				body: { received: false },
			});
			expect(await refkit.listSales()).toEqual([]);
		});

		test("50 concurrent deliveries of one event record one sale", async () => {
			const { refkit, post } = await app();
			const paid = event("invoice.paid", paidInvoice({ customer: "cus_bob", amount: 7000 }));
			const answers = await Promise.all(Array.from({ length: 50 }, () => post(paid)));
			expect(answers.map((a) => a.status)).toEqual(Array(50).fill(200));
			expect(answers.filter((a) => a.body.status === "applied")).toHaveLength(1);
			expect(await refkit.listSales()).toHaveLength(1);
			expect((await ledger(refkit)).filter((c) => c.sourceType === "sale")).toHaveLength(1);
		});
	});
});

describe("a webhook endpoint mounted where it cannot read the raw body", () => {
	test("after express.json() the body's bytes are gone: a 400 that says how to mount it, never a 500", async () => {
		const { default: express } = await import("express");
		const { createServer } = await import("node:http");
		const { webhookEndpoint } = await import("../../src/adapters/express.js");
		let received = 0;
		const app = express();
		app.use(express.json());
		app.post(
			"/webhooks/stripe",
			webhookEndpoint({
				receive: async () => {
					received++;
					return { status: 200, headers: {}, body: "{}" };
				},
			}),
		);
		const server = createServer(app).listen(0);
		try {
			const { port } = server.address() as { port: number };
			const url = `http://127.0.0.1:${port}/webhooks/stripe`;
			const parsed = await fetch(url, {
				method: "POST",
				headers: { "content-type": "application/json" },
				body: JSON.stringify({ id: "evt_1" }),
			});
			expect(parsed.status).toBe(400);
			expect(((await parsed.json()) as { error: string }).error).toContain(
				"mount the webhook before express.json()",
			);
			expect(received).toBe(0);
		} finally {
			server.close();
		}
	});
});
