/**
 * `npm run bench:referrer`: how fast `refkit.referrerSummary(userId)` answers for a referrer with 100,000 hits
 * and 10,000 commissions (issue #23's target: at most 20 ms), on SQLite and PostgreSQL, on the built package.
 * See bench/README.md.
 *
 * Each database is seeded in bulk by SQL (bench/referrer-seed.ts): the referrer `star` among 1,000 others.
 * The cases: the default call (30 days), with `leaderboard: true`, with `days: 365`, and the default call
 * after a write forgot the day under way's summaries (as claims do all day). The first call of each case is
 * timed alone (it makes the day summaries it reads); then rounds of calls run every case and its baseline in
 * turn, every other round in reverse order, so that both see the same machine.
 * The baseline is the same page read directly from the referrer's rows, by queries as a hand-written page
 * would run them through the driver (hits of their links grouped by day, conversions by day and goal,
 * commissions summed by status and currency, ...): what the summary would cost without refkit's day summaries
 * and balance table. One round trip (`select 1`) is timed too, as a floor.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { createRefkit, type ReferrerSummary, type ReferrerSummaryInput, type Refkit } from "../dist/index.js";
import { type Cluster, startCluster } from "../test/setup/pg-cluster.js";
import { BENCH_PROGRAM, type Db } from "./programs-seed.js";
import { PAYOUT_RUNS_DAYS_AGO, type SeedSizes, STAR, seedReferrers } from "./referrer-seed.js";
import { writeResults } from "./results.js";

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const SIZES: SeedSizes = {
	hits: env("REFKIT_BENCH_REFERRER_HITS", 100_000),
	conversions: env("REFKIT_BENCH_REFERRER_CONVERSIONS", 10_000),
	referrers: env("REFKIT_BENCH_REFERRERS", 1_000),
	otherHits: env("REFKIT_BENCH_OTHER_HITS", 200_000),
	otherConversions: env("REFKIT_BENCH_OTHER_CONVERSIONS", 10_000),
};
/** Measured rounds (after one to warm up), and calls of each case per round. */
const ROUNDS = env("REFKIT_BENCH_ROUNDS", 10);
const BATCH = env("REFKIT_BENCH_BATCH", 20);
const DATABASES = (process.env.REFKIT_BENCH_DATABASES ?? "sqlite,postgres").split(",") as Db[];
const TARGET_MS = 20;
const SECRET = "bench-secret-0123456789abcdef0123456789abcdef";
const DAY = 86_400_000;

interface Case {
	id: string;
	title: string;
	input: ReferrerSummaryInput;
	days: number;
	leaderboard: boolean;
	/**
	 * Each call follows a write that forgot the day under way's summaries (a claim of one of its hits, a late
	 * hit, an erasure, as a busy site sees all day), untimed: the call summarises the day again.
	 */
	forgetToday?: boolean;
}

const CASES: Case[] = [
	{ id: "default", title: "`referrerSummary(userId)` (30 days)", input: {}, days: 30, leaderboard: false },
	{
		id: "leaderboard",
		title: "`referrerSummary(userId, { leaderboard: true })`",
		input: { leaderboard: true },
		days: 30,
		leaderboard: true,
	},
	{
		id: "today",
		title: "`referrerSummary(userId)` after a write forgot the day under way's summaries",
		input: {},
		days: 30,
		leaderboard: false,
		forgetToday: true,
	},
	{
		id: "year",
		title: "`referrerSummary(userId, { days: 365 })`",
		input: { days: 365 },
		days: 365,
		leaderboard: false,
	},
];

/** What the page shows, as numbers both refkit's answer and the direct reads give, to check they agree. */
interface Numbers {
	clicks: number[];
	conversions: Record<string, number>;
	reversed: number;
	earnings: { currency: string; pending: number; held: number; payable: number; paid: number }[];
	upcoming: number;
	payouts: string[];
	referrals: number;
	leaderboard: [number, number][] | null;
}

