import { describe, expect, test } from "vitest";
import type { RefkitOptions } from "../../src/index.js";
import { adminSession, get, post } from "../setup/dashboard.js";
import { createTestRefkit, DATABASES } from "../setup/databases.js";
import {
	ADAPTERS,
	type AdapterName,
	DASHBOARD_PATH,
	location,
	startApp,
	USER_HEADER,
} from "../setup/http.js";
import { PROGRAMS, refer, seedLedger as seed } from "../setup/ledger.js";

/**
 * The dashboard's ledger pages (programs, commissions, review, payouts) through HTTP, on each database: what
 * they show is what the API says, and what their forms do shows in the API.
 */

const MARKUP = `<script>alert("x")</script>`;

/** The `data-minor` of every amount in a table row whose id is `row-id`. */
function amountsOf(html: string, rowId: string): number[] {
	const row = new RegExp(`<tr id="${rowId}"[^>]*>(.*?)</tr>`, "s").exec(html)?.[1] ?? "";
	return [...row.matchAll(/data-minor="(-?\d+)"/g)].map((m) => Number(m[1]));
}

/** Rows of a commissions table, by id. */
function commissionIds(html: string): string[] {
	return [...html.matchAll(/<tr id="commission-([0-9a-f-]{36})"/g)].map((m) => m[1] as string);
}

