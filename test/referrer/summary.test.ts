import { describe, expect, test } from "vitest";
import type { ReferrerSummaryInput, Refkit } from "../../src/index.js";
import { program, referredSignup, refkitWithPrograms } from "../programs/setup.js";
import { createTestRefkit, DATABASES } from "../setup/databases.js";
import { expectCode, visit } from "../setup/direct.js";

const DAY = 24 * 60 * 60 * 1000;
const today = () => new Date().toISOString().slice(0, 10);

/**
 * Alice refers bob (signup, then a 100.00 sale) and carol (signup, reversed since); dave refers erin. Alice's
 * link was followed three times, dave's twice.
 */
async function twoReferrers(refkit: Refkit) {
	await referredSignup(refkit, "alice", "bob");
	await refkit.recordSale({ userId: "bob", externalId: "inv_1", amount: 10000, currency: "USD" });
	const carol = await referredSignup(refkit, "alice", "carol");
	if (carol.status !== "converted") throw new Error("carol's signup was not confirmed");
	await refkit.reverseConversion(carol.conversion.id, { reason: "fraud" });
	await referredSignup(refkit, "dave", "erin");
	for (let i = 0; i < 3; i++) await visit(refkit, "/ref/alice_link");
	for (let i = 0; i < 2; i++) await visit(refkit, "/ref/dave_link");
}

