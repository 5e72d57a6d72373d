import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, type TestContext, test } from "vitest";
import {
	type Balance,
	type Commission,
	PAYOUT_COLUMNS,
	type Payout,
	type ProgramOptions,
	type Refkit,
	type RefkitOptions,
	type RefundSaleResult,
	type Sale,
} from "../src/index.js";
import { referredSignup } from "./programs/setup.js";
import { type CliResult, cli, csvFields, expectOneLineError, jsonOf, ok, tempDir } from "./setup/cli.js";
import { createTestRefkit, DATABASES, type DatabaseKind, freshDatabaseUrl } from "./setup/databases.js";

/**
 * The CLI of referral programs (`commissions`, `balances`, `sales`, `payouts`), run as a built binary on a
 * ledger seeded through the public API; what it did is read back through the API.
 */

/** 5.00 to the referrer and 3.00 to the referred user at signup, 20 % of each sale; payable at once. */
const MAIN: ProgramOptions = {
	id: "main",
	currency: "USD",
	holdDays: 0,
	rules: [
		{ on: "goal", goal: "signup", referrer: 500, referred: 300 },
		{ on: "sale", percent: 20 },
	],
};

const UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
const TIME = "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z";
const UNKNOWN_ID = "0b7c3c9e-8f0a-4c3d-9b1e-2f4a5d6c7e8f";
/** Commands that open the database fail differently: these must be refused before. */
const NO_DATABASE = { DATABASE_URL: "/nonexistent/refkit.sqlite" };

/**
 * A migrated database with the program `MAIN` (and `options`), the API on it (closed when the test `context`
 * ends: the tests run concurrently), and the CLI on it.
 */
async function ledger(
	kind: DatabaseKind,
	context: TestContext,
	options: Partial<RefkitOptions> = {},
): Promise<{ refkit: Refkit; run: (...args: string[]) => Promise<CliResult> }> {
	const database = await freshDatabaseUrl(kind);
	const refkit = await createTestRefkit(kind, { database, programs: [MAIN], ...options }, context);
	return { refkit, run: (...args: string[]) => cli(["--database", database, ...args]) };
}

/** `referred` signs up with `referrer`'s link (made under `linkProgram` if missing): converted. */
async function refer(refkit: Refkit, referrer: string, referred: string, linkProgram?: string) {
	expect((await referredSignup(refkit, referrer, referred, { linkProgram })).status).toBe("converted");
}

async function sale(refkit: Refkit, externalId: string, userId: string, amount: number): Promise<void> {
	const result = await refkit.recordSale({ externalId, userId, amount, currency: "USD" });
	expect(result.status).toBe("recorded");
}

/** A value as JSON has it: dates as ISO strings. */
const plain = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

/** Every number in `value`, however deep, is whole: amounts are minor units, never floats. */
function expectWholeNumbers(value: unknown): void {
	if (typeof value === "number") expect(Number.isInteger(value), String(value)).toBe(true);
	else if (typeof value === "object" && value !== null)
		for (const v of Object.values(value)) expectWholeNumbers(v);
}