function numbersOf(summary: ReferrerSummary): Numbers {
	return {
		clicks: summary.funnel.daily.map((day) => day.clicks),
		conversions: summary.funnel.totals.conversions,
		reversed: summary.funnel.totals.reversed,
		earnings: summary.earnings,
		upcoming: summary.upcoming.reduce((sum, day) => sum + day.amount, 0),
		payouts: summary.payouts.map((payout) => payout.id),
		referrals: summary.referrals.length,
		leaderboard: summary.leaderboard?.map((entry) => [entry.conversions, entry.clicks]) ?? null,
	};
}

/** Queries through a connection of the benchmark's own: `$1`... parameters, all rows back. */
interface Direct {
	query(text: string, params: unknown[]): Promise<Record<string, unknown>[]>;
	/** A write, through a connection that may write. */
	write(text: string, params: unknown[]): Promise<void>;
	/** Several queries: at once on PostgreSQL (a pool, as refkit runs its own), one after another on SQLite. */
	all(queries: [string, unknown[]][]): Promise<Record<string, unknown>[][]>;
	close(): Promise<void>;
}

function directSqlite(file: string): Direct {
	const db = new Database(file, { readonly: true });
	const writer = new Database(file);
	const statements = new Map<string, Database.Statement>();
	const named = (params: unknown[]) => Object.fromEntries(params.map((value, i) => [`p${i + 1}`, value]));
	const query = async (text: string, params: unknown[]) => {
		let statement = statements.get(text);
		if (statement === undefined) {
			statement = db.prepare(text.replace(/\$(\d+)/g, "@p$1"));
			statements.set(text, statement);
		}
		return statement.all(named(params)) as Record<string, unknown>[];
	};
	return {
		query,
		all: async (queries) => {
			const results: Record<string, unknown>[][] = [];
			for (const [text, params] of queries) results.push(await query(text, params));
			return results;
		},
		write: async (text, params) => {
			writer.prepare(text.replace(/\$(\d+)/g, "@p$1")).run(named(params));
		},
		close: async () => {
			db.close();
			writer.close();
		},
	};
}

function directPostgres(url: string): Direct {
	const pool = new pg.Pool({ connectionString: url, max: 10 });
	pool.on("error", onError);
	const query = async (text: string, params: unknown[]) => (await pool.query(text, params)).rows;
	return {
		query,
		all: (queries) => Promise.all(queries.map(([text, params]) => query(text, params))),
		write: async (text, params) => {
			await pool.query(text, params);
		},
		close: () => pool.end(),
	};
}

/**
 * The page's numbers read directly from the referrer's rows: their links, their links' hits grouped by UTC
 * day, their conversions by day and goal, their commissions summed by status and currency (a pending one past
 * its hold counts as payable), pending ones by payable day, the recent payouts and referrals; and for the
 * leaderboard, every referrer's conversions and their links' hits over the period.
 */
