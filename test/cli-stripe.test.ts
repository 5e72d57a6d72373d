import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, type TestContext, test } from "vitest";
import { stripeWebhooks } from "../src/billing/stripe.js";
import type { Refkit, Sale } from "../src/index.js";
import { ledger, program, referredSignup } from "./programs/setup.js";
import { type CliResult, cli, expectOneLineError, ok, tempDir } from "./setup/cli.js";
import { createTestRefkit, DATABASES, type DatabaseKind, freshDatabaseUrl } from "./setup/databases.js";
import { charge, event, paidInvoice, stripeId, WEBHOOK_SECRET } from "./stripe/events.js";

/**
 * `refkit stripe replay EVENT_FILE`, run as a built binary: events that the application's endpoint received
 * while their user was unknown (its resolver answered null) wait in the database, and the CLI applies them
 * from a file, under the programs the application saved. What it did is read back through the API.
 */

/** Commands that open the database fail differently: these must be refused before. */
const NO_DATABASE = { DATABASE_URL: "/nonexistent/refkit.sqlite" };

/**
 * A database where the application (its programs, bob referred by alice) received Stripe's events with a
 * resolver that knows nobody; the CLI on it, and `save(value)`, which writes a file for it.
 */
async function application(kind: DatabaseKind, context: TestContext) {
	const database = await freshDatabaseUrl(kind);
	const refkit = await createTestRefkit(
		kind,
		{ database, programs: [program({ id: "partners", minimumPayout: 0 })] },
		context,
	);
	await referredSignup(refkit, "alice", "bob");
	const receiver = stripeWebhooks(refkit, { secret: WEBHOOK_SECRET, userId: () => null });
	const dir = tempDir();
	const save = (value: unknown, name = `${stripeId("file")}.json`) => {
		const file = join(dir, name);
		writeFileSync(file, typeof value === "string" ? value : JSON.stringify(value, null, 2));
		return file;
	};
	const run = (...args: string[]): Promise<CliResult> => cli(["--database", database, ...args]);
	return { refkit, receiver, save, run };
}

/** The commissions earned by sales: [amount, program, rule, beneficiary]. */
async function saleCommissions(refkit: Refkit) {
	return (await ledger(refkit))
		.filter((c) => c.sourceType === "sale")
		.map((c) => [c.amount, c.program, c.rule, c.userId]);
}

describe.concurrent("refkit stripe replay without a database", () => {
	test("--help shows a description and examples", async () => {
		for (const command of [["stripe"], ["stripe", "events"], ["stripe", "replay"]]) {
			const out = await ok(cli([...command, "--help"]));
			expect(out).toMatch(/^Usage: refkit stripe/);
			expect(out).toMatch(/\nExamples:\n {2}\$ refkit stripe (events|replay) /);
		}
		expect((await ok(cli(["stripe", "replay", "--help"]))).replace(/\s+/g, " ")).toContain(
			"your application's review (its hook and its checks) does not run here",
		);
	});

	test("a file that is missing, not JSON or not an event: one line, exit 1, before the database", async () => {
		const dir = tempDir();
		const write = (name: string, text: string) => {
			writeFileSync(join(dir, name), text);
			return join(dir, name);
		};
		const invoice = paidInvoice({ amount: 4900, userId: "bob" });
		const cases: [string[], RegExp][] = [
			[
				["stripe", "replay", join(dir, "none.json")],
				/cannot read the event file .*none\.json: no such file$/m,
			],
			[["stripe", "replay", dir], /cannot read the event file .*: a directory$/m],
			[["stripe", "replay", write("text.json", "evt_1 invoice.paid")], /text\.json is not JSON: save it as/],
			[
				["stripe", "replay", write("invoice.json", JSON.stringify(invoice))],
				/invoice\.json is not a Stripe event \(an id, a type and data\.object\)/,
			],
			[["stripe", "replay", write("list.json", '{"object":"list","data":[]}')], /is not a Stripe event/],
			[["stripe", "replay"], /missing required argument 'event-file'/],
			[["stripe", "replay", write("e.json", "{}"), "--user", ""], /must not be empty/],
		];
		for (const [args, pattern] of cases) expectOneLineError(await cli(args, NO_DATABASE), pattern);
		const paid = write("paid.json", JSON.stringify(event("invoice.paid", invoice)));
		expectOneLineError(await cli(["stripe", "replay", paid]), /^refkit: no database: pass --database/);
	}, 60_000);
});

