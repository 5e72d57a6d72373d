import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import { afterEach, describe, expect, test } from "vitest";
import { createRefkit, isRefkitError, type Refkit } from "../../src/index.js";
import { DATABASES, freshDatabaseUrl, TEST_SECRET } from "../setup/databases.js";
import { visit } from "../setup/direct.js";
import { startApp, USER_HEADER } from "../setup/http.js";
import { type Cluster, startCluster } from "../setup/pg-cluster.js";
import { cookiePair, LoadClient } from "./client.js";
import { LONG, report } from "./sizes.js";

/**
 * The database goes away while visitors follow links: every one of them is still redirected, within 2 s, and
 * every hit of theirs is stored once the database is back, unless the hits' queue was full (each such hit
 * counted in `hitsDropped`); any other lost hit is reported to `onError` once.
 */

/** How long a visitor may wait, whatever the database does (refkit's own deadline is 1.5 s). */
const MAX_LATENCY_MS = 2000;
/** Visitors following links at once, each one request after another (the issue's 50 connections, long). */
const VISITORS = LONG ? 50 : 20;
/** Each visitor's pause between two follows, in milliseconds. */
const THINK_MS = 10;
/** How long each phase lasts, in milliseconds (the issue's 30-second hang, long). */
const PHASE_MS = LONG ? 30_000 : 3000;

type Phase = "before" | "down" | "restarted" | "restarting" | "frozen" | "thawed";
const PHASES: Phase[] = ["before", "down", "restarted", "restarting", "frozen", "thawed"];