describe.each(DATABASES)("referrerSummary() on %s", (kind) => {
	test("a referrer's links, funnel, earnings, payouts and referrals: theirs alone", async () => {
		const refkit = await refkitWithPrograms(kind, [program({ holdDays: 30 })]);
		await twoReferrers(refkit);
		const summary = await refkit.referrerSummary("alice", { days: 7, baseUrl: "https://shop.example" });

		expect(summary.userId).toBe("alice");
		expect(summary.links).toEqual([
			expect.objectContaining({
				identifier: "alice_link",
				path: "/ref/alice_link",
				url: "https://shop.example/ref/alice_link",
				disabled: false,
				program: "standard",
			}),
		]);
		expect(summary.period.days).toBe(7);
		expect(summary.funnel.daily).toHaveLength(7);
		expect(summary.funnel.daily.at(-1)).toEqual({ date: today(), clicks: 5, conversions: { signup: 1 } });
		// Two typed codes and three followed links; carol's signup was reversed.
		expect(summary.funnel.totals).toEqual({ clicks: 5, conversions: { signup: 1 }, reversed: 1 });
		expect(summary.funnel.goals).toEqual(["signup"]);

		// 5.00 for bob's signup and 20.00 (20 % of his 100.00), pending 30 days; carol's 5.00 voided with her
		// reversal.
		const pending = 2500;
		expect(summary.earnings).toEqual([{ currency: "USD", pending, held: 0, payable: 0, paid: 0 }]);
		expect(summary.upcoming).toEqual([
			{ date: new Date(Date.now() + 30 * DAY).toISOString().slice(0, 10), currency: "USD", amount: pending },
		]);
		expect(summary.referrals.map((r) => [r.goal, r.reversed])).toEqual([
			["signup", true],
			["signup", false],
		]);
		for (const referral of summary.referrals) {
			expect(referral.name).toBeNull();
			expect(referral.alias).toMatch(/^[0-9a-f]{6}$/);
		}
		expect(summary.programs.map((p) => p.id)).toEqual(["standard"]);
		expect(summary.leaderboard).toBeNull();

		// Nothing of anyone else: not the referred users' ids, not dave's link, clicks or referral.
		const json = JSON.stringify(summary);
		for (const other of ["bob", "carol", "dave", "erin"]) expect(json).not.toContain(other);
	});

	test("a referrer's earnings by state: payable once due, held for review, paid by a payout", async () => {
		const refkit = await refkitWithPrograms(kind, [program({ holdDays: 0, minimumPayout: 0 })], {
			review: { hook: (candidate) => (candidate.referredUserId === "carol" ? { hold: "check" } : "approve") },
		});
		await referredSignup(refkit, "alice", "bob");
		const run = await refkit.createPayouts();
		expect(run.payouts).toBe(2); // alice, and bob for his side of the signup
		const [payout] = await refkit.listPayouts({ userId: "alice" });
		await refkit.markPayoutPaid(payout?.id as string, { reference: "tr_1" });
		await referredSignup(refkit, "alice", "dan");
		await referredSignup(refkit, "alice", "carol");

		const summary = await refkit.referrerSummary("alice");
		expect(summary.earnings).toEqual([{ currency: "USD", pending: 0, held: 500, payable: 500, paid: 500 }]);
		expect(summary.upcoming).toEqual([]);
		expect(summary.payouts).toEqual([
			{
				id: payout?.id,
				amount: 500,
				currency: "USD",
				status: "paid",
				reference: "tr_1",
				createdAt: expect.any(Date),
				paidAt: expect.any(Date),
			},
		]);
		// The payouts' internal fields (run, cutoff, commissions) are not the referrer's business.
		expect(Object.keys(summary.payouts[0] ?? {}).sort()).toEqual(
			["amount", "createdAt", "currency", "id", "paidAt", "reference", "status"].sort(),
		);
		// The referred side of a double-sided reward is the referred user's, not the referrer's.
		expect((await refkit.referrerSummary("bob")).earnings).toEqual([
			{ currency: "USD", pending: 0, held: 0, payable: 500, paid: 0 },
		]);
	});

	test("referred users are named by displayName, or masked by an alias that is stable and keyed", async () => {
		const names: string[] = [];
		const refkit = await refkitWithPrograms(kind);
		await twoReferrers(refkit);
		const displayName = (userId: string) => {
			names.push(userId);
			return userId === "bob" ? "  Bob B.  " : userId === "carol" ? "" : null;
		};
		const summary = await refkit.referrerSummary("alice", { displayName });
		expect(summary.referrals.map((r) => r.name)).toEqual([null, "Bob B."]);
		expect(names.sort()).toEqual(["bob", "carol"]);
		// The same alias on every call, and another for another user.
		const again = await refkit.referrerSummary("alice");
		expect(again.referrals.map((r) => r.alias)).toEqual(summary.referrals.map((r) => r.alias));
		expect(new Set(summary.referrals.map((r) => r.alias)).size).toBe(2);
		// Keyed by the secret: another application's secret gives other aliases.
		const other = await createTestRefkit(kind, {
			programs: [program()],
			secret: "another secret of at least thirty-two characters!",
		});
		await referredSignup(other, "alice", "bob");
		const [bobElsewhere] = (await other.referrerSummary("alice")).referrals;
		expect(bobElsewhere?.alias).not.toBe(summary.referrals[1]?.alias);
	});

	test("a displayName that throws is reported, and the user stays masked", async () => {
		const reported: unknown[] = [];
		const refkit = await refkitWithPrograms(kind, [program()], {
			onError: (error, context) => reported.push([context.operation, (error as Error).message]),
		});
		await referredSignup(refkit, "alice", "bob");
		const summary = await refkit.referrerSummary("alice", {
			displayName: () => {
				throw new Error("users table is down");
			},
		});
		expect(summary.referrals.map((r) => r.name)).toEqual([null]);
		expect(reported).toEqual([["referrer", "users table is down"]]);
	});

	test("the leaderboard ranks referrers by name or alias, never by user id, and marks the referrer", async () => {
		const refkit = await refkitWithPrograms(kind);
		await twoReferrers(refkit);
		await referredSignup(refkit, "dave", "frank");
		await referredSignup(refkit, "dave", "gina");
		const summary = await refkit.referrerSummary("alice", {
			leaderboard: true,
			displayName: (id) => (id === "dave" ? "Dave" : null),
		});
		expect(summary.leaderboard).toEqual([
			{
				rank: 1,
				name: "Dave",
				alias: expect.stringMatching(/^[0-9a-f]{6}$/),
				you: false,
				conversions: 3,
				clicks: 5,
			},
			{
				rank: 2,
				name: null,
				alias: expect.stringMatching(/^[0-9a-f]{6}$/),
				you: true,
				conversions: 1,
				clicks: 5,
			},
		]);
		expect(JSON.stringify(summary.leaderboard)).not.toContain("dave");
	});

	test("one of the referrer's links, and never another's", async () => {
		const refkit = await refkitWithPrograms(kind);
		await twoReferrers(refkit);
		await refkit.createLink({ identifier: "alice_two", userId: "alice" });
		await visit(refkit, "/ref/alice_two");
		await referredSignup(refkit, "alice", "hugo"); // through alice_link

		const all = await refkit.referrerSummary("alice");
		expect(all.links.map((l) => l.identifier)).toEqual(["alice_link", "alice_two"]);
		expect(all.link).toBeNull();
		expect(all.funnel.totals.clicks).toBe(7);

		const two = await refkit.referrerSummary("alice", { link: "alice_two" });
		expect(two.link).toBe("alice_two");
		expect(two.links).toHaveLength(2);
		expect(two.funnel.totals).toEqual({ clicks: 1, conversions: {}, reversed: 0 });

		const first = await refkit.referrerSummary("alice", { link: "alice_link" });
		expect(first.funnel.totals).toEqual({ clicks: 6, conversions: { signup: 2 }, reversed: 1 });

		// Another user's link reads as an unknown one: whether it exists is not alice's to learn.
		const theirs = await expectCode(refkit.referrerSummary("alice", { link: "dave_link" }), "LINK_NOT_FOUND");
		const unknown = await expectCode(
			refkit.referrerSummary("alice", { link: "nobody_link" }),
			"LINK_NOT_FOUND",
		);
		expect(theirs.replace("dave_link", "X")).toBe(unknown.replace("nobody_link", "X"));
	});

	test("each day of the period in its place, and a user without links or programs gets zeros", async () => {
		const refkit = await createTestRefkit(kind);
		await refkit.createLink({ identifier: "solo", userId: "sam" });
		await visit(refkit, "/ref/solo");
		// Seen from two days later: today's click is the first of three days.
		const later = new Date(Date.now() + 2 * DAY);
		const summary = await refkit.referrerSummary("sam", { days: 3, now: later });
		expect(summary.funnel.daily.map((d) => [d.date, d.clicks])).toEqual([
			[today(), 1],
			[new Date(Date.now() + DAY).toISOString().slice(0, 10), 0],
			[later.toISOString().slice(0, 10), 0],
		]);
		expect(summary.links[0]?.url).toBe("/ref/solo");
		expect(summary.links[0]?.program).toBeNull();
		expect(summary).toMatchObject({ earnings: [], upcoming: [], payouts: [], programs: [] });

		const nobody = await refkit.referrerSummary("nobody", { days: 1 });
		expect(nobody.links).toEqual([]);
		expect(nobody.funnel.totals).toEqual({ clicks: 0, conversions: {}, reversed: 0 });
	});

	test("the lists are as long as asked", async () => {
		const refkit = await refkitWithPrograms(kind);
		await twoReferrers(refkit);
		const summary = await refkit.referrerSummary("alice", { referrals: 1, payouts: 0 });
		expect(summary.referrals).toHaveLength(1);
		expect((await refkit.referrerSummary("alice", { referrals: 0 })).referrals).toEqual([]);
	});
});

