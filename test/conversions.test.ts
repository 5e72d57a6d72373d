import { execFile } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { sql } from "kysely";
import { Webhook } from "standardwebhooks";
import { describe, expect, test } from "vitest";
import {
	type Conversion,
	type Refkit,
	type RefkitOptions,
	verifyWebhookSignature,
	WEBHOOK_ID_HEADER,
	webhookSender,
} from "../src/index.js";
import {
	createTestRefkit,
	DATABASES,
	type DatabaseKind,
	freshDatabaseUrl,
	TEST_SECRET,
	twoTestRefkits,
} from "./setup/databases.js";
import { expectCode, runSql, visit, visitorCookie } from "./setup/direct.js";

const DAY = 24 * 60 * 60 * 1000;
const LEDGER =
	"create table reward_ledger (conversion_id text primary key, referrer text, cents integer not null)";

/** A refkit whose database also holds the application's own `reward_ledger` table. */
async function withLedger(kind: DatabaseKind, options: Partial<RefkitOptions> = {}) {
	const url = await freshDatabaseUrl(kind);
	await runSql(kind, url, LEDGER);
	const refkit = await createTestRefkit(kind, { database: url, ...options });
	const ledger = async () =>
		(await runSql(kind, url, "select conversion_id, referrer, cents from reward_ledger")) as {
			conversion_id: string;
			referrer: string;
			cents: number;
		}[];
	return { refkit, url, ledger };
}

/** The reward of the tests: five hundred cents to the referrer, written through the conversion's transaction. */
async function creditReferrer(
	tx: Parameters<NonNullable<Parameters<Refkit["confirm"]>[1]>>[0],
	c: Conversion,
) {
	await tx
		.insertInto("reward_ledger")
		.values({ conversion_id: c.id, referrer: c.referrerUserId, cents: 500 })
		.execute();
}

/** An anonymous visitor follows `/ref/<identifier>` and then signs up as `userId`, claiming the visit. */
async function referredSignup(refkit: Refkit, identifier: string, userId: string): Promise<string> {
	const cookie = visitorCookie(await visit(refkit, `/ref/${identifier}`));
	expect(await refkit.claim(cookie.split("=")[1], userId)).toBe(1);
	return cookie;
}