async function directSummary(direct: Direct, db: Db, c: Case): Promise<Numbers> {
	const now = new Date();
	const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
	const from = new Date(today - (c.days - 1) * DAY).toISOString();
	const to = now.toISOString();
	const day = (column: string) =>
		db === "sqlite" ? `substr(${column}, 1, 10)` : `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD')`;
	const links = await direct.query(
		"select id from refkit_link where user_id = $1 order by id desc limit 100",
		[STAR],
	);
	const ids = links.map((link) => Number(link.id)).join(", ") || "null";
	const queries: [string, unknown[]][] = [
		[
			`select ${day("created_at")} as day, count(*) as n from refkit_hit
			 where link_id in (${ids}) and created_at >= $1 and created_at <= $2 group by 1`,
			[from, to],
		],
		[
			`select ${day("created_at")} as day, goal, count(*) as n, count(reversed_at) as reversed from refkit_conversion
			 where referrer_user_id = $1 and created_at >= $2 and created_at <= $3 group by 1, 2`,
			[STAR, from, to],
		],
		[
			`select currency,
			        sum(case when status = 'pending' and payable_at > $2 then amount else 0 end) as pending,
			        sum(case when status = 'held' then amount else 0 end) as held,
			        sum(case when status = 'approved' or (status = 'pending' and payable_at <= $2) then amount else 0 end) as payable,
			        sum(case when status = 'paid' then amount else 0 end) as paid
			 from refkit_commission where beneficiary_user_id = $1 and status <> 'voided' group by currency`,
			[STAR, to],
		],
		[
			`select ${day("payable_at")} as day, currency, sum(amount) as amount from refkit_commission
			 where beneficiary_user_id = $1 and status = 'pending' and payable_at > $2 group by 1, 2`,
			[STAR, to],
		],
		[
			"select * from refkit_payout where beneficiary_user_id = $1 order by created_at desc, id desc limit 20",
			[STAR],
		],
		[
			"select * from refkit_conversion where referrer_user_id = $1 order by created_at desc, id desc limit 20",
			[STAR],
		],
	];
	if (c.leaderboard) {
		queries.push(
			[
				`select referrer_user_id as u, count(*) as n from refkit_conversion
				 where created_at >= $1 and created_at <= $2 and referrer_user_id is not null and reversed_at is null group by 1`,
				[from, to],
			],
			[
				`select l.user_id as u, count(*) as n from refkit_hit h join refkit_link l on l.id = h.link_id
				 where h.created_at >= $1 and h.created_at <= $2 and l.user_id is not null group by 1`,
				[from, to],
			],
		);
	}
	const [clicks, conversions, earnings, upcoming, payouts, referrals, converted, followed] =
		await direct.all(queries);
	const clicksByDay = new Map((clicks ?? []).map((row) => [String(row.day), Number(row.n)]));
	const totals: Record<string, number> = {};
	let reversed = 0;
	for (const row of conversions ?? []) {
		const active = Number(row.n) - Number(row.reversed);
		reversed += Number(row.reversed);
		if (active > 0) totals[String(row.goal)] = (totals[String(row.goal)] ?? 0) + active;
	}
	let leaderboard: [number, number][] | null = null;
	if (c.leaderboard) {
		const board = new Map<string, [number, number]>();
		for (const row of converted ?? []) board.set(String(row.u), [Number(row.n), 0]);
		for (const row of followed ?? []) {
			const entry = board.get(String(row.u)) ?? [0, 0];
			entry[1] = Number(row.n);
			board.set(String(row.u), entry);
		}
		leaderboard = [...board.entries()]
			.sort(([a, x], [b, y]) => y[0] - x[0] || y[1] - x[1] || (a < b ? -1 : 1))
			.slice(0, 10)
			.map(([, entry]) => entry);
	}
	return {
		clicks: Array.from({ length: c.days }, (_, i) =>
			Number(clicksByDay.get(new Date(Date.parse(from) + i * DAY).toISOString().slice(0, 10)) ?? 0),
		),
		conversions: Object.fromEntries(Object.entries(totals).sort(([a], [b]) => (a < b ? -1 : 1))),
		reversed,
		earnings: (earnings ?? []).map((row) => ({
			currency: String(row.currency),
			pending: Number(row.pending),
			held: Number(row.held),
			payable: Number(row.payable),
			paid: Number(row.paid),
		})),
		upcoming: (upcoming ?? []).reduce((sum, row) => sum + Number(row.amount), 0),
		payouts: (payouts ?? []).map((row) => String(row.id)),
		referrals: (referrals ?? []).length,
		leaderboard,
	};
}

/** The 50th and 95th percentiles and the largest of `times`, in milliseconds. */
function percentiles(times: number[]): { p50: number; p95: number; max: number } {
	const sorted = [...times].sort((a, b) => a - b);
	const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] as number;
	return { p50: at(0.5), p95: at(0.95), max: sorted.at(-1) as number };
}

async function timed(work: () => Promise<unknown>): Promise<number> {
	const start = performance.now();
	await work();
	return performance.now() - start;
}

interface Row {
	db: Db;
	c: Case;
	first: number;
	measured: { p50: number; p95: number; max: number };
	baseline: { p50: number; p95: number; max: number };
	roundTrip: number;
}

/** Reports what refkit absorbed, except the end of its connections when the benchmark drops its database. */
function onError(error: unknown): void {
	if ((error as { code?: unknown }).code !== "57P01") console.error(error);
}