describe("referrerSummary() refuses what it cannot use", () => {
	const bad: [string, unknown, ReferrerSummaryInput | unknown][] = [
		["no user id", undefined, {}],
		["an empty user id", "", {}],
		["a numeric user id", 42, {}],
		["input that is not an object", "alice", "days"],
		["0 days", "alice", { days: 0 }],
		["367 days", "alice", { days: 367 }],
		["fractional days", "alice", { days: 1.5 }],
		["negative referrals", "alice", { referrals: -1 }],
		["too many payouts", "alice", { payouts: 101 }],
		["a baseUrl with a path", "alice", { baseUrl: "https://example.com/app" }],
		["a baseUrl of another scheme", "alice", { baseUrl: "javascript:alert(1)" }],
		["a baseUrl with credentials", "alice", { baseUrl: "https://user:pw@example.com" }],
		["a baseUrl that is no URL", "alice", { baseUrl: "example.com" }],
		["a displayName that is no function", "alice", { displayName: "Ada" }],
		["a leaderboard that is no boolean", "alice", { leaderboard: "yes" }],
		["an invalid now", "alice", { now: new Date("nope") }],
	];
	test.each(bad)("%s: INVALID_ARGUMENT", async (_, userId, input) => {
		const refkit = await createTestRefkit("sqlite");
		const message = await expectCode(
			refkit.referrerSummary(userId as string, input as ReferrerSummaryInput),
			"INVALID_ARGUMENT",
		);
		expect(message).toMatch(/^refkit: referrerSummary\(\)/);
	});

	test("a malformed link identifier: INVALID_IDENTIFIER", async () => {
		const refkit = await createTestRefkit("sqlite");
		await expectCode(refkit.referrerSummary("alice", { link: "no/such" }), "INVALID_IDENTIFIER");
	});

	test("a baseUrl's trailing slash is an origin all the same", async () => {
		const refkit = await createTestRefkit("sqlite");
		await refkit.createLink({ identifier: "x1", userId: "alice" });
		const summary = await refkit.referrerSummary("alice", { baseUrl: "http://localhost:3000/" });
		expect(summary.links[0]?.url).toBe("http://localhost:3000/ref/x1");
	});
});

describe.each(DATABASES)("referrerSummary()'s edge cases on %s", (kind) => {
	test("goals named like an object's own properties are counted like any other", async () => {
		const refkit = await createTestRefkit(kind);
		await refkit.createLink({ identifier: "ada_link", userId: "ada" });
		for (const [user, goal] of [
			["u1", "constructor"],
			["u2", "__proto__"],
			["u3", "toString"],
		] as const) {
			await refkit.applyCode(user, "ada_link", { signedUpAt: new Date() });
			await refkit.confirm({ userId: user, goal });
		}
		const summary = await refkit.referrerSummary("ada", { days: 1 });
		const expected = JSON.parse('{"__proto__": 1, "constructor": 1, "toString": 1}');
		expect(JSON.parse(JSON.stringify(summary.funnel.totals.conversions))).toEqual(expected);
		expect(JSON.parse(JSON.stringify(summary.funnel.daily[0]?.conversions))).toEqual(expected);
		expect(summary.funnel.goals).toEqual(["__proto__", "constructor", "toString"]);
	});

	test("a user's alias as a referred user is not their alias as a referrer", async () => {
		const refkit = await refkitWithPrograms(kind);
		await referredSignup(refkit, "alice", "bob");
		await referredSignup(refkit, "bob", "carol");
		const summary = await refkit.referrerSummary("alice", { leaderboard: true });
		const asReferred = summary.referrals[0]?.alias;
		const asReferrer = summary.leaderboard?.find((entry) => !entry.you)?.alias;
		expect(asReferred).toMatch(/^[0-9a-f]{6}$/);
		expect(asReferrer).toMatch(/^[0-9a-f]{6}$/);
		expect(asReferrer).not.toBe(asReferred);
	});
});