describe.each(DATABASES)("the dashboard's ledger pages on %s", (kind) => {
	async function setUp(adapter: AdapterName = "express", options: Partial<RefkitOptions> = PROGRAMS) {
		const refkit = await createTestRefkit(kind, options);
		const base = await startApp(adapter, refkit);
		return { refkit, base };
	}

	test("the programs page shows each program's terms and what the ledger owes per currency", async () => {
		const { refkit, base } = await setUp();
		await seed(refkit);
		const response = await get(base, "/programs");
		expect(response.status).toBe(200);
		expect(response.headers.get("content-security-policy")).toMatch(/default-src 'none'/);
		const html = await response.text();
		expect(html).toContain('<a href="/admin/refkit/programs" aria-current="page">Programs</a>');
		expect(html).toContain(
			'<code>signup</code>: When a referred user reaches the goal <code>signup</code>: <span class="amount" data-minor="500" data-currency="USD" title="500 minor units of USD">5.00 USD</span> to the referrer and <span class="amount" data-minor="300"',
		);
		expect(html).toMatch(
			/<code>sale<\/code>: 20 % of each sale to the referrer, for sales in the first 12 months after the referral, at most <span[^>]*>500\.00 USD<\/span> per referral\./,
		);
		expect(html).toMatch(
			/2\.50 EUR<\/span> for each sale to the referrer, for sales of at least <span[^>]*>5\.00 EUR/,
		);
		expect(html).toMatch(/payable 30 days after they are earned/);
		expect(html).toMatch(/<dt>Minimum payout<\/dt><dd><span[^>]*>10\.00 USD<\/span>/);
		expect(html).toContain("the application&#39;s review hook says so");

		// The liabilities are the sums of balances(), per currency.
		const sums = new Map<string, number[]>();
		for (const b of await refkit.balances()) {
			const [pending = 0, held = 0, approved = 0, paid = 0] = sums.get(b.currency) ?? [];
			sums.set(b.currency, [pending + b.pending, held + b.held, approved + b.approved, paid + b.paid]);
		}
		expect(sums.get("USD")).toEqual([0, 800, 1800, 0]);
		expect(sums.get("EUR")).toEqual([250, 0, 0, 0]);
		for (const [currency, expected] of sums) {
			const row = new RegExp(`<tr><th scope="row">${currency}</th>(.*?)</tr>`, "s").exec(html)?.[1] ?? "";
			const shown = [...row.matchAll(/data-minor="(-?\d+)"/g)].map((m) => Number(m[1]));
			expect(shown, currency).toEqual(expected);
		}
		expect(html).toMatch(/<th scope="row">USD<\/th>.*?18\.00 USD.*?<td class="num">3<\/td><\/tr>/s);
	});

	test("the commissions list filters by beneficiary, status and program, in major units", async () => {
		const { refkit, base } = await setUp();
		const { heldAlice, heldCarol } = await seed(refkit);
		const all = await refkit.listCommissions();
		expect(all).toHaveLength(6);
		const page = await (await get(base, "/commissions")).text();
		expect(commissionIds(page)).toEqual(all.map((c) => c.id));

		const alice = await (await get(base, "/commissions?user=alice")).text();
		const aliceIds = (await refkit.listCommissions({ userId: "alice" })).map((c) => c.id);
		expect(aliceIds).toHaveLength(3);
		expect(commissionIds(alice)).toEqual(aliceIds);
		expect(alice).toContain('<input name="user" value="alice"');

		const held = await (await get(base, "/commissions?status=held")).text();
		expect(commissionIds(held).sort()).toEqual([heldAlice.id, heldCarol.id].sort());
		expect(held).toContain("Signed up from a flagged network");

		const payable = await (await get(base, "/commissions?status=approved&program=main")).text();
		expect(commissionIds(payable)).toHaveLength(3);
		expect(payable).toContain('<span class="tag ok">payable</span>');

		const partners = await (await get(base, "/commissions?program=partners")).text();
		const [eve] = await refkit.listCommissions({ program: "partners" });
		expect(commissionIds(partners)).toEqual([eve?.id]);
		expect(amountsOf(partners, `commission-${eve?.id}`)).toEqual([250]);
		expect(partners).toContain(
			'<span class="amount" data-minor="250" data-currency="EUR" title="250 minor units of EUR">2.50 EUR</span>',
		);
		expect(partners).toMatch(
			/<span class="tag">pending<\/span><\/td><td class="wrap details">payable from \d{4}-/,
		);

		const none = await (await get(base, "/commissions?user=alice&status=voided")).text();
		expect(none).toContain("No commissions match.");
	});

	test("the commissions list pages through fifty rows at a time, and exports every row as CSV", async () => {
		const { refkit, base } = await setUp();
		await seed(refkit);
		for (let i = 0; i < 50; i++)
			await refkit.recordSale({
				externalId: `inv-bob-${i + 2}`,
				userId: "bob",
				amount: 100,
				currency: "USD",
			});
		const first = await (await get(base, "/commissions?user=alice")).text();
		expect(commissionIds(first)).toHaveLength(50);
		expect(first).toContain('href="/admin/refkit/commissions?user=alice&amp;page=2" rel="next"');
		const second = await (await get(base, "/commissions?user=alice&page=2")).text();
		expect(commissionIds(second)).toHaveLength(3);
		expect(second).not.toContain('rel="next"');
		const all = (await refkit.listCommissions({ userId: "alice", limit: 1000 })).map((c) => c.id);
		expect([...commissionIds(first), ...commissionIds(second)]).toEqual(all);

		const csv = await get(base, "/commissions.csv?user=alice&status=approved");
		expect(csv.status).toBe(200);
		expect(csv.headers.get("content-type")).toMatch(/^text\/csv/);
		expect(csv.headers.get("content-disposition")).toMatch(/attachment; filename="refkit-commissions-/);
		const lines = (await csv.text()).trimEnd().split("\r\n");
		expect(lines[0]).toBe(
			"time,user_id,role,program,rule,source_type,source_id,amount_minor,currency,status,payable_at,held_reason,void_reason,clawback_of,payout_id,id",
		);
		expect(lines).toHaveLength(1 + 52);
		expect(lines.filter((line) => line.includes(",alice,referrer,main,sale,sale,"))).toHaveLength(51);
		expect(lines.some((line) => line.includes(",20,USD,approved,"))).toBe(true);
	});

	test("the review queue releases and rejects held commissions; a decision made twice is a friendly 409", async () => {
		const { refkit, base } = await setUp();
		const { heldAlice, heldCarol } = await seed(refkit);
		const queue = await (await get(base, "/review")).text();
		expect(commissionIds(queue).sort()).toEqual([heldAlice.id, heldCarol.id].sort());
		expect(queue).toContain("Signed up from a flagged network");
		expect(queue).toContain(`action="/admin/refkit/commissions/${heldAlice.id}/release"`);
		expect(queue).toContain(`action="/admin/refkit/commissions/${heldCarol.id}/reject"`);
		const session = await adminSession(base);
		const form = (fields: Record<string, string> = {}) => ({
			_csrf: session.token,
			back: "/review",
			...fields,
		});

		const noReason = await post(base, `/commissions/${heldCarol.id}/reject`, form(), session);
		expect(noReason.status).toBe(400);
		expect(await noReason.text()).toContain("Give a reason to reject a commission");
		expect((await refkit.getCommission(heldCarol.id))?.status).toBe("held");

		const released = await post(base, `/commissions/${heldAlice.id}/release`, form(), session);
		expect(released.status).toBe(303);
		expect(location(released)).toBe(`${DASHBOARD_PATH}/review?done=released`);
		// Its holding period (0 days) is over: released, it is payable at once.
		expect((await refkit.getCommission(heldAlice.id))?.status).toBe("approved");
		expect((await refkit.balances("alice"))[0]).toMatchObject({ held: 0, approved: 2000 });

		const rejected = await post(
			base,
			`/commissions/${heldCarol.id}/reject`,
			form({ reason: "same household" }),
			session,
		);
		expect(location(rejected)).toBe(`${DASHBOARD_PATH}/review?done=rejected`);
		expect(await refkit.getCommission(heldCarol.id)).toMatchObject({
			status: "voided",
			voidReason: "rejected: same household",
		});

		const after = await (await get(base, "/review?done=rejected")).text();
		expect(after).toContain("The commission was rejected");
		expect(after).toContain("No commission is waiting for review.");

		// Released already (by another admin, or a second click): told so, nothing changed.
		const again = await post(base, `/commissions/${heldAlice.id}/release`, form(), session);
		expect(again.status).toBe(409);
		const page = await again.text();
		expect(page).toContain("That commission is payable (released) now, no longer held");
		expect(page).toContain("<h1>Review</h1>");
		const rejectPaid = await post(
			base,
			`/commissions/${heldCarol.id}/reject`,
			form({ reason: "twice" }),
			session,
		);
		expect(rejectPaid.status).toBe(409);
		expect(await rejectPaid.text()).toContain("That commission is voided now");
		expect((await refkit.getCommission(heldCarol.id))?.voidReason).toBe("rejected: same household");
	});

	test("a payout run for a cutoff, its CSV, and marking payouts paid or failed change the ledger", async () => {
		const { refkit, base } = await setUp();
		await seed(refkit);
		const session = await adminSession(base);
		const form = (fields: Record<string, string> = {}) => ({ _csrf: session.token, ...fields });

		// Before today began nothing was payable: that run makes no payouts.
		const yesterday = new Date(Date.now() - 24 * 60 * 60 * 1000).toISOString().slice(0, 10);
		const early = await post(base, "/payouts", form({ cutoff: yesterday }), session);
		expect(early.status).toBe(303);
		expect(location(early)).toMatch(/\/payouts\?run=[0-9a-f-]{36}&done=run&made=0&carried=0$/);
		expect(await refkit.listPayouts()).toEqual([]);
		// A run that made nothing has no CSV to offer.
		const empty = await (await get(base, (location(early) ?? "").slice(DASHBOARD_PATH.length))).text();
		expect(empty).toContain("The payout run made no payouts.");
		expect(empty).not.toContain("Download the run as CSV");

		// Now: Alice's 15.00 USD reaches the 10.00 minimum, Bob's 3.00 does not; held ones wait.
		const run = await post(base, "/payouts", form({ cutoff: "" }), session);
		const runUrl = location(run) ?? "";
		const runId = /run=([0-9a-f-]{36})/.exec(runUrl)?.[1] ?? "";
		expect(runUrl).toBe(`${DASHBOARD_PATH}/payouts?run=${runId}&done=run&made=1&carried=1`);
		const [payout, ...others] = await refkit.listPayouts({ runId });
		expect(others).toEqual([]);
		expect(payout).toMatchObject({ userId: "alice", currency: "USD", amount: 1500, status: "created" });
		if (payout === undefined) throw new Error("no payout");
		const listed = await (await get(base, runUrl.slice(DASHBOARD_PATH.length))).text();
		expect(listed).toContain("The payout run made 1 payout; 1 balance was below the minimum or negative");
		expect(amountsOf(listed, `payout-${payout.id}`)).toEqual([1500]);
		expect(listed).toContain(`href="/admin/refkit/payouts/${runId}.csv"`);

		// The run's CSV and the payout's: the same row.
		for (const id of [runId, payout.id]) {
			const csv = await get(base, `/payouts/${id}.csv`);
			expect(csv.status).toBe(200);
			expect(csv.headers.get("content-disposition")).toMatch(
				new RegExp(`attachment; filename="refkit-payouts-${id.slice(0, 8)}-`),
			);
			const lines = (await csv.text()).trimEnd().split("\r\n");
			expect(lines[0]).toBe(
				"payout_id,user_id,currency,amount_minor,amount,commissions,status,reference,cutoff,created_at,paid_at,failure_reason,run_id",
			);
			expect(lines).toHaveLength(2);
			expect(lines[1]).toMatch(new RegExp(`^${payout.id},alice,USD,1500,15\\.00,2,created,,`));
		}

		// The payout's page: its commissions, and its forms.
		const detail = await (await get(base, `/payouts/${payout.id}`)).text();
		const claimed = await refkit.listCommissions({ payoutId: payout.id });
		expect(commissionIds(detail).sort()).toEqual(claimed.map((c) => c.id).sort());
		expect(detail).toContain(`action="/admin/refkit/payouts/${payout.id}/paid"`);

		const noReference = await post(base, `/payouts/${payout.id}/paid`, form(), session);
		expect(noReference.status).toBe(400);
		expect(await noReference.text()).toContain("Give the reference");
		expect((await refkit.getPayout(payout.id))?.status).toBe("created");

		const paid = await post(
			base,
			`/payouts/${payout.id}/paid`,
			form({ reference: "SEPA-2026-0001", back: `/payouts?run=${runId}` }),
			session,
		);
		expect(location(paid)).toBe(`${DASHBOARD_PATH}/payouts?run=${runId}&done=paid`);
		expect(await refkit.getPayout(payout.id)).toMatchObject({ status: "paid", reference: "SEPA-2026-0001" });
		expect((await refkit.balances("alice"))[0]).toMatchObject({ approved: 0, paid: 1500, held: 500 });
		for (const c of await refkit.listCommissions({ payoutId: payout.id })) expect(c.status).toBe("paid");

		const twice = await post(base, `/payouts/${payout.id}/paid`, form({ reference: "again" }), session);
		expect(location(twice)).toBe(`${DASHBOARD_PATH}/payouts/${payout.id}?done=already-paid`);
		expect((await refkit.getPayout(payout.id))?.reference).toBe("SEPA-2026-0001");
		const failPaid = await post(base, `/payouts/${payout.id}/failed`, form({ reason: "bounced" }), session);
		expect(failPaid.status).toBe(409);
		expect(await failPaid.text()).toContain("This payout is paid: it cannot be marked failed now.");
		expect((await refkit.getPayout(payout.id))?.status).toBe("paid");

		// A second sale, a second run, and that payout fails: its commission is payable again.
		await refkit.recordSale({ externalId: "inv-bob-2", userId: "bob", amount: 5000, currency: "USD" });
		const second = location(await post(base, "/payouts", form(), session)) ?? "";
		const [next] = await refkit.listPayouts({ runId: /run=([0-9a-f-]{36})/.exec(second)?.[1] ?? "" });
		expect(next).toMatchObject({ userId: "alice", amount: 1000 });
		const noReason = await post(base, `/payouts/${next?.id}/failed`, form(), session);
		expect(noReason.status).toBe(400);
		const failed = await post(
			base,
			`/payouts/${next?.id}/failed`,
			form({ reason: "account closed" }),
			session,
		);
		expect(location(failed)).toBe(`${DASHBOARD_PATH}/payouts/${next?.id}?done=failed`);
		expect(await refkit.getPayout(next?.id ?? "")).toMatchObject({
			status: "failed",
			failureReason: "account closed",
		});
		expect((await refkit.balances("alice"))[0]).toMatchObject({ approved: 1000, paid: 1500 });
		const failedPage = await (await get(base, `/payouts/${next?.id}?done=failed`)).text();
		expect(failedPage).toContain("Its commissions were released when it failed");
		expect(failedPage).toContain("The payout was marked failed");

		// Filters: by status and by run.
		const paidOnly = await (await get(base, "/payouts?status=paid")).text();
		expect(paidOnly).toContain(`payout-${payout.id}`);
		expect(paidOnly).not.toContain(`payout-${next?.id}`);
		const byRun = await (await get(base, `/payouts?run=${runId}`)).text();
		expect(byRun).toContain(`payout-${payout.id}`);
		expect(byRun).not.toContain(`payout-${next?.id}`);
		const byUser = await (await get(base, "/payouts?user=bob")).text();
		expect(byUser).toContain("No payouts match.");
	});

	test("a clawback after payout shows as a negative amount", async () => {
		const { refkit, base } = await setUp();
		await seed(refkit);
		const run = await refkit.createPayouts();
		const [payout] = await refkit.listPayouts({ runId: run.runId });
		await refkit.markPayoutPaid(payout?.id ?? "", { reference: "wire-1" });
		const refund = await refkit.refundSale({ externalId: "inv-bob-1", refundId: "re-1", reason: "refund" });
		if (refund.status !== "refunded") throw new Error(refund.status);
		const [clawback] = refund.clawbacks;
		expect(clawback).toMatchObject({ userId: "alice", amount: -1000 });
		const html = await (await get(base, "/commissions?user=alice")).text();
		expect(amountsOf(html, `commission-${clawback?.id}`)).toEqual([-1000]);
		expect(html).toContain(
			'<span class="amount negative" data-minor="-1000" data-currency="USD" title="-1000 minor units of USD">-10.00 USD</span>',
		);
		expect(html).toMatch(
			new RegExp(
				`<tr id="commission-${clawback?.id}".*?<span class="tag off">clawback</span> takes back part of`,
				"s",
			),
		);
		const programs = await (await get(base, "/programs")).text();
		expect(programs).toMatch(
			/of which <span class="amount negative" data-minor="-1000"[^>]*>-10\.00 USD<\/span> owed back by 1 beneficiary/,
		);
	});

	test("every form needs the CSRF token, and nobody but an admin sees the pages", async () => {
		const { refkit, base } = await setUp();
		const { heldAlice, heldCarol } = await seed(refkit);
		const run = await refkit.createPayouts();
		const [payout] = await refkit.listPayouts({ runId: run.runId });
		const session = await adminSession(base);
		const forms: [string, Record<string, string>][] = [
			[`/commissions/${heldAlice.id}/release`, {}],
			[`/commissions/${heldCarol.id}/reject`, { reason: "forged" }],
			["/payouts", { cutoff: "" }],
			[`/payouts/${payout?.id}/paid`, { reference: "forged" }],
			[`/payouts/${payout?.id}/failed`, { reason: "forged" }],
		];
		for (const [path, fields] of forms) {
			const noToken = await post(base, path, fields, session);
			expect(noToken.status, path).toBe(403);
			const forged = await post(base, path, { ...fields, _csrf: "x".repeat(43) }, session);
			expect(forged.status, path).toBe(403);
			const noCookie = await post(base, path, { ...fields, _csrf: session.token });
			expect(noCookie.status, path).toBe(403);
			const crossSite = await post(
				base,
				path,
				{ ...fields, _csrf: session.token },
				{ cookie: session.cookie, headers: { origin: "https://evil.example" } },
			);
			expect(crossSite.status, path).toBe(403);
			const notAdmin = await post(
				base,
				path,
				{ ...fields, _csrf: session.token },
				{ cookie: session.cookie, headers: { [USER_HEADER]: "alice" } },
			);
			expect(notAdmin.status, path).toBe(403);
		}
		expect((await refkit.getCommission(heldAlice.id))?.status).toBe("held");
		expect((await refkit.getCommission(heldCarol.id))?.status).toBe("held");
		expect(await refkit.listPayouts()).toHaveLength(1);
		expect((await refkit.getPayout(payout?.id ?? ""))?.status).toBe("created");

		for (const path of ["/programs", "/commissions", "/commissions.csv", "/review", "/payouts"]) {
			for (const user of [null, "alice"]) {
				const response = await get(base, path, user);
				expect(response.status, `${path} as ${user}`).toBe(403);
				expect(await response.text()).not.toMatch(/alice|USD/);
			}
		}
		const csv = await get(base, `/payouts/${run.runId}.csv`, "alice");
		expect(csv.status).toBe(403);
	});

	test("bad input answers 400 or 404, never 500", async () => {
		const { refkit, base } = await setUp();
		await seed(refkit);
		const unknown = "00000000-0000-4000-8000-000000000000";
		const cases: [string, number][] = [
			["/commissions?status=lost", 400],
			["/commissions?program=no%20such", 400],
			["/commissions?page=0", 400],
			["/commissions.csv?status=lost", 400],
			["/review?page=abc", 400],
			["/payouts?status=sent", 400],
			["/payouts?run=nope", 400],
			["/payouts?page=-1", 400],
			["/payouts/nope", 404],
			[`/payouts/${unknown}`, 404],
			["/payouts/nope.csv", 404],
			[`/payouts/${unknown}.csv`, 404],
			["/payouts/%E0%A4%A", 404],
		];
		for (const [path, status] of cases) {
			const response = await get(base, path);
			expect(response.status, path).toBe(status);
			expect(response.headers.get("content-type"), path).toMatch(/text\/html/);
		}
		const session = await adminSession(base);
		const form = (fields: Record<string, string> = {}) => ({ _csrf: session.token, ...fields });
		const posts: [string, Record<string, string>, number][] = [
			[`/commissions/${unknown}/release`, {}, 404],
			["/commissions/nope/release", {}, 404],
			[`/commissions/${unknown}/reject`, { reason: "x" }, 404],
			[`/payouts/${unknown}/paid`, { reference: "x" }, 404],
			["/payouts/nope/failed", { reason: "x" }, 404],
			["/payouts", { cutoff: "yesterday" }, 400],
			["/payouts", { cutoff: "2026-13-45" }, 400],
			["/payouts", { cutoff: "2026-02-30" }, 400],
			["/payouts", { cutoff: "9999-01-01" }, 400],
			["/payouts/run", {}, 404],
		];
		for (const [path, fields, status] of posts) {
			const response = await post(base, path, form(fields), session);
			expect(response.status, `${path} ${JSON.stringify(fields)}`).toBe(status);
		}
		const future = await post(base, "/payouts", form({ cutoff: "9999-01-01" }), session);
		const html = await future.text();
		expect(html).toContain("The cutoff 9999-01-01 is in the future");
		// The form keeps what was typed.
		expect(html).toContain('name="cutoff" value="9999-01-01"');
		expect(await refkit.listPayouts()).toEqual([]);
	});

	test("markup in user ids, held reasons and references shows as text", async () => {
		const { refkit, base } = await setUp("express", {
			...PROGRAMS,
			review: { hook: () => ({ hold: `<img src=x onerror=alert(1)>` }) },
		});
		await refkit.createLink({ identifier: "xss", userId: MARKUP });
		await refer(refkit, "<b onmouseover=alert(2)>", "xss");
		await refkit.releaseCommission((await refkit.listCommissions({ userId: MARKUP }))[0]?.id ?? "");
		const run = await refkit.createPayouts();
		const [payout] = await refkit.listPayouts({ runId: run.runId });
		expect(payout).toBeUndefined(); // 5.00 is below the 10.00 minimum
		for (const path of [
			"/programs",
			"/commissions",
			"/review",
			"/payouts",
			`/payouts?user=${encodeURIComponent(MARKUP)}`,
		]) {
			const body = await (await get(base, path)).text();
			expect(body, path).not.toMatch(/<script>alert|<img src=x|<b onmouseover/);
		}
		expect(await (await get(base, "/review")).text()).toContain("&lt;img src=x onerror=alert(1)&gt;");
		expect(await (await get(base, "/commissions")).text()).toContain(
			"&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;",
		);
	});

	test("without programs the navigation leaves the ledger out, and its pages still answer", async () => {
		const { base } = await setUp("express", {});
		const overview = await (await get(base, "/")).text();
		expect(overview).not.toContain("/admin/refkit/programs");
		const programs = await get(base, "/programs");
		expect(programs.status).toBe(200);
		const html = await programs.text();
		expect(html).toContain("This application declares no referral programs");
		expect(html).toContain("The ledger is empty");
		for (const path of ["/commissions", "/review", "/payouts"])
			expect((await get(base, path)).status).toBe(200);
	});
});

describe.each(ADAPTERS)("the ledger's forms and CSV through %s", (adapter) => {
	test("release a commission, make a run, download it", async () => {
		const refkit = await createTestRefkit(DATABASES[0] ?? "sqlite", PROGRAMS);
		const base = await startApp(adapter, refkit);
		const { heldAlice } = await seed(refkit);
		const session = await adminSession(base);
		const released = await post(
			base,
			`/commissions/${heldAlice.id}/release`,
			{ _csrf: session.token },
			session,
		);
		expect(location(released)).toBe(`${DASHBOARD_PATH}/review?done=released`);
		const run = location(await post(base, "/payouts", { _csrf: session.token, cutoff: "" }, session)) ?? "";
		const runId = /run=([0-9a-f-]{36})/.exec(run)?.[1] ?? "";
		const csv = await (await get(base, `/payouts/${runId}.csv`)).text();
		expect(csv).toMatch(/\r\n[0-9a-f-]{36},alice,USD,2000,20\.00,3,created,/);
	});
});