async function measure(db: Db, database: string): Promise<Row[]> {
	const refkit: Refkit = createRefkit({ database, secret: SECRET, programs: [BENCH_PROGRAM], onError });
	const direct = db === "sqlite" ? directSqlite(database) : directPostgres(database);
	try {
		await refkit.balances("nobody"); // the connection is open, the programs read
		const first = new Map<string, number>();
		const forgetToday = () =>
			direct.write("delete from refkit_stats_day where day = $1", [new Date().toISOString().slice(0, 10)]);
		for (const c of CASES) {
			if (c.forgetToday) await forgetToday();
			const start = performance.now();
			const summary = await refkit.referrerSummary(STAR, c.input);
			first.set(c.id, performance.now() - start);
			// Both ways of reading give the same page (the day summaries and the balance table are right).
			const [again, read] = [
				numbersOf(await refkit.referrerSummary(STAR, c.input)),
				await directSummary(direct, db, c),
			];
			if (JSON.stringify(again) !== JSON.stringify(read)) {
				throw new Error(
					`${db}, ${c.id}: refkit's page and the direct reads disagree:\n${JSON.stringify(again)}\n${JSON.stringify(read)}`,
				);
			}
			if (c.id === "default") {
				const t = summary.funnel.totals;
				const e = summary.earnings[0];
				console.log(
					`  ${STAR}: ${t.clicks.toLocaleString("en")} clicks in 30 days, conversions ${JSON.stringify(t.conversions)} (${t.reversed} reversed); ` +
						`earnings pending ${e?.pending}, held ${e?.held}, payable ${e?.payable}, paid ${e?.paid}; ` +
						`${summary.upcoming.length} days of upcoming earnings, ${summary.payouts.length} payouts`,
				);
			}
		}
		const samples = new Map<string, number[]>();
		/** What each series times, and what runs untimed before each call. */
		const work: [string, () => Promise<unknown>, (() => Promise<void>)?][] = [
			...CASES.flatMap((c): [string, () => Promise<unknown>, (() => Promise<void>)?][] => [
				[
					`refkit ${c.id}`,
					() => refkit.referrerSummary(STAR, c.input),
					c.forgetToday ? forgetToday : undefined,
				],
				[`direct ${c.id}`, () => directSummary(direct, db, c)],
			]),
			["round trip", () => direct.query("select 1 as one", [])],
		];
		for (let round = 0; round <= ROUNDS; round++) {
			for (const [name, run, before] of round % 2 ? [...work].reverse() : work) {
				const times = samples.get(name) ?? [];
				for (let i = 0; i < BATCH; i++) {
					await before?.();
					const ms = await timed(run);
					if (round > 0) times.push(ms); // round 0 warms up
				}
				samples.set(name, times);
			}
		}
		const roundTrip = percentiles(samples.get("round trip") ?? []).p50;
		const rows = CASES.map((c) => ({
			db,
			c,
			first: first.get(c.id) as number,
			measured: percentiles(samples.get(`refkit ${c.id}`) ?? []),
			baseline: percentiles(samples.get(`direct ${c.id}`) ?? []),
			roundTrip,
		}));
		console.log(`${table(rows)}\n`);
		return rows;
	} finally {
		await direct.close();
		await refkit.close();
	}
}

const ms = (value: number) => (value < 10 ? value.toFixed(2) : value.toFixed(1));

function table(rows: Row[]): string {
	return [
		`| database | case | first call | p50 | p95 | max | direct reads p50 (p95) | ratio | round trip | ≤ ${TARGET_MS} ms |`,
		"|---|---|--:|--:|--:|--:|--:|--:|--:|---|",
		...rows.map(
			(r) =>
				`| ${r.db === "sqlite" ? "SQLite" : "PostgreSQL"} | ${r.c.title} | ${ms(r.first)} | ${ms(r.measured.p50)} | ${ms(r.measured.p95)} | ${ms(r.measured.max)} | ${ms(r.baseline.p50)} (${ms(r.baseline.p95)}) | ${(r.baseline.p50 / r.measured.p50).toFixed(1)}× | ${r.roundTrip < 0.1 ? r.roundTrip.toFixed(3) : ms(r.roundTrip)} | ${r.measured.p50 <= TARGET_MS ? (r.measured.p95 <= TARGET_MS ? "yes" : "yes (p50; not p95)") : "**no**"} |`,
		),
	].join("\n");
}