describe.each(DATABASES)("conversions on %s", (kind) => {
	test("converted: the referred user's hit is credited to the link's owner, once", async () => {
		const refkit = await createTestRefkit(kind);
		await refkit.createLink({ identifier: "alice_link", userId: "alice" });
		await referredSignup(refkit, "alice_link", "bob");
		const events: Conversion[] = [];
		refkit.on("conversion", (conversion) => void events.push(conversion));

		const result = await refkit.confirm({ userId: "bob", goal: "signup" });
		if (result.status !== "converted") throw new Error(`expected converted, got ${result.status}`);
		expect(result.referrerUserId).toBe("alice");
		const [hit] = await refkit.listHits({ userId: "bob" });
		expect(result.conversion).toMatchObject({
			goal: "signup",
			referredUserId: "bob",
			referrerUserId: "alice",
			hitId: hit?.id,
			linkId: hit?.linkId,
			value: null,
			reversedAt: null,
			deliveredAt: null,
		});
		expect(hit?.confirmedAt).toEqual(result.conversion.createdAt);
		expect(events).toEqual([result.conversion]);
		expect(await refkit.getConversion(result.conversion.id)).toEqual(result.conversion);
		expect(await refkit.listConversions({ referrerUserId: "alice" })).toEqual([result.conversion]);
	});

	test("already-converted: a second confirm() changes nothing and runs no reward", async () => {
		const refkit = await createTestRefkit(kind);
		await refkit.createLink({ identifier: "alice_link", userId: "alice" });
		await referredSignup(refkit, "alice_link", "bob");
		const first = await refkit.confirm({ userId: "bob", goal: "purchase", value: 1999 });
		let rewards = 0;
		const second = await refkit.confirm({ userId: "bob", goal: "purchase", value: 5000 }, () => {
			rewards++;
		});
		expect(second.status).toBe("already-converted");
		if (first.status !== "converted" || second.status !== "already-converted") throw new Error("statuses");
		expect(second.conversion).toEqual(first.conversion);
		expect(second.conversion.value).toBe(1999);
		expect(rewards).toBe(0);
		// Another goal is another conversion.
		expect((await refkit.confirm({ userId: "bob", goal: "signup" })).status).toBe("converted");
		expect(await refkit.listConversions()).toHaveLength(2);
	});

	test("no-referral: a user who followed no link", async () => {
		const refkit = await createTestRefkit(kind);
		await refkit.createLink({ identifier: "alice_link", userId: "alice" });
		expect(await refkit.confirm({ userId: "nobody", goal: "signup" })).toEqual({ status: "no-referral" });
		expect(await refkit.listConversions()).toEqual([]);
	});

	test("self-referral: the user's own link, logged in or claimed, never converts", async () => {
		const refkit = await createTestRefkit(kind);
		await refkit.createLink({ identifier: "alice_link", userId: "alice" });
		await visit(refkit, "/ref/alice_link", { user: "alice" });
		await referredSignup(refkit, "alice_link", "alice");
		expect(await refkit.confirm({ userId: "alice", goal: "signup" })).toEqual({ status: "self-referral" });
		const hits = await refkit.listHits({ userId: "alice" });
		expect(hits.map((hit) => hit.confirmedAt)).toEqual([null, null]);
	});

	test("self-referral: a second account made from a browser the referrer uses does not convert", async () => {
		const refkit = await createTestRefkit(kind);
		await refkit.createLink({ identifier: "alice_link", userId: "alice" });
		// Alice tries her link logged out, then logs in: that visitor id is now known to be hers.
		const cookie = visitorCookie(await visit(refkit, "/ref/alice_link"));
		await visit(refkit, "/dashboard", { user: "alice", cookie });
		// From the same browser (the cookie replayed), she follows it again and signs up a second account.
		await visit(refkit, "/ref/alice_link", { cookie });
		expect(await refkit.claim(cookie.split("=")[1], "alice_sock")).toBe(1);
		expect(await refkit.confirm({ userId: "alice_sock", goal: "signup" })).toEqual({
			status: "self-referral",
		});
	});

	test("a self-referral hit is passed over for a genuine one", async () => {
		const refkit = await createTestRefkit(kind);
		await refkit.createLink({ identifier: "dave_link", userId: "dave" });
		await refkit.createLink({ identifier: "carol_link", userId: "carol" });
		await visit(refkit, "/ref/dave_link", { user: "carol" });
		await sleep(5);
		await visit(refkit, "/ref/carol_link", { user: "carol" });
		const result = await refkit.confirm({ userId: "carol", goal: "signup" });
		expect(result.status === "converted" && result.referrerUserId).toBe("dave");
	});

	test("outside-window: hits older than attributionWindow do not convert", async () => {
		const refkit = await createTestRefkit(kind);
		await refkit.createLink({ identifier: "alice_link", userId: "alice" });
		await referredSignup(refkit, "alice_link", "bob");
		const later = new Date(Date.now() + 91 * DAY);
		expect(await refkit.confirm({ userId: "bob", goal: "signup", at: later })).toEqual({
			status: "outside-window",
		});
		const shortWindow = await createTestRefkit(kind, { attributionWindow: 1000 });
		await shortWindow.createLink({ identifier: "l", userId: "alice" });
		await referredSignup(shortWindow, "l", "bob");
		const twoSecondsLater = new Date(Date.now() + 2000);
		expect((await shortWindow.confirm({ userId: "bob", goal: "signup", at: twoSecondsLater })).status).toBe(
			"outside-window",
		);
		expect(
			(await refkit.confirm({ userId: "bob", goal: "signup", at: new Date(Date.now() + 89 * DAY) })).status,
		).toBe("converted");
	});

	test("last touch by default, first touch as an option", async () => {
		for (const attribution of ["last", "first"] as const) {
			const refkit = await createTestRefkit(kind, attribution === "first" ? { attribution } : {});
			await refkit.createLink({ identifier: "early", userId: "early_bird" });
			await refkit.createLink({ identifier: "late", userId: "latecomer" });
			const cookie = visitorCookie(await visit(refkit, "/ref/early"));
			await sleep(5);
			await visit(refkit, "/ref/late", { cookie });
			await refkit.claim(cookie.split("=")[1], "bob");
			const result = await refkit.confirm({ userId: "bob", goal: "signup" });
			expect(result.status === "converted" && result.referrerUserId).toBe(
				attribution === "last" ? "latecomer" : "early_bird",
			);
		}
	});

	test("a hit after `at` is not credited for a goal reached before it", async () => {
		const refkit = await createTestRefkit(kind);
		await refkit.createLink({ identifier: "alice_link", userId: "alice" });
		await referredSignup(refkit, "alice_link", "bob");
		const yesterday = new Date(Date.now() - DAY);
		expect(await refkit.confirm({ userId: "bob", goal: "signup", at: yesterday })).toEqual({
			status: "no-referral",
		});
	});

	test("malformed arguments throw INVALID_ARGUMENT and record nothing", async () => {
		const refkit = await createTestRefkit(kind);
		await refkit.createLink({ identifier: "alice_link", userId: "alice" });
		await referredSignup(refkit, "alice_link", "bob");
		const bad: unknown[] = [
			{ userId: "bob", goal: "" },
			{ userId: "bob", goal: "has space" },
			{ userId: "bob", goal: "x".repeat(65) },
			{ userId: "", goal: "signup" },
			{ userId: 42, goal: "signup" },
			{ userId: "bob", goal: "signup", value: "12" },
			{ userId: "bob", goal: "signup", value: Number.NaN },
			{ userId: "bob", goal: "signup", value: Number.POSITIVE_INFINITY },
			{ userId: "bob", goal: "signup", at: new Date("nope") },
			{ userId: "bob", goal: "signup", at: "2026-01-01" },
			null,
		];
		for (const input of bad) {
			expect(await expectCode(refkit.confirm(input as never), "INVALID_ARGUMENT")).toMatch(
				/^refkit: confirm/,
			);
		}
		await expectCode(
			refkit.confirm({ userId: "bob", goal: "signup" }, "reward" as never),
			"INVALID_ARGUMENT",
		);
		expect(await refkit.listConversions()).toEqual([]);
	});

	test("100 concurrent confirm() calls give one conversion and one committed reward", async () => {
		const { refkit, ledger } = await withLedger(kind);
		await refkit.createLink({ identifier: "alice_link", userId: "alice" });
		await referredSignup(refkit, "alice_link", "bob");
		const results = await Promise.all(
			Array.from({ length: 100 }, () => refkit.confirm({ userId: "bob", goal: "signup" }, creditReferrer)),
		);
		const converted = results.filter((result) => result.status === "converted");
		expect(converted).toHaveLength(1);
		expect(results.filter((result) => result.status === "already-converted")).toHaveLength(99);
		const conversions = await refkit.listConversions();
		expect(conversions).toHaveLength(1);
		expect(await ledger()).toEqual([{ conversion_id: conversions[0]?.id, referrer: "alice", cents: 500 }]);
	});

	test("four processes confirming at once still give one conversion and one reward", async () => {
		const { url, refkit, ledger } = await withLedger(kind);
		await refkit.createLink({ identifier: "alice_link", userId: "alice" });
		await referredSignup(refkit, "alice_link", "bob");
		const script = `
			import { createRefkit } from ${JSON.stringify(new URL("../dist/index.js", import.meta.url).href)};
			const refkit = createRefkit({ database: process.argv[1], secret: "${TEST_SECRET}" });
			const reward = (tx, c) => tx.insertInto("reward_ledger").values({ conversion_id: c.id, referrer: c.referrerUserId, cents: 500 }).execute();
			const results = await Promise.all(Array.from({ length: 25 }, () => refkit.confirm({ userId: "bob", goal: "signup" }, reward)));
			await refkit.close();
			console.log(JSON.stringify(results.map((r) => r.status)));`;
		const outputs = await Promise.all(
			[1, 2, 3, 4].map(
				() =>
					new Promise<string>((resolve, reject) =>
						execFile(process.execPath, ["--input-type=module", "-e", script, url], (error, stdout, stderr) =>
							error ? reject(new Error(stderr || String(error))) : resolve(stdout),
						),
					),
			),
		);
		const statuses = outputs.flatMap((output) => JSON.parse(output) as string[]);
		expect(statuses.filter((status) => status === "converted")).toHaveLength(1);
		expect(statuses.filter((status) => status === "already-converted")).toHaveLength(99);
		expect(await ledger()).toHaveLength(1);
	});

	test("a reward that throws rolls the conversion back, and its error reaches the caller", async () => {
		const { refkit, ledger } = await withLedger(kind);
		await refkit.createLink({ identifier: "alice_link", userId: "alice" });
		await referredSignup(refkit, "alice_link", "bob");
		const events: Conversion[] = [];
		refkit.on("conversion", (conversion) => void events.push(conversion));
		const failure = new Error("the payment provider is down");
		await expect(
			refkit.confirm({ userId: "bob", goal: "signup" }, async (tx, conversion) => {
				await creditReferrer(tx, conversion);
				throw failure;
			}),
		).rejects.toBe(failure);
		expect(await refkit.listConversions()).toEqual([]);
		expect(await ledger()).toEqual([]);
		expect((await refkit.listHits({ userId: "bob" }))[0]?.confirmedAt).toBeNull();
		expect(events).toEqual([]);

		const retried = await refkit.confirm({ userId: "bob", goal: "signup" }, creditReferrer);
		expect(retried.status).toBe("converted");
		expect(await ledger()).toHaveLength(1);
	});

	test("the reward transaction can read and write the application's tables with SQL", async () => {
		const { refkit, ledger } = await withLedger(kind);
		await refkit.createLink({ identifier: "alice_link", userId: "alice" });
		await referredSignup(refkit, "alice_link", "bob");
		const result = await refkit.confirm({ userId: "bob", goal: "signup" }, async (tx, conversion) => {
			await sql`insert into reward_ledger (conversion_id, referrer, cents) values (${conversion.id}, ${"alice"}, ${250})`.execute(
				tx,
			);
			const { rows } = await sql<{ n: number | string }>`select count(*) as n from reward_ledger`.execute(tx);
			expect(Number(rows[0]?.n)).toBe(1);
		});
		expect(result.status).toBe("converted");
		expect((await ledger())[0]?.cents).toBe(250);
	});

	test("reverseConversion keeps the row, marks it, emits once and blocks a second conversion", async () => {
		const refkit = await createTestRefkit(kind);
		await refkit.createLink({ identifier: "alice_link", userId: "alice" });
		await referredSignup(refkit, "alice_link", "bob");
		const result = await refkit.confirm({ userId: "bob", goal: "purchase", value: 4200 });
		if (result.status !== "converted") throw new Error(result.status);
		const reversals: Conversion[] = [];
		refkit.on("reversal", (conversion) => void reversals.push(conversion));

		const reversed = await refkit.reverseConversion(result.conversion.id, { reason: "refund" });
		expect(reversed.status).toBe("reversed");
		expect(reversed.conversion.reversalReason).toBe("refund");
		expect(reversed.conversion.reversedAt).toBeInstanceOf(Date);
		expect(reversals).toEqual([reversed.conversion]);

		const again = await refkit.reverseConversion(result.conversion.id, { reason: "chargeback" });
		expect(again).toEqual({ status: "already-reversed", conversion: reversed.conversion });
		expect(reversals).toHaveLength(1);
		expect((await refkit.confirm({ userId: "bob", goal: "purchase" })).status).toBe("already-converted");

		await expectCode(
			refkit.reverseConversion("00000000-0000-4000-8000-000000000000", { reason: "refund" }),
			"CONVERSION_NOT_FOUND",
		);
		await expectCode(refkit.reverseConversion("42", { reason: "refund" }), "INVALID_ARGUMENT");
		await expectCode(refkit.reverseConversion(result.conversion.id, { reason: " " }), "INVALID_ARGUMENT");
		expect(await refkit.getConversion("42")).toBeNull();
	});

	test("applyCode records a code hit that confirm() credits, and refuses what it must", async () => {
		const refkit = await createTestRefkit(kind, { codeWindow: 7 * DAY });
		await refkit.createLink({ identifier: "ALICE2024", userId: "alice" });
		await refkit.createLink({ identifier: "off", userId: "alice" });
		await refkit.disableLink("off");
		await refkit.createLink({ identifier: "bob_code", userId: "bob" });
		const signedUpAt = new Date();

		expect(await refkit.applyCode("bob", "NOPE", { signedUpAt })).toEqual({ status: "invalid-code" });
		expect(await refkit.applyCode("bob", "not a code!", { signedUpAt })).toEqual({ status: "invalid-code" });
		expect(await refkit.applyCode("bob", "off", { signedUpAt })).toEqual({ status: "invalid-code" });
		expect(await refkit.applyCode("bob", "bob_code", { signedUpAt })).toEqual({ status: "own-code" });
		expect(
			await refkit.applyCode("bob", "ALICE2024", { signedUpAt: new Date(Date.now() - 8 * DAY) }),
		).toEqual({ status: "too-late" });

		const applied = await refkit.applyCode("bob", " ALICE2024 ", { signedUpAt });
		if (applied.status !== "applied") throw new Error(applied.status);
		expect(applied.hit).toMatchObject({
			source: "code",
			userId: "bob",
			authenticated: true,
			visitorId: null,
		});
		expect(await refkit.applyCode("bob", "ALICE2024", { signedUpAt })).toEqual({ status: "already-applied" });

		const result = await refkit.confirm({ userId: "bob", goal: "signup" });
		expect(result.status === "converted" && result.conversion.hitId).toBe(applied.hit.id);
		expect((await refkit.listHits({ userId: "bob" }))[0]?.source).toBe("code");
		await expectCode(refkit.applyCode("bob", "ALICE2024", {} as never), "INVALID_ARGUMENT");
		await expectCode(refkit.applyCode("", "ALICE2024", { signedUpAt }), "INVALID_ARGUMENT");
	});

	test("a reward that holds the transaction over a second is reported on SQLite, where every write waits", async () => {
		const reported: unknown[] = [];
		const refkit = await createTestRefkit(kind, { onError: (error) => reported.push(error) });
		await refkit.createLink({ identifier: "alice_link", userId: "alice" });
		await visit(refkit, "/ref/alice_link", { user: "bob" });
		const result = await refkit.confirm({ userId: "bob", goal: "signup" }, async () => {
			await sleep(1_100);
		});
		expect(result.status).toBe("converted");
		if (kind === "sqlite") {
			expect(reported).toHaveLength(1);
			expect(reported[0]).toMatchObject({ code: "SLOW_REWARD" });
			expect(String((reported[0] as Error).message)).toMatch(/held SQLite's write lock for \d{4} ms/);
		} else {
			expect(reported).toEqual([]);
		}
		await refkit.confirm({ userId: "carol", goal: "signup" }, async () => {});
		expect(reported.length).toBeLessThanOrEqual(1);
	});

	test("one code per user, exactly once: 20 racing applyCode() calls apply one", async () => {
		const refkit = await createTestRefkit(kind);
		await refkit.createLink({ identifier: "ALICE", userId: "alice" });
		await refkit.createLink({ identifier: "CAROL", userId: "carol" });
		const signedUpAt = new Date();
		const results = await Promise.all(
			Array.from({ length: 20 }, (_, i) => refkit.applyCode("u1", i % 2 ? "ALICE" : "CAROL", { signedUpAt })),
		);
		const statuses = results.map((result) => result.status);
		expect(statuses.filter((status) => status === "applied")).toHaveLength(1);
		expect(statuses.filter((status) => status === "already-applied")).toHaveLength(19);
		expect((await refkit.listHits({ userId: "u1" })).map((hit) => hit.source)).toEqual(["code"]);
	});

	if (kind === "postgres") {
		test("one code per user across two instances (two pools) racing", async () => {
			const [first, second] = await twoTestRefkits(kind);
			await first.createLink({ identifier: "ALICE", userId: "alice" });
			const signedUpAt = new Date();
			const results = await Promise.all(
				Array.from({ length: 20 }, (_, i) =>
					(i % 2 ? first : second).applyCode("u2", "ALICE", { signedUpAt }),
				),
			);
			expect(results.filter((result) => result.status === "applied")).toHaveLength(1);
			expect(await first.listHits({ userId: "u2" })).toHaveLength(1);
		});
	}

	test("events: hit, claim, conversion and reversal, after the fact; a throwing listener harms nothing", async () => {
		const reported: unknown[] = [];
		const refkit = await createTestRefkit(kind, { onError: (error) => reported.push(error) });
		await refkit.createLink({ identifier: "alice_link", userId: "alice" });
		const seen: string[] = [];
		refkit.on("hit", (hit) => void seen.push(`hit:${hit.source}:${hit.userId}`));
		refkit.on("claim", (claim) => void seen.push(`claim:${claim.userId}:${claim.count}`));
		refkit.on("conversion", (c) => void seen.push(`conversion:${c.goal}`));
		refkit.on("reversal", (c) => void seen.push(`reversal:${c.reversalReason}`));
		refkit.on("hit", () => {
			throw new Error("listener bug");
		});
		const stop = refkit.on("conversion", async () => {
			throw new Error("async listener bug");
		});

		const cookie = visitorCookie(await visit(refkit, "/ref/alice_link"));
		await visit(refkit, "/home", { user: "bob", cookie });
		const result = await refkit.confirm({ userId: "bob", goal: "signup" });
		stop();
		if (result.status !== "converted") throw new Error(result.status);
		await refkit.reverseConversion(result.conversion.id, { reason: "fraud" });
		await refkit.confirm({ userId: "bob", goal: "second" });
		await sleep(10);

		expect(seen).toEqual([
			"hit:link:null",
			"claim:bob:1",
			"conversion:signup",
			"reversal:fraud",
			"conversion:second",
		]);
		expect(reported.map((error) => (error as Error).message).sort()).toEqual([
			"async listener bug",
			"listener bug",
		]);
		await expectCode(
			Promise.resolve().then(() => refkit.on("nope" as never, () => {})),
			"INVALID_ARGUMENT",
		);
	});
});

describe.each(DATABASES)("the outbox on %s", (kind) => {
	async function converted(refkit: Refkit, userId: string): Promise<Conversion> {
		await referredSignup(refkit, "alice_link", userId);
		const result = await refkit.confirm({ userId, goal: "signup" });
		if (result.status !== "converted") throw new Error(result.status);
		return result.conversion;
	}

	test("a failed delivery is retried with backoff; delivered ones are not sent again", async () => {
		const reported: unknown[] = [];
		const refkit = await createTestRefkit(kind, { onError: (error) => reported.push(error) });
		await refkit.createLink({ identifier: "alice_link", userId: "alice" });
		const conversion = await converted(refkit, "bob");
		const options = { retryDelay: 300 };

		const attempts: { key: string; attempt: number; type: string }[] = [];
		let failNext = true;
		const handler = async (delivery: { idempotencyKey: string; attempt: number; type: string }) => {
			attempts.push({ key: delivery.idempotencyKey, attempt: delivery.attempt, type: delivery.type });
			if (failNext) {
				failNext = false;
				throw new Error("receiver is down");
			}
		};

		expect(await refkit.deliverConversions(handler, options)).toEqual({ delivered: 0, failed: 1 });
		expect(reported).toHaveLength(1);
		// Not due yet: the retry waits for its backoff.
		expect(await refkit.deliverConversions(handler, options)).toEqual({ delivered: 0, failed: 0 });
		await sleep(350);
		expect(await refkit.deliverConversions(handler, options)).toEqual({ delivered: 1, failed: 0 });
		expect(attempts).toEqual([
			{ key: conversion.id, attempt: 1, type: "conversion" },
			{ key: conversion.id, attempt: 2, type: "conversion" },
		]);
		expect((await refkit.getConversion(conversion.id))?.deliveredAt).toBeInstanceOf(Date);
		expect(await refkit.deliverConversions(handler, options)).toEqual({ delivered: 0, failed: 0 });

		await refkit.reverseConversion(conversion.id, { reason: "refund" });
		expect(await refkit.deliverConversions(handler, options)).toEqual({ delivered: 1, failed: 0 });
		expect(attempts.at(-1)).toEqual({ key: `${conversion.id}:reversal`, attempt: 1, type: "reversal" });
		expect((await refkit.getConversion(conversion.id))?.reversalDeliveredAt).toBeInstanceOf(Date);
		expect(await refkit.deliverConversions(handler, options)).toEqual({ delivered: 0, failed: 0 });
	});

	test("a reversal made before its conversion was delivered is sent after it", async () => {
		const refkit = await createTestRefkit(kind);
		await refkit.createLink({ identifier: "alice_link", userId: "alice" });
		const conversion = await converted(refkit, "bob");
		await refkit.reverseConversion(conversion.id, { reason: "fraud" });
		const types: string[] = [];
		const handler = (delivery: { type: string }) => void types.push(delivery.type);
		// The reversal becomes due once the conversion is delivered, by this pass or the next.
		await refkit.deliverConversions(handler);
		await refkit.deliverConversions(handler);
		expect(types).toEqual(["conversion", "reversal"]);
	});

	test("two workers at once deliver each conversion exactly once", async () => {
		const refkit = await createTestRefkit(kind);
		await refkit.createLink({ identifier: "alice_link", userId: "alice" });
		const ids: string[] = [];
		for (let i = 0; i < 12; i++) ids.push((await converted(refkit, `user${i}`)).id);
		const delivered: string[] = [];
		const handler = async (delivery: { conversion: Conversion }) => {
			await sleep(2);
			delivered.push(delivery.conversion.id);
		};
		const [a, b] = await Promise.all([
			refkit.deliverConversions(handler, { batchSize: 3 }),
			refkit.deliverConversions(handler, { batchSize: 3 }),
		]);
		expect((a?.delivered ?? 0) + (b?.delivered ?? 0)).toBe(12);
		expect([...delivered].sort()).toEqual([...ids].sort());
	});

	test("webhookSender posts signed conversions to a real receiver, which retries after a failure", async () => {
		const reported: unknown[] = [];
		const refkit = await createTestRefkit(kind, { onError: (error) => reported.push(error) });
		await refkit.createLink({ identifier: "alice_link", userId: "alice" });
		const conversion = await converted(refkit, "bob");
		const secret = "whsec_0123456789abcdef0123456789abcdef";
		const received: {
			key: string;
			body: { type: string; conversion: { id: string; referrerUserId: string } };
		}[] = [];
		const ids: string[] = [];
		let answers = [503, 200];
		const server = createServer((req, res) => {
			let body = "";
			req.on("data", (chunk) => {
				body += chunk;
			});
			req.on("end", () => {
				// The receiver checks the signature with a Standard Webhooks library, and with refkit's own check.
				try {
					new Webhook(secret).verify(body, req.headers as Record<string, string>);
				} catch {
					res.writeHead(400).end("bad signature");
					return;
				}
				if (!verifyWebhookSignature({ body, headers: req.headers, secret })) {
					res.writeHead(400).end("bad signature");
					return;
				}
				const key = String(req.headers[WEBHOOK_ID_HEADER]);
				ids.push(key);
				const status = answers.shift() ?? 200;
				if (status === 200) received.push({ key, body: JSON.parse(body) });
				res.writeHead(status).end();
			});
		});
		await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
		try {
			const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/refkit`;
			const send = webhookSender({ url, secret });
			expect(await refkit.deliverConversions(send, { retryDelay: 50 })).toEqual({ delivered: 0, failed: 1 });
			expect(String(reported[0])).toMatch(/503/);
			await sleep(100);
			expect(await refkit.deliverConversions(send, { retryDelay: 50 })).toEqual({ delivered: 1, failed: 0 });
			await refkit.reverseConversion(conversion.id, { reason: "refund" });
			answers = [200];
			expect(await refkit.deliverConversions(send)).toEqual({ delivered: 1, failed: 0 });
			expect(
				received.map((r) => [r.key, r.body.type, r.body.conversion.id, r.body.conversion.referrerUserId]),
			).toEqual([
				[conversion.id, "conversion", conversion.id, "alice"],
				[`${conversion.id}:reversal`, "reversal", conversion.id, "alice"],
			]);
			// The failed attempt and its retry carry the same webhook-id, so the receiver can dedupe by it.
			expect(ids).toEqual([conversion.id, conversion.id, `${conversion.id}:reversal`]);
		} finally {
			await new Promise((resolve) => server.close(resolve));
		}
	});

	test("bad handler or options throw INVALID_ARGUMENT", async () => {
		const refkit = await createTestRefkit(kind);
		await expectCode(refkit.deliverConversions("nope" as never), "INVALID_ARGUMENT");
		await expectCode(
			refkit.deliverConversions(() => {}, { retryDelay: -1 }),
			"INVALID_ARGUMENT",
		);
		await expectCode(
			refkit.deliverConversions(() => {}, { batchSize: 0 }),
			"INVALID_ARGUMENT",
		);
	});
});