describe.concurrent.each(DATABASES)("refkit stripe replay on %s", (kind) => {
	test("an event that waited for its user is recorded with --user, once", async (context) => {
		const { refkit, receiver, save, run } = await application(kind, context);
		const paid = event("invoice.paid", paidInvoice({ id: "in_cli", customer: "cus_new", amount: 4900 }));
		expect(await receiver.apply(paid)).toMatchObject({ status: "waiting" });
		const file = save(paid);

		const first = await ok(run("stripe", "replay", file, "--user", "bob"));
		expect(first).toBe(`${paid.id} (invoice.paid): applied: recorded sale in_cli of 4900 USD by bob\n`);
		expect(await refkit.getSale("in_cli")).toMatchObject({
			userId: "bob",
			referrerUserId: "alice",
			amount: 4900,
			currency: "USD",
		});
		// Under the terms the application saved: its program, 20 % of the sale.
		expect(await saleCommissions(refkit)).toEqual([[980, "partners", "sale", "alice"]]);

		const again = await ok(run("stripe", "replay", file, "--user", "bob"));
		expect(again).toBe(
			`${paid.id} (invoice.paid): duplicate: received before (applied): recorded sale in_cli of 4900 USD by bob\n`,
		);
		// And the application's own endpoint finds it done too.
		expect(await receiver.apply(paid)).toMatchObject({ status: "duplicate" });
		expect((await refkit.listSales()).length).toBe(1);
		expect(await saleCommissions(refkit)).toHaveLength(1);
	});

	test("stripe events lists what refkit kept, by status, as a table or JSON", async (context) => {
		const { receiver, run } = await application(kind, context);
		expect(await ok(run("stripe", "events"))).toBe("no Stripe events\n");
		const waiting = event("invoice.paid", paidInvoice({ id: "in_w", customer: "cus_new", amount: 100 }));
		const ignored = event("invoice.paid", paidInvoice({ id: "in_zero", customer: "cus_new", amount: 0 }));
		await receiver.apply(waiting);
		const table = await ok(run("stripe", "events", "--status", "waiting"));
		expect(table).toMatch(/^RECEIVED\s+EVENT\s+TYPE\s+STATUS\s+WAITS FOR\s+ATTEMPTS\s+OUTCOME\n/);
		expect(table).toContain(`${waiting.id}  invoice.paid  waiting  user`);
		expect(table.trimEnd().split("\n")).toHaveLength(2);
		await receiver.apply(waiting);
		const [listed] = JSON.parse(await ok(run("stripe", "events", "--json"))) as Record<string, unknown>[];
		expect(listed).toMatchObject({ eventId: waiting.id, status: "waiting", waitingFor: "user", attempts: 2 });
		expect(await ok(run("stripe", "events", "--status", "failed"))).toBe("no Stripe events failed\n");
		expect(ignored.id).not.toBe(waiting.id);
		const bad = await run("stripe", "events", "--status", "lost");
		expect([bad.code, bad.stdout]).toEqual([1, ""]);
		expect(bad.stderr).toContain("one of applied, ignored, waiting, failed");
	});

	test("without --user, the invoice's metadata.userId; --json prints the result", async (context) => {
		const { refkit, save, run } = await application(kind, context);
		const paid = event("invoice.paid", paidInvoice({ id: "in_meta", amount: 2500, userId: "bob" }));
		const result = JSON.parse(await ok(run("stripe", "replay", save(paid), "--json"))) as {
			eventId: string;
			status: string;
			sale: Sale;
		};
		expect(result).toMatchObject({
			eventId: paid.id,
			type: "invoice.paid",
			status: "applied",
			sale: { externalId: "in_meta", userId: "bob", amount: 2500 },
		});
		expect((await refkit.getSale("in_meta"))?.id).toBe(result.sale.id);
	});

	test("no user at all: the event still waits, the CLI says so and exits 1", async (context) => {
		const { refkit, save, run } = await application(kind, context);
		const paid = event("invoice.paid", paidInvoice({ id: "in_nobody", customer: "cus_x", amount: 1000 }));
		const file = save(paid);
		const result = await run("stripe", "replay", file);
		expect(result.code).toBe(1);
		expect(result.stdout).toBe(
			`${paid.id} (invoice.paid): waiting: no user is known for Stripe customer cus_x: replay the event once there is one\n`,
		);
		expect(result.stderr).toBe(
			`refkit: ${paid.id} waits for its user: pass --user <id> (the event's object has no metadata.userId)\n`,
		);
		expect(await refkit.getSale("in_nobody")).toBeNull();
		// Still waiting, so a later replay with the user applies it.
		expect(await ok(run("stripe", "replay", file, "--user", "bob"))).toContain(
			"applied: recorded sale in_nobody",
		);
	});

	test("the refund that waited for the sale is applied after it, and printed", async (context) => {
		const { refkit, receiver, save, run } = await application(kind, context);
		const pi = stripeId("pi");
		const paid = event(
			"invoice.paid",
			paidInvoice({ id: "in_refunded", customer: "cus_new", amount: 10000, paymentIntent: pi }),
		);
		const refunded = event("charge.refunded", charge({ paymentIntent: pi, amount: 10000, refunded: 2500 }));
		expect(await receiver.apply(paid)).toMatchObject({ status: "waiting" });
		expect(await receiver.apply(refunded)).toMatchObject({ status: "waiting" });

		const out = await ok(run("stripe", "replay", save(paid), "--user", "bob"));
		expect(out).toBe(
			`${paid.id} (invoice.paid): applied: recorded sale in_refunded of 10000 USD by bob\n` +
				`  then ${refunded.id} (charge.refunded): applied: refunded 2500 USD of sale in_refunded\n`,
		);
		expect(await refkit.getSale("in_refunded")).toMatchObject({ amount: 10000, refunded: 2500 });
	});

	test("a bad file writes nothing; a database without saved programs is refused", async (context) => {
		const { refkit, save, run } = await application(kind, context);
		const broken = save('{"id": "evt_1", "type": "invoice.paid", "data": {"object": {"id": "in_1"');
		expectOneLineError(await run("stripe", "replay", broken, "--user", "bob"), /is not JSON/);
		// An event, but its invoice cut short: kept as failed, with why, and nothing recorded.
		const cut = { ...event("invoice.paid", paidInvoice({ amount: 100, userId: "bob" })), id: "evt_cut" };
		cut.data.object = { id: "in_cut", metadata: { userId: "bob" } } as never;
		const kept = await run("stripe", "replay", save(cut));
		expect(kept.code).toBe(1);
		expect(kept.stdout).toMatch(
			/^evt_cut \(invoice\.paid\): failed: .*invoice\.amount_paid is not a whole amount/,
		);
		expect(await refkit.listSales()).toEqual([]);
		expect(
			await ok(
				run(
					"stripe",
					"replay",
					save({ ...cut, data: { object: paidInvoice({ id: "in_cut", amount: 100 }) } }),
					"--user",
					"bob",
				),
			),
		).toContain("evt_cut (invoice.paid): applied: recorded sale in_cut");

		const bare = await freshDatabaseUrl(kind);
		await createTestRefkit(kind, { database: bare }, context);
		const paid = save(event("invoice.paid", paidInvoice({ amount: 100, userId: "bob" })));
		expectOneLineError(
			await cli(["--database", bare, "stripe", "replay", paid]),
			/no referral programs are saved in this database: your application saves them when it runs refkit\.migrate\(\)/,
		);
		expect(readFileSync(paid, "utf8")).toContain("invoice.paid");
	});
});