async function seeded<T>(label: string, work: () => Promise<T>): Promise<T> {
	const start = performance.now();
	const result = await work();
	console.log(`  ${label} in ${((performance.now() - start) / 1000).toFixed(1)} s`);
	return result;
}

async function prepare(db: Db, database: string): Promise<void> {
	const migrated = createRefkit({ database, secret: SECRET, programs: [BENCH_PROGRAM], onError });
	await migrated.migrate();
	await migrated.close();
	const counts = await seeded("seeded", () => seedReferrers(db, database, SIZES, Date.now()));
	console.log(
		`  ${Object.entries(counts)
			.map(([table, n]) => `${table} ${n.toLocaleString("en")}`)
			.join(", ")}`,
	);
}

async function main(): Promise<void> {
	const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? "unknown CPU"} (${availableParallelism()} cores), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
	console.log(
		`${machine}; ${STAR}: ${SIZES.hits.toLocaleString("en")} hits, ${SIZES.conversions.toLocaleString("en")} conversions; ` +
			`${SIZES.referrers.toLocaleString("en")} other referrers: ${SIZES.otherHits.toLocaleString("en")} hits, ` +
			`${SIZES.otherConversions.toLocaleString("en")} conversions; ${ROUNDS} rounds of ${BATCH} calls\n`,
	);
	const rows: Row[] = [];
	const versions: string[] = [];
	const dir = mkdtempSync(join(tmpdir(), "refkit-bench-referrer-"));
	let cluster: Cluster | undefined;
	try {
		if (DATABASES.includes("sqlite")) {
			const file = join(dir, "referrer.sqlite");
			console.log("SQLite:");
			await prepare("sqlite", file);
			const sqlite = new Database(file, { readonly: true });
			versions.push(`SQLite ${(sqlite.prepare("select sqlite_version() as v").get() as { v: string }).v}`);
			sqlite.close();
			rows.push(...(await measure("sqlite", file)));
		}
		if (DATABASES.includes("postgres")) {
			let base = process.env.REFKIT_BENCH_POSTGRES_URL;
			if (base === undefined) {
				cluster = await startCluster({ durable: true });
				base = cluster.url;
			}
			const name = `refkit_bench_referrer_${process.pid}`;
			const admin = new pg.Client({ connectionString: base });
			await admin.connect();
			try {
				await admin.query(`create database "${name}" template template0`);
				const url = new URL(base);
				url.pathname = `/${name}`;
				console.log("PostgreSQL:");
				await prepare("postgres", url.toString());
				const version = await admin.query<{ server_version: string }>("show server_version");
				versions.push(`PostgreSQL ${version.rows[0]?.server_version.split(" ")[0]}`);
				rows.push(...(await measure("postgres", url.toString())));
			} finally {
				await admin.query(`drop database if exists "${name}" with (force)`);
				await admin.end();
			}
		}
	} finally {
		await cluster?.destroy();
		rmSync(dir, { recursive: true, force: true });
	}
	const text = table(rows);
	console.log(`\n${text}\n`);
	writeResults(
		"referrer",
		[
			"<!-- Written by `npm run bench:referrer`: replaced on each run. -->",
			"",
			`Measured ${new Date().toISOString().slice(0, 10)} on ${machine}, ${versions.join(", ")}; load average ${loadavg()
				.map((n) => n.toFixed(1))
				.join(" ")} at the end. The referrer: ${SIZES.hits.toLocaleString("en")} hits over 90 days, ` +
				`${SIZES.conversions.toLocaleString("en")} conversions and as many commissions (payout runs ${PAYOUT_RUNS_DAYS_AGO.join(", ")} days ago), ` +
				`among ${SIZES.referrers.toLocaleString("en")} referrers with ${SIZES.otherHits.toLocaleString("en")} hits and ` +
				`${SIZES.otherConversions.toLocaleString("en")} conversions. ${ROUNDS} rounds of ${BATCH} calls of each case after one to warm up; ` +
				"milliseconds; the ratio is the direct reads' median over refkit's.",
			"",
			text,
		].join("\n"),
	);
}

await main();