interface Sample {
	phase: Phase;
	status: number;
	location: string | null;
	expected: string;
	body: string;
	ms: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function signal(pids: number[], name: "SIGSTOP" | "SIGCONT"): void {
	for (const pid of pids) {
		try {
			process.kill(pid, name);
		} catch {
			// The process has ended.
		}
	}
}

async function query<T>(url: string, text: string): Promise<T[]> {
	const client = new pg.Client({ connectionString: url });
	await client.connect();
	try {
		return (await client.query(text)).rows as T[];
	} finally {
		await client.end();
	}
}

describe.skipIf(!DATABASES.includes("postgres"))("a PostgreSQL outage under traffic", () => {
	let cluster: Cluster | undefined;
	let frozen: number[] = [];
	afterEach(async () => {
		signal(frozen, "SIGCONT");
		await cluster?.destroy();
	});

	test(
		"stopped, restarted, hung and woken again: every visitor is redirected within 2 s, and no hit is lost",
		async () => {
			// A cluster of this test's own, which it may stop: the suite's shared server (in CI the `main`
			// cluster, run by pg_ctlcluster) must stay up. `pg_ctl stop -m immediate` is what
			// `pg_ctlcluster <version> main stop -m immediate` runs, without a Debian cluster to manage.
			cluster = await startCluster();
			await query(cluster.url, "CREATE DATABASE refkit_outage");
			const url = cluster.url.replace(/\/postgres$/, "/refkit_outage");

			const reported: { error: unknown; operation: string }[] = [];
			const refkit: Refkit = createRefkit({
				database: url,
				secret: TEST_SECRET,
				onError: (error, context) => reported.push({ error, operation: context.operation }),
			});
			const memory: number[] = [];
			const sampler = setInterval(() => memory.push(process.memoryUsage().heapUsed), 250);
			await refkit.migrate();
			await refkit.createLink({ identifier: "outage", userId: "referrer" });
			const recorded = new Set<string>();
			refkit.on("hit", (hit) => void recorded.add(hit.id));
			const clients = [
				new LoadClient(await startApp("express", refkit), VISITORS),
				new LoadClient(await startApp("web", refkit), VISITORS),
			];

			let phase: Phase = "before";
			let running = true;
			const samples: Sample[] = [];
			const inFlight = new Map<Phase, number>();
			// Three kinds of visitor: new each time; returning with their cookie; logged in, with the cookie of
			// an anonymous first visit to claim (a claim on every follow).
			const visitor = async (index: number) => {
				const client = clients[index % 2] as LoadClient;
				const kind = index % 3;
				let cookie: string | undefined;
				let sent = 0;
				while (running) {
					const current = phase;
					const expected = `/foo?phase=${current}&visitor=${index}&n=${sent++}`;
					const headers: Record<string, string | undefined> = { cookie };
					if (kind === 2 && cookie !== undefined) headers[USER_HEADER] = `user-${index}`;
					inFlight.set(current, (inFlight.get(current) ?? 0) + 1);
					const started = performance.now();
					const reply = await client.send(`/ref/outage?next=${encodeURIComponent(expected)}`, { headers });
					const ms = performance.now() - started;
					inFlight.set(current, (inFlight.get(current) ?? 0) - 1);
					const { status, location, body } = reply;
					samples.push({ phase: current, status, location, body, expected, ms });
					if (kind !== 0) cookie ??= cookiePair(reply, "refkit_visitor");
					// A steady stream, not a flood: the other test files run beside this one.
					await sleep(THINK_MS);
				}
			};
			const traffic = Promise.all(Array.from({ length: VISITORS }, (_, index) => visitor(index)));
			/** Waits until no follow of phase `p` is under way. */
			const drained = async (p: Phase) => {
				while ((inFlight.get(p) ?? 0) > 0) await sleep(5);
			};

			const server = cluster;
			let errorsBefore = -1;
			try {
				await sleep(PHASE_MS);
				// Every follow before the outage is over, and recorded, when the server stops.
				phase = "down";
				await drained("before");
				errorsBefore = refkit.counters().errors;
				await server.stop();
				await sleep(PHASE_MS);
				await server.start();
				phase = "restarted";
				await sleep(PHASE_MS);
				// An operator's restart, under load: its sessions end, new ones are refused while it restarts.
				phase = "restarting";
				await server.restart();
				await sleep(PHASE_MS);
				// A hung server: it accepts connections but answers nothing.
				phase = "frozen";
				frozen = server.pids();
				signal(frozen, "SIGSTOP");
				await sleep(PHASE_MS);
				signal(frozen, "SIGCONT");
				frozen = [];
				phase = "thawed";
				await sleep(PHASE_MS);
			} finally {
				running = false;
				await traffic;
				for (const client of clients) client.close();
				clearInterval(sampler);
			}

			// Every visitor was redirected where they asked, within 2 s, and saw no error.
			const slowest = new Map<Phase, number>();
			for (const sample of samples)
				slowest.set(sample.phase, Math.max(slowest.get(sample.phase) ?? 0, sample.ms));
			const count = (p: Phase) => samples.filter((sample) => sample.phase === p).length;
			report(
				`outage: ${samples.length} follows by ${VISITORS} visitors; slowest per phase: ${[...slowest]
					.map(([p, ms]) => `${p} ${Math.round(ms)} ms (${count(p)} follows)`)
					.join(", ")}`,
			);
			const wrong = samples.filter(
				(sample) =>
					sample.status !== 302 || sample.location !== sample.expected || sample.ms >= MAX_LATENCY_MS,
			);
			expect(wrong.slice(0, 5)).toEqual([]);
			expect(samples.some((sample) => /error|exception/i.test(sample.body))).toBe(false);
			for (const p of PHASES) expect(count(p), `follows while ${p}`).toBeGreaterThan(0);

			// The failures were told to onError, and counted, and only while the database was away.
			expect(errorsBefore).toBe(0);
			expect(reported.length).toBeGreaterThan(0);
			expect(refkit.counters().errors).toBe(reported.length);
			const operations = new Set(reported.map((r) => r.operation));
			expect([...operations].every((o) => ["follow", "claim", "database"].includes(o))).toBe(true);

			// Every hit is stored once the database is back, whatever it did meanwhile: the hits waited for it
			// in the queue, and the link was known. Only a full queue drops hits, each counted in hitsDropped.
			await expect
				.poll(() => refkit.counters().hitsRecorded, { timeout: 30_000 })
				.toBe(samples.length - refkit.counters().hitsDropped - lostReports());
			function lostReports() {
				return reported.filter((r) => r.operation === "follow" && !isRefkitError(r.error, "QUEUE_FULL"))
					.length;
			}
			const rows = await query<{ id: string; next: string }>(url, "SELECT id, next FROM refkit_hit");
			const phaseOf = (next: string) => /phase=(\w+)/.exec(next)?.[1];
			const stored = (p: Phase) => rows.filter((row) => phaseOf(row.next) === p).length;
			const { hitsDropped } = refkit.counters();
			report(
				`outage: hits stored of follows: ${PHASES.map((p) => `${p} ${stored(p)}/${count(p)}`).join(", ")}; ` +
					`dropped (queue full): ${hitsDropped}; errors reported: ${reported.length} (${[...operations].join(", ")}); ` +
					`heap ${Math.round(Math.min(...memory) / 2 ** 20)}–${Math.round(Math.max(...memory) / 2 ** 20)} MB`,
			);
			// Each follow is stored once, or counted lost once: nothing twice, nothing unaccounted for.
			expect(new Set(rows.map((row) => row.next)).size).toBe(rows.length);
			expect(rows.length).toBe(samples.length - hitsDropped - lostReports());
			expect(lostReports()).toBe(0);
			if (hitsDropped === 0) for (const p of PHASES) expect(stored(p), `hits of ${p}`).toBe(count(p));
			const ids = new Set(rows.map((row) => row.id));
			expect([...recorded].filter((id) => !ids.has(id))).toEqual([]);
			expect(refkit.counters().hitsRecorded).toBe(recorded.size);

			await refkit.close();
		},
		PHASE_MS * 7 + 90_000,
	);
});

describe("a database that never answers, through an application's own Kysely instance", () => {
	test("the visitor is redirected after waiting 1.5 s, and the timeout reported", async () => {
		// A pool whose connections never come: refkit cannot set timeouts on it, so only its deadline helps.
		const never = new Promise<never>(() => {});
		const db = new Kysely({
			dialect: new PostgresDialect({ pool: { connect: () => never, end: async () => {} } }),
		});
		const reported: unknown[] = [];
		const refkit = createRefkit({
			database: db,
			secret: TEST_SECRET,
			onError: (error) => reported.push(error),
		});

		let started = performance.now();
		const followed = await visit(refkit, "/ref/abc123?next=/foo");
		const followMs = performance.now() - started;
		expect(followed.redirect).toEqual({ status: 302, location: "/foo" });

		started = performance.now();
		const passed = await visit(refkit, "/foo?ref=abc123");
		const refParamMs = performance.now() - started;
		expect(passed.redirect).toBeNull();

		for (const ms of [followMs, refParamMs]) {
			expect(ms).toBeGreaterThanOrEqual(1400);
			expect(ms).toBeLessThan(MAX_LATENCY_MS);
		}
		expect(reported).toHaveLength(2);
		expect(reported[0]).toMatchObject({ code: "STORE_TIMEOUT" });
		expect(refkit.counters().errors).toBe(2);
		await refkit.close();
	});
});

describe.skipIf(!DATABASES.includes("postgres"))("a database too slow for the visitor", () => {
	test("the visitor goes on after 1.5 s, and the hit is recorded when the database answers", async () => {
		const url = await freshDatabaseUrl("postgres");
		const reported: unknown[] = [];
		const refkit = createRefkit({
			database: url,
			secret: TEST_SECRET,
			onError: (error) => reported.push(error),
		});
		await refkit.migrate();
		await refkit.createLink({ identifier: "slow", userId: "referrer" });
		const emitted: string[] = [];
		refkit.on("hit", (hit) => void emitted.push(hit.id));

		// Another transaction holds the hits table for 2.5 s: the insert waits for it.
		const locker = new pg.Client({ connectionString: url });
		await locker.connect();
		await locker.query("BEGIN");
		await locker.query("LOCK TABLE refkit_hit IN EXCLUSIVE MODE");
		const started = performance.now();
		const followed = await visit(refkit, "/ref/slow?next=/later");
		const waited = performance.now() - started;
		expect(followed.redirect).toEqual({ status: 302, location: "/later" });
		expect(waited).toBeGreaterThanOrEqual(1400);
		expect(waited).toBeLessThan(MAX_LATENCY_MS);
		// The hit is not lost, only late: nothing to report.
		expect(reported).toEqual([]);
		expect(refkit.counters()).toMatchObject({ hitsRecorded: 0, errors: 0 });

		await sleep(1000);
		await locker.query("COMMIT");
		await locker.end();
		await expect.poll(() => refkit.counters().hitsRecorded).toBe(1);
		const hits = await refkit.listHits();
		expect(hits.map((hit) => hit.next)).toEqual(["/later"]);
		expect(emitted).toEqual(hits.map((hit) => hit.id));
		expect(reported).toEqual([]);
		await refkit.close();
	});
});

describe.skipIf(!DATABASES.includes("postgres"))("a link read slower than the visitor's wait", () => {
	test("a link this process knows is still followed, and its hit stored once the database answers", async () => {
		const url = await freshDatabaseUrl("postgres");
		const reported: unknown[] = [];
		const refkit = createRefkit({
			database: url,
			secret: TEST_SECRET,
			onError: (error) => reported.push(error),
		});
		await refkit.migrate();
		await refkit.createLink({ identifier: "known", userId: "referrer" });
		await refkit.createLink({ identifier: "never_followed", userId: "referrer" });
		// Warm the link cache, then let its answer go stale (it is fresh for 1 s).
		expect((await visit(refkit, "/ref/known?next=/warm")).redirect?.location).toBe("/warm");
		await sleep(1200);

		// Another transaction holds the links table for 4 s: reading a link waits for it.
		const locker = new pg.Client({ connectionString: url });
		await locker.connect();
		await locker.query("BEGIN");
		await locker.query("LOCK TABLE refkit_link IN ACCESS EXCLUSIVE MODE");
		let started = performance.now();
		const followed = await visit(refkit, "/ref/known?next=/during");
		const knownMs = performance.now() - started;
		// A link never read by this process is not taken on trust: after 1.5 s, redirected, not recorded, and
		// that lost hit reported once.
		started = performance.now();
		const unknown = await visit(refkit, "/ref/never_followed?next=/cold");
		const unknownMs = performance.now() - started;
		await sleep(4000 - knownMs - unknownMs);
		await locker.query("COMMIT");
		await locker.end();

		expect(followed.redirect).toEqual({ status: 302, location: "/during" });
		// (The hit's INSERT waits for the lock too, for its foreign key: the visitor stops waiting at 1.5 s.)
		expect(knownMs).toBeLessThan(MAX_LATENCY_MS);
		expect(unknown.redirect).toEqual({ status: 302, location: "/cold" });
		expect(unknownMs).toBeGreaterThanOrEqual(1400);
		await expect.poll(() => refkit.counters().hitsRecorded, { timeout: 5000 }).toBe(2);
		const hits = await refkit.listHits();
		expect(hits.map((hit) => hit.next).sort()).toEqual(["/during", "/warm"]);
		expect(reported).toEqual([expect.objectContaining({ code: "STORE_TIMEOUT" })]);
		await sleep(500); // a late answer to the cold read adds no second report
		expect(reported).toHaveLength(1);
		expect(refkit.counters().errors).toBe(1);
		await refkit.close();
	});
});