describe.concurrent("refkit programs CLI without a database", () => {
	test("bad arguments exit 1 with one line, before any database is opened", async () => {
		const cases: [string[], RegExp][] = [
			[
				["commissions", "list", "--status", "bogus"],
				/argument 'bogus' is invalid\. Allowed choices are pending, held, approved, paid, voided\./,
			],
			[["payouts", "list", "--status", "done"], /Allowed choices are created, paid, failed\./],
			[
				["sales", "refund", "inv_1", "--amount", "12.50", "--reason", "x"],
				/never fractions; 12\.34 USD is 1234/,
			],
			[["sales", "refund", "inv_1", "--amount", "0", "--reason", "x"], /from 1 to 1000000000000000/],
			[["sales", "refund", "inv_1", "--amount", "1e3", "--reason", "x"], /whole number of minor units/],
			[["sales", "refund", "inv_1"], /required option '--reason <text>' not specified/],
			[["sales", "refund", "inv_1", "--reason", ""], /must not be empty/],
			[["payouts", "mark-paid", UNKNOWN_ID], /required option '--reference <text>' not specified/],
			[["payouts", "fail", UNKNOWN_ID], /required option '--reason <text>' not specified/],
			[["payouts", "mark-paid", "abc", "--reference", "x"], /argument 'id'\. Give a payout's id, a UUID/],
			[["payouts", "export", "run-1"], /Give a payout run's or a payout's id, a UUID/],
			[["payouts", "list", "--run", "abc"], /Give a payout run's id, a UUID/],
			[["commissions", "release", "abc"], /Give a commission's id, a UUID/],
			[["commissions", "reject", UNKNOWN_ID], /required option '--reason <text>' not specified/],
			[["commissions", "list", "--payout", "p1"], /Give a payout's id, a UUID/],
			[["commissions", "list", "--limit", "0"], /--limit <n>.*from 1 to 1000/],
			[["payouts", "create", "--as-of", "2099-01-01"], /--as-of 2099-01-01T00:00:00\.000Z is in the future/],
			[
				["payouts", "create", "--as-of", "yesterday"],
				/--as-of <date>' argument 'yesterday' is invalid\. Give a date/,
			],
			[["balances", ""], /must not be empty/],
		];
		for (const [args, pattern] of cases) expectOneLineError(await cli(args, NO_DATABASE), pattern);
	}, 120_000);

	test("each new command needs a database: one line, exit 1", async () => {
		for (const args of [
			"commissions list",
			"balances",
			"sales list",
			"sales refund inv_1 --reason x",
			"payouts create",
			"payouts list",
		]) {
			expectOneLineError(await cli(args.split(" ")), /^refkit: no database: pass --database/);
		}
	}, 60_000);

	const commands =
		"commissions, commissions list, commissions release, commissions reject, balances, sales, sales list, sales refund, payouts, payouts create, payouts list, payouts export, payouts mark-paid, payouts fail, stripe, stripe events, stripe replay";
	test.each(commands.split(", ").map((command) => [command.split(" ")]))(
		"%j --help shows a description and an example, exit 0",
		async (command) => {
			const out = await ok(cli([...command, "--help"]));
			expect(out).toMatch(/^Usage: refkit /);
			expect(out).toMatch(/\nExamples:\n {2}\$ refkit /);
			expect(out).toContain("--database <url>");
		},
	);

	test("sales refund --help says that --id makes a retry safe", async () => {
		expect((await ok(cli(["sales", "refund", "--help"]))).replace(/\s+/g, " ")).toContain(
			"Passing it makes a retry safe",
		);
	});
});

describe.concurrent.each(DATABASES)("refkit programs CLI on %s", (kind) => {
	test("commissions list and sales list give every row, not one page, as tables and as JSON", async (context) => {
		const { refkit, run } = await ledger(kind, context);
		await refer(refkit, "alice", "bob");
		await refer(refkit, "alice", "erin");
		// More than a listing's page of 100.
		for (let i = 0; i < 101; i++) await sale(refkit, `inv_${i}`, "bob", 1000 + i);
		await new Promise((resolve) => setTimeout(resolve, 5)); // the newest by its time, not by a tie on its id
		await sale(refkit, "inv_erin", "erin", 2500);

		const commissions = await jsonOf<Commission[]>(run("commissions", "list", "--json"));
		expect(commissions).toHaveLength(106);
		expect(commissions).toEqual(plain(await refkit.listCommissions({ limit: 1000 })));
		expect(Object.keys(commissions[0] ?? {})).toEqual(
			expect.arrayContaining([
				"id",
				"userId",
				"role",
				"amount",
				"currency",
				"status",
				"payoutId",
				"program",
				"rule",
			]),
		);
		expectWholeNumbers(commissions);
		expect(await jsonOf(run("commissions", "list", "--json", "--limit", "2"))).toEqual(
			commissions.slice(0, 2),
		);
		const bobs = await jsonOf<Commission[]>(run("commissions", "list", "--user", "bob", "--json"));
		expect(bobs).toMatchObject([
			{ userId: "bob", role: "referred", amount: 300, status: "approved", payoutId: null },
		]);
		expect(
			await jsonOf(run("commissions", "list", "--status", "approved", "--program", "main", "--json")),
		).toHaveLength(106);
		expect(await ok(run("commissions", "list", "--status", "held"))).toBe("no commissions\n");
		expect(await ok(run("commissions", "list", "--program", "other", "--json"))).toBe("[]\n");

		const table = (await ok(run("commissions", "list"))).trimEnd().split("\n");
		expect(table).toHaveLength(107);
		expect(table[0]).toMatch(
			/^ID\s+USER\s+ROLE\s+PROGRAM\s+RULE\s+SOURCE\s+AMOUNT\s+CURRENCY\s+STATUS\s+PAYABLE\s+PAYOUT\s+NOTE$/,
		);
		expect(await ok(run("commissions", "list", "--user", "bob"))).toMatch(
			new RegExp(
				`\\n${bobs[0]?.id}\\s+bob\\s+referred\\s+main\\s+signup\\s+conversion\\s+300 \\(3\\.00\\)\\s+USD\\s+approved\\s+${TIME}\\s+-\\s+-\\n$`,
			),
		);

		const sales = await jsonOf<Sale[]>(run("sales", "list", "--json"));
		expect(sales).toHaveLength(102);
		expect(sales).toEqual(plain(await refkit.listSales({ limit: 1000 })));
		expectWholeNumbers(sales);
		expect(sales[0]).toMatchObject({
			externalId: "inv_erin",
			userId: "erin",
			amount: 2500,
			currency: "USD",
			refunded: 0,
		});
		expect(await jsonOf(run("sales", "list", "--referrer", "alice", "--json"))).toHaveLength(102);
		expect(await jsonOf(run("sales", "list", "--limit", "3", "--json"))).toEqual(sales.slice(0, 3));
		const salesTable = (await ok(run("sales", "list", "--user", "erin"))).split("\n");
		expect(salesTable[0]).toMatch(
			/^EXTERNAL ID\s+USER\s+REFERRER\s+PROGRAM\s+AMOUNT\s+REFUNDED\s+CURRENCY\s+SALE NO\.\s+TIME$/,
		);
		expect(salesTable[1]).toMatch(
			new RegExp(`^inv_erin\\s+erin\\s+alice\\s+main\\s+2500 \\(25\\.00\\)\\s+0\\s+USD\\s+1\\s+${TIME}$`),
		);
		expect(salesTable).toHaveLength(3);
		expect(await ok(run("sales", "list", "--referrer", "nobody"))).toBe("no sales\n");
	}, 180_000);

	test("commissions release and reject: an admin's review of held commissions", async (context) => {
		const { refkit, run } = await ledger(kind, context, {
			review: {
				hook: (c) => (c.referredUserId === "mallory" ? { hold: "looks like a second account" } : "approve"),
			},
		});
		await refer(refkit, "alice", "bob");
		await refer(refkit, "alice", "mallory");
		const held = await jsonOf<Commission[]>(run("commissions", "list", "--status", "held", "--json"));
		expect(held.map((c) => [c.userId, c.amount, c.heldReason])).toEqual(
			expect.arrayContaining([
				["alice", 500, "looks like a second account"],
				["mallory", 300, "looks like a second account"],
			]),
		);
		expect(held).toHaveLength(2);
		expect(await ok(run("commissions", "list", "--status", "held"))).toMatch(
			/\s+held\s+\S+\s+-\s+looks like a second account\n/,
		);
		const alices = held.find((c) => c.userId === "alice") as Commission;
		const mallorys = held.find((c) => c.userId === "mallory") as Commission;

		expect(await ok(run("commissions", "release", alices.id))).toBe(
			`released commission ${alices.id}: 500 USD (5.00) to alice (referrer, program main, rule signup), payable now\n`,
		);
		expect(await refkit.getCommission(alices.id)).toMatchObject({ status: "approved" });
		expect(await ok(run("commissions", "reject", mallorys.id, "--reason", "same household"))).toBe(
			`rejected commission ${mallorys.id}: 300 USD (3.00) to mallory (referred, program main, rule signup), voided (rejected: same household)\n`,
		);
		expect(await refkit.getCommission(mallorys.id)).toMatchObject({
			status: "voided",
			voidReason: "rejected: same household",
		});

		// Only a held commission is reviewed; an unknown one is said so; nothing changes.
		expectOneLineError(await run("commissions", "release", alices.id), /is approved, not held/);
		expectOneLineError(
			await run("commissions", "reject", alices.id, "--reason", "x"),
			/is approved, not held/,
		);
		expectOneLineError(await run("commissions", "release", mallorys.id), /is voided, not held/);
		expectOneLineError(await run("commissions", "release", UNKNOWN_ID), /no commission has the id/);
		expect(await refkit.getCommission(alices.id)).toMatchObject({ status: "approved", voidReason: null });
		expect(await refkit.getCommission(mallorys.id)).toMatchObject({ status: "voided" });
		expect(await ok(run("commissions", "list", "--status", "held", "--json"))).toBe("[]\n");
	}, 120_000);

	test("balances: per user and currency, pending, held, approved and paid, as a table and as JSON", async (context) => {
		const slow: ProgramOptions = {
			id: "slow",
			currency: "EUR",
			holdDays: 30,
			rules: [{ on: "goal", goal: "signup", referrer: 700 }],
		};
		const { refkit, run } = await ledger(kind, context, {
			programs: [MAIN, slow],
			review: { hook: (c) => (c.referredUserId === "mallory" ? { hold: "review" } : "approve") },
		});
		await refer(refkit, "alice", "bob");
		await refer(refkit, "alice", "mallory");
		await refer(refkit, "carol", "dan", "slow");
		const run1 = await refkit.createPayouts();
		for (const payout of await refkit.listPayouts({ runId: run1.runId, userId: "bob" })) {
			await refkit.markPayoutPaid(payout.id, { reference: "TR-1" });
		}

		const balances = await jsonOf<Balance[]>(run("balances", "--json"));
		expect(balances).toEqual(plain(await refkit.balances()));
		expect(balances).toEqual(
			expect.arrayContaining([
				{ userId: "alice", currency: "USD", pending: 0, held: 500, approved: 500, paid: 0 },
				{ userId: "bob", currency: "USD", pending: 0, held: 0, approved: 0, paid: 300 },
				{ userId: "carol", currency: "EUR", pending: 700, held: 0, approved: 0, paid: 0 },
				{ userId: "mallory", currency: "USD", pending: 0, held: 300, approved: 0, paid: 0 },
			]),
		);
		expect(await jsonOf(run("balances", "carol", "--json"))).toEqual([
			{ userId: "carol", currency: "EUR", pending: 700, held: 0, approved: 0, paid: 0 },
		]);

		const table = (await ok(run("balances"))).split("\n");
		expect(table[0]).toMatch(/^USER\s+CURRENCY\s+PENDING\s+HELD\s+APPROVED\s+PAID$/);
		expect(table).toContainEqual(
			expect.stringMatching(/^alice\s+USD\s+0\s+500 \(5\.00\)\s+500 \(5\.00\)\s+0$/),
		);
		expect(table).toContainEqual(expect.stringMatching(/^bob\s+USD\s+0\s+0\s+0\s+300 \(3\.00\)$/));
		expect(table).toContainEqual(expect.stringMatching(/^carol\s+EUR\s+700 \(7\.00\)\s+0\s+0\s+0$/));
		expect(await ok(run("balances", "nobody"))).toBe("no balances\n");
	}, 120_000);

	test("sales refund: partial, repeated with --id, above the sale, after a payout (a clawback), --json", async (context) => {
		const { refkit, run } = await ledger(kind, context);
		await refer(refkit, "alice", "bob");
		await sale(refkit, "inv_1", "bob", 1000);

		expect(
			await ok(
				run("sales", "refund", "inv_1", "--amount", "250", "--reason", "partial refund", "--id", "re_1"),
			),
		).toBe(
			"refunded 250 USD (2.50) of sale inv_1 (refund re_1); 750 USD (7.50) left to refund\nvoided 1 commission not paid out yet; 1 new commission keeps what is left of it\n",
		);
		const saleId = (await refkit.getSale("inv_1"))?.id as string;
		const ofSale = async () =>
			(await refkit.listCommissions({ limit: 1000 }))
				.filter((c) => c.sourceId === saleId)
				.map((c) => [c.amount, c.status]);
		expect(await ofSale()).toEqual(
			expect.arrayContaining([
				[200, "voided"],
				[150, "approved"],
			]),
		);
		// A retry with the same refund id is recognised, not repeated.
		expect(
			await ok(
				run("sales", "refund", "inv_1", "--amount", "250", "--reason", "partial refund", "--id", "re_1"),
			),
		).toBe(
			"refund re_1 was recorded before (250 USD (2.50) of sale inv_1): nothing changed; 750 USD (7.50) left to refund\n",
		);
		expectOneLineError(
			await run("sales", "refund", "inv_1", "--amount", "751", "--reason", "too much"),
			/sale "inv_1" of 1000 USD has 750 left to refund; a refund of 751 would exceed it/,
		);
		expectOneLineError(
			await run("sales", "refund", "nope", "--reason", "x"),
			/no sale has the external id "nope"/,
		);
		expect(await refkit.getSale("inv_1")).toMatchObject({ refunded: 250 });
		expect(await ofSale()).toHaveLength(2);

		// Paid out, then refunded: the commission stays, a clawback takes back its share. No --id: a new one.
		await refkit.createPayouts();
		const refunded = await jsonOf<RefundSaleResult & { status: "refunded" }>(
			run("sales", "refund", "inv_1", "--reason", "the rest", "--json"),
		);
		expectWholeNumbers(refunded);
		expect(refunded).toMatchObject({
			status: "refunded",
			sale: { externalId: "inv_1", amount: 1000, refunded: 1000 },
			refund: { amount: 750, reason: "the rest", externalId: expect.stringMatching(new RegExp(`^${UUID}$`)) },
			voided: [],
			clawbacks: [{ userId: "alice", amount: -150, status: "approved", payoutId: null }],
		});
		const clawbacks = (await jsonOf<Commission[]>(run("commissions", "list", "--json"))).filter(
			(c) => c.amount < 0,
		);
		expect(clawbacks).toMatchObject([
			{ amount: -150, clawbackOf: expect.stringMatching(new RegExp(`^${UUID}$`)) },
		]);
		expect(await ok(run("commissions", "list", "--user", "alice"))).toMatch(
			/-150 \(-1\.50\)\s+USD\s+approved\s+\S+\s+-\s+takes back /,
		);

		await sale(refkit, "inv_2", "bob", 2000);
		await refkit.createPayouts();
		// A refund id is one refund: used again for another sale, it refunds nothing.
		expectOneLineError(
			await run("sales", "refund", "inv_2", "--reason", "x", "--id", "re_1"),
			/refundId "re_1" was used for another sale's refund; give each refund its own id/,
		);
		expect(await refkit.getSale("inv_2")).toMatchObject({ refunded: 0 });
		expect(
			await ok(run("sales", "refund", "inv_2", "--amount", "1000", "--reason", "half", "--id", "re_2")),
		).toBe(
			"refunded 1000 USD (10.00) of sale inv_2 (refund re_2); 1000 USD (10.00) left to refund\nclawed back 200 USD (2.00) from alice, already in a payout: the next payout takes it back\n",
		);
	}, 180_000);

	test("payouts: create, export the run as CSV, mark paid; payouts list and its filters", async (context) => {
		const { refkit, run } = await ledger(kind, context);
		await refer(refkit, "alice", "bob");
		await refer(refkit, "alice", "carol");
		await sale(refkit, "inv_1", "bob", 1000);

		const created = await ok(run("payouts", "create"));
		const runId = new RegExp(
			`^payout run (${UUID}): 3 payouts, 1800 USD \\(18\\.00\\), cutoff ${TIME}\\n`,
		).exec(created)?.[1];
		expect(runId).toBeDefined();
		const made = await refkit.listPayouts({ runId });
		expect(made.map((p) => [p.userId, p.amount, p.commissions]).sort()).toEqual([
			["alice", 1200, 3],
			["bob", 300, 1],
			["carol", 300, 1],
		]);
		const alices = made.find((p) => p.userId === "alice") as Payout;
		expect(created).toMatch(
			new RegExp(
				`\\n${alices.id}\\s+alice\\s+USD\\s+1200 \\(12\\.00\\)\\s+3\\s+created\\s+-\\s+${TIME}\\s+${runId}\\n`,
			),
		);
		expect(created).toContain(
			`\nPay them (refkit payouts export ${runId} --output payouts.csv), then mark each paid or failed.\n`,
		);
		expect(await ok(run("payouts", "create"))).toMatch(
			new RegExp(`^payout run ${UUID}: no payouts, nothing payable by ${TIME}\\n$`),
		);

		const csv = await ok(run("payouts", "export", runId as string));
		const lines = csv.split("\r\n");
		expect(lines.pop()).toBe("");
		expect(lines[0]).toBe(PAYOUT_COLUMNS.map(([name]) => name).join(","));
		const at = (name: string) => PAYOUT_COLUMNS.findIndex(([column]) => column === name);
		const fields = ["payout_id", "user_id", "currency", "amount_minor", "amount", "status", "run_id"].map(at);
		expect(
			lines
				.slice(1)
				.map(csvFields)
				.map((row) => fields.map((i) => row[i]))
				.sort(),
		).toEqual(
			made
				.map((p) => [p.id, p.userId, "USD", String(p.amount), (p.amount / 100).toFixed(2), "created", runId])
				.sort(),
		);
		const dir = tempDir();
		const file = join(dir, "payouts.csv");
		expect(await ok(run("payouts", "export", runId as string, "--output", file))).toBe(
			`exported 3 payouts to ${file}\n`,
		);
		expect(readFileSync(file, "utf8")).toBe(csv);
		expect(readdirSync(dir)).toEqual(["payouts.csv"]);
		expect((await ok(run("payouts", "export", alices.id))).split("\r\n")[1]).toMatch(
			new RegExp(`^${alices.id},alice,USD,1200,12\\.00,3,created,`),
		);

		expect(await ok(run("payouts", "mark-paid", alices.id, "--reference", "TR-1"))).toBe(
			`payout ${alices.id} paid: 1200 USD (12.00) to alice, reference TR-1; 3 commissions paid for good\n`,
		);
		expect(await refkit.getPayout(alices.id)).toMatchObject({ status: "paid", reference: "TR-1" });
		expect((await refkit.listCommissions({ payoutId: alices.id })).map((c) => c.status)).toEqual([
			"paid",
			"paid",
			"paid",
		]);
		expect(await refkit.balances("alice")).toMatchObject([{ approved: 0, paid: 1200 }]);
		// Twice is a value, and the first reference stays; a paid payout cannot fail.
		expect(await ok(run("payouts", "mark-paid", alices.id, "--reference", "TR-2"))).toBe(
			`payout ${alices.id} was marked paid before (reference TR-1): nothing changed\n`,
		);
		expectOneLineError(
			await run("payouts", "fail", alices.id, "--reason", "x"),
			/is paid; it cannot be marked failed/,
		);
		expect(await refkit.getPayout(alices.id)).toMatchObject({
			status: "paid",
			reference: "TR-1",
			failureReason: null,
		});

		const listed = await jsonOf<Payout[]>(run("payouts", "list", "--json"));
		expect(listed).toEqual(plain(await refkit.listPayouts()));
		expectWholeNumbers(listed);
		expect(
			(await jsonOf<Payout[]>(run("payouts", "list", "--status", "paid", "--json"))).map((p) => p.id),
		).toEqual([alices.id]);
		expect(
			(await jsonOf<Payout[]>(run("payouts", "list", "--status", "created", "--json")))
				.map((p) => p.userId)
				.sort(),
		).toEqual(["bob", "carol"]);
		expect(await jsonOf(run("payouts", "list", "--user", "bob", "--json"))).toMatchObject([
			{ userId: "bob", amount: 300 },
		]);
		expect(
			await jsonOf(run("payouts", "list", "--run", runId as string, "--limit", "2", "--json")),
		).toHaveLength(2);
		expect(await ok(run("payouts", "list", "--run", UNKNOWN_ID))).toBe("no payouts\n");
		const table = (await ok(run("payouts", "list", "--status", "paid"))).split("\n");
		expect(table[0]).toMatch(
			/^ID\s+USER\s+CURRENCY\s+AMOUNT\s+COMMISSIONS\s+STATUS\s+REFERENCE OR REASON\s+CREATED\s+RUN$/,
		);
		expect(table[1]).toMatch(
			new RegExp(
				`^${alices.id}\\s+alice\\s+USD\\s+1200 \\(12\\.00\\)\\s+3\\s+paid\\s+TR-1\\s+${TIME}\\s+${runId}$`,
			),
		);
	}, 180_000);

	test("payouts: create, fail, payable again, create again", async (context) => {
		const { refkit, run } = await ledger(kind, context);
		await refer(refkit, "alice", "bob");

		const first = await jsonOf<{
			runId: string;
			cutoff: string;
			totals: Record<string, number>;
			carriedForward: number;
			payouts: Payout[];
		}>(run("payouts", "create", "--json"));
		expect(Object.keys(first)).toEqual(["runId", "cutoff", "totals", "carriedForward", "payouts"]);
		expect(first).toMatchObject({ totals: { USD: 800 }, carriedForward: 0 });
		expect(first.payouts).toEqual(plain(await refkit.listPayouts({ runId: first.runId })));
		expect(first.payouts.map((p) => [p.userId, p.currency, p.amount]).sort()).toEqual([
			["alice", "USD", 500],
			["bob", "USD", 300],
		]);
		expectWholeNumbers(first);
		const failed = first.payouts.find((p) => p.userId === "alice") as Payout;
		const [commission] = await refkit.listCommissions({ payoutId: failed.id });

		expect(await ok(run("payouts", "fail", failed.id, "--reason", "bank account closed"))).toBe(
			`payout ${failed.id} failed (bank account closed): 1 commission of alice, 500 USD (5.00), payable again at the next run\n`,
		);
		expect(await refkit.getPayout(failed.id)).toMatchObject({
			status: "failed",
			failureReason: "bank account closed",
		});
		expect(await refkit.getCommission(commission?.id as string)).toMatchObject({
			status: "approved",
			payoutId: null,
		});
		expect(await ok(run("payouts", "fail", failed.id, "--reason", "again"))).toBe(
			`payout ${failed.id} was marked failed before (bank account closed): nothing changed\n`,
		);
		expectOneLineError(
			await run("payouts", "mark-paid", failed.id, "--reference", "TR-9"),
			/is failed; it cannot be marked paid/,
		);
		expect(await refkit.getPayout(failed.id)).toMatchObject({ status: "failed", reference: null });

		const second = await jsonOf<{ payouts: Payout[]; totals: Record<string, number> }>(
			run("payouts", "create", "--json"),
		);
		expect(second.totals).toEqual({ USD: 500 });
		expect(second.payouts).toMatchObject([{ userId: "alice", amount: 500, status: "created" }]);
		expect(second.payouts[0]?.id).not.toBe(failed.id);
		expect((await refkit.listCommissions({ payoutId: second.payouts[0]?.id })).map((c) => c.id)).toEqual([
			commission?.id,
		]);
		expect(
			(await jsonOf<Payout[]>(run("payouts", "list", "--status", "failed", "--json"))).map((p) => p.id),
		).toEqual([failed.id]);
		expect(await ok(run("payouts", "list", "--status", "failed"))).toMatch(
			/\s+failed\s+bank account closed\s+/,
		);
	}, 180_000);

	test("payouts create: --as-of before the commissions pays nothing; the programs' minimum payout carries small ones forward", async (context) => {
		const { refkit, run } = await ledger(kind, context, { programs: [{ ...MAIN, minimumPayout: 1000 }] });
		await refer(refkit, "alice", "bob");
		expect(await ok(run("payouts", "create", "--as-of", "2020-01-01"))).toMatch(
			new RegExp(`^payout run ${UUID}: no payouts, nothing payable by 2020-01-01T00:00:00\\.000Z\\n$`),
		);
		// The CLI has no programs: it knows the minimum from the database.
		expect(await ok(run("payouts", "create"))).toMatch(
			new RegExp(
				`^payout run ${UUID}: no payouts, cutoff ${TIME}\\ncarried forward: 2 balances below the program's minimum payout, or negative, left for a later run\\n$`,
			),
		);
		expect(await refkit.listPayouts()).toEqual([]);
		await sale(refkit, "inv_1", "bob", 2500);
		const paid = await jsonOf<{ carriedForward: number; payouts: Payout[] }>(
			run("payouts", "create", "--json"),
		);
		expect(paid).toMatchObject({ carriedForward: 1, payouts: [{ userId: "alice", amount: 1000 }] });
	}, 120_000);

	test("an empty ledger, and unknown ids: one line, exit 1, nothing written", async (context) => {
		const { run } = await ledger(kind, context);
		expect(await ok(run("commissions", "list"))).toBe("no commissions\n");
		expect(await ok(run("sales", "list", "--json"))).toBe("[]\n");
		expect(await ok(run("balances"))).toBe("no balances\n");
		expect(await ok(run("payouts", "list"))).toBe("no payouts\n");
		const dir = tempDir();
		for (const args of [
			["payouts", "mark-paid", UNKNOWN_ID, "--reference", "TR-1"],
			["payouts", "fail", UNKNOWN_ID, "--reason", "x"],
			["payouts", "export", UNKNOWN_ID],
			["payouts", "export", UNKNOWN_ID, "--output", join(dir, "payouts.csv")],
		]) {
			expectOneLineError(
				await run(...args),
				new RegExp(`^refkit: no payout has the id "${UNKNOWN_ID}"\\. List them with .*refkit payouts list`),
			);
		}
		expect(readdirSync(dir)).toEqual([]);
		expectOneLineError(
			await run("commissions", "reject", UNKNOWN_ID, "--reason", "x"),
			/no commission has the id/,
		);
	}, 120_000);
});
