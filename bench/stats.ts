/**
 * How fast `refkit.stats()` and `listHits()` answer on a million hits, on SQLite (and on PostgreSQL when
 * REFKIT_BENCH_POSTGRES_URL is set). Run it with `npm run bench:stats`; see bench/README.md.
 *
 * The data is seeded in bulk through a direct connection, then every query runs through refkit's public API.
 * `stats()` is measured with its daily summaries in place (migration 0004), against the same call with the
 * summaries dropped before each run, so that it reads every hit and summarises the days again. `listHits()`
 * is measured with every index, against the same call after dropping the indexes migration 0003 adds. Each
 * ratio is the baseline's time over the measured time, in the same run on the same data.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { createRefkit, type Refkit } from "refkit";

const HITS = Number(process.env.REFKIT_BENCH_HITS ?? 1_000_000);
const CONVERSIONS = Math.round(HITS / 50);
const LINKS = 2_000;
const REFERRERS = 1_000;
/** Links 0..1899 belong to a referrer (two each); the last 100 are campaign links of nobody's. */
const OWNED_LINKS = 1_900;
const REFERRED_USERS = Math.max(1_000, Math.round(HITS * 0.15));
const VISITORS = Math.max(1_000, Math.round(HITS * 0.4));
const DAYS = 90;
const RUNS = Number(process.env.REFKIT_BENCH_RUNS ?? 5);
const DAY = 24 * 60 * 60 * 1000;
const NOW = new Date();
const SECRET = "bench-secret-bench-secret-bench-secret-0123456789";
/** Undoes migration 0003 for the baseline: the indexes a database migrated up to 0002 has. */
const UNDO_0003 = [
	"drop index refkit_conversion_created",
	"create index refkit_hit_visitor_id on refkit_hit (visitor_id)",
	"drop index refkit_hit_visitor_user_created",
	"create index refkit_hit_user_id on refkit_hit (user_id)",
	"drop index refkit_hit_user_created",
	"drop index refkit_hit_created",
];

/** A small deterministic PRNG (mulberry32), so both databases get the same data. */
function prng(seed: number): () => number {
	let a = seed;
	return () => {
		a = (a + 0x6d2b79f5) | 0;
		let t = Math.imul(a ^ (a >>> 15), 1 | a);
		t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

function uuid(random: () => number): string {
	const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16));
	hex[12] = "4";
	hex[16] = "89ab"[Math.floor(random() * 4)] as string;
	const s = hex.join("");
	return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}

const pad = (n: number) => String(n).padStart(4, "0");
const identifier = (link: number) => `link_${pad(link)}`;
const owner = (link: number) => (link < OWNED_LINKS ? `user_${pad(link % REFERRERS)}` : null);

/** Link popularity follows a Zipf-like law (s = 0.8): link 0 is the busiest, with about 5 % of the hits. */
function linkPicker(): (random: () => number) => number {
	const cumulative: number[] = [];
	let total = 0;
	for (let rank = 1; rank <= LINKS; rank++) {
		total += rank ** -0.8;
		cumulative.push(total);
	}
	return (random) => {
		const target = random() * total;
		let lo = 0;
		let hi = LINKS - 1;
		while (lo < hi) {
			const mid = (lo + hi) >> 1;
			if ((cumulative[mid] as number) < target) lo = mid + 1;
			else hi = mid;
		}
		return lo;
	};
}

const AGENTS = [
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
];
const REFERERS = [
	null,
	null,
	"https://twitter.com/",
	"https://www.google.com/",
	"https://news.ycombinator.com/",
];

/** One hit as a row of the columns below, in time order (the order a live site would write them). */
type HitRow = [
	string,
	number,
	string,
	boolean,
	string | null,
	string | null,
	string,
	string,
	string | null,
	string | null,
	string,
];
const HIT_COLUMNS =
	"id, link_id, source, authenticated, user_id, visitor_id, ip, user_agent, referer, next, created_at, updated_at";

function* hits(): Generator<HitRow> {
	const random = prng(1);
	const pick = linkPicker();
	const start = NOW.getTime() - DAYS * DAY;
	const step = (DAYS * DAY) / HITS;
	for (let i = 0; i < HITS; i++) {
		const at = new Date(start + i * step + random() * step).toISOString();
		const kind = random();
		const user = `r_${Math.floor(random() * REFERRED_USERS)}`;
		const visitor = `v${Math.floor(random() * VISITORS)
			.toString(36)
			.padStart(6, "0")}`;
		// 55 % anonymous, 25 % anonymous and later claimed at login, 20 % logged in.
		const authenticated = kind >= 0.8;
		const userId = kind < 0.55 ? null : user;
		const visitorId = authenticated ? null : visitor;
		const ip = `10.${Math.floor(random() * 256)}.${Math.floor(random() * 256)}.${Math.floor(random() * 256)}`;
		yield [
			uuid(random),
			pick(random) + 1,
			"link",
			authenticated,
			userId,
			visitorId,
			ip,
			AGENTS[Math.floor(random() * AGENTS.length)] as string,
			REFERERS[Math.floor(random() * REFERERS.length)] ?? null,
			random() < 0.3 ? "/pricing" : null,
			at,
		];
	}
}

type ConversionRow = [string, string, string, string | null, number, number | null, string, string | null];
const CONVERSION_COLUMNS =
	"id, goal, referred_user_id, referrer_user_id, link_id, value, created_at, reversed_at";

function* conversions(): Generator<ConversionRow> {
	const random = prng(2);
	const pick = linkPicker();
	for (let i = 0; i < CONVERSIONS; i++) {
		// Signups for the first 70 %, purchases after: (referred user, goal) stays unique.
		const signup = i < CONVERSIONS * 0.7;
		const link = pick(random);
		const at = new Date(NOW.getTime() - random() * DAYS * DAY).toISOString();
		yield [
			uuid(random),
			signup ? "signup" : "purchase",
			`r_${signup ? i : i - Math.ceil(CONVERSIONS * 0.7)}`,
			owner(link),
			link + 1,
			signup ? null : Math.round(500 + random() * 20_000),
			at,
			random() < 0.05 ? at : null,
		];
	}
}

function links(): { identifier: string; userId: string | null; at: string }[] {
	const at = new Date(NOW.getTime() - 200 * DAY).toISOString();
	return Array.from({ length: LINKS }, (_, i) => ({ identifier: identifier(i), userId: owner(i), at }));
}

function seedSqlite(path: string): void {
	const db = new Database(path);
	db.pragma("journal_mode = WAL");
	db.pragma("synchronous = OFF");
	db.pragma("cache_size = -262144");
	const link = db.prepare(
		"insert into refkit_link (identifier, user_id, disabled, target, created_at, updated_at) values (?, ?, 0, null, ?, ?)",
	);
	const hit = db.prepare(`insert into refkit_hit (${HIT_COLUMNS}) values (${"?, ".repeat(11)}?)`);
	const conversion = db.prepare(
		`insert into refkit_conversion (${CONVERSION_COLUMNS}, updated_at, next_delivery_at) values (${"?, ".repeat(8)}?, null)`,
	);
	db.transaction(() => {
		for (const l of links()) link.run(l.identifier, l.userId, l.at, l.at);
		for (const row of hits()) hit.run(...row.slice(0, 3), row[3] ? 1 : 0, ...row.slice(4), row[10]);
		for (const row of conversions()) conversion.run(...row, row[6]);
	})();
	db.close();
}

async function seedPostgres(url: string): Promise<void> {
	const client = new pg.Client({ connectionString: url });
	await client.connect();
	try {
		const ls = links();
		await client.query(
			`insert into refkit_link (identifier, user_id, disabled, target, created_at, updated_at)
			 select i, u, false, null, t, t from unnest($1::text[], $2::text[], $3::timestamptz[]) as x(i, u, t)`,
			[ls.map((l) => l.identifier), ls.map((l) => l.userId), ls.map((l) => l.at)],
		);
		const types = [
			"uuid",
			"int",
			"text",
			"bool",
			"text",
			"text",
			"text",
			"text",
			"text",
			"text",
			"timestamptz",
		];
		const hitInsert = `insert into refkit_hit (${HIT_COLUMNS})
			select c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c10
			from unnest(${types.map((type, i) => `$${i + 1}::${type}[]`).join(", ")})
			as x(${types.map((_, i) => `c${i}`).join(", ")})`;
		await insertBatches(client, hits(), hitInsert, types.length);
		const conversionTypes = ["uuid", "text", "text", "text", "int", "float8", "timestamptz", "timestamptz"];
		const conversionInsert = `insert into refkit_conversion (${CONVERSION_COLUMNS}, updated_at, next_delivery_at)
			select c0, c1, c2, c3, c4, c5, c6, c7, c6, null
			from unnest(${conversionTypes.map((type, i) => `$${i + 1}::${type}[]`).join(", ")})
			as x(${conversionTypes.map((_, i) => `c${i}`).join(", ")})`;
		await insertBatches(client, conversions(), conversionInsert, conversionTypes.length);
		// What autovacuum would soon do after such a load: statistics, and the visibility map index-only scans use.
		await client.query("vacuum analyze");
	} finally {
		await client.end();
	}
}

/** Inserts rows 20,000 at a time, one array parameter per column (`unnest`). */
async function insertBatches(
	client: pg.Client,
	rows: Iterable<unknown[]>,
	text: string,
	width: number,
): Promise<void> {
	let columns: unknown[][] = Array.from({ length: width }, () => []);
	let size = 0;
	const flush = async () => {
		if (size > 0) await client.query(text, columns);
		columns = Array.from({ length: width }, () => []);
		size = 0;
	};
	for (const row of rows) {
		row.forEach((value, i) => void columns[i]?.push(value));
		if (++size === 20_000) await flush();
	}
	await flush();
}

interface Query {
	name: string;
	run: (refkit: Refkit) => Promise<unknown>;
}

const BUSY = identifier(0);
const STATS_QUERIES: Query[] = [
	{ name: "stats() all links, 30 days", run: (r) => r.stats({ days: 30, now: NOW }) },
	{ name: "stats() all links, 90 days", run: (r) => r.stats({ days: 90, now: NOW }) },
	{ name: `stats() one busy link, 30 days`, run: (r) => r.stats({ link: BUSY, days: 30, now: NOW }) },
];
const LIST_QUERIES: Query[] = [
	{ name: "listHits({ limit: 50 })", run: (r) => r.listHits({ limit: 50 }) },
	{ name: "listHits({ link, limit: 50 })", run: (r) => r.listHits({ link: BUSY, limit: 50 }) },
];
/** The target of the issue: each query at most this many milliseconds. */
const TARGET_MS = 50;

function median(values: number[]): number {
	const sorted = [...values].sort((a, b) => a - b);
	const mid = sorted.length >> 1;
	return sorted.length % 2
		? (sorted[mid] as number)
		: ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** The median time of each query, in milliseconds, after one warm-up run; `before` runs untimed before each. */
async function measure(refkit: Refkit, queries: Query[], before?: () => Promise<void>): Promise<number[]> {
	const medians: number[] = [];
	for (const query of queries) {
		await before?.();
		await query.run(refkit);
		const times: number[] = [];
		for (let i = 0; i < RUNS; i++) {
			await before?.();
			const start = performance.now();
			await query.run(refkit);
			times.push(performance.now() - start);
		}
		medians.push(median(times));
	}
	return medians;
}

/** Reports what refkit absorbed, except the end of its connections when the benchmark drops its database. */
function onError(error: unknown): void {
	if ((error as { code?: unknown }).code !== "57P01") console.error(error);
}

function printTable(header: string[], rows: string[][]): void {
	const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] as string).length)));
	const line = (cells: string[]) =>
		cells
			.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
			.join("  ");
	console.log(line(header));
	for (const row of rows) console.log(line(row));
	console.log();
}

const ms = (value: number) => value.toFixed(1);
const ratio = (baseline: number, measured: number) => `${(baseline / measured).toFixed(1)}×`;

interface SqlRunner {
	/** Runs SQL statements through a connection of the benchmark's own. */
	exec: (statements: string[]) => Promise<void>;
}

async function compare(name: string, database: string, db: SqlRunner): Promise<void> {
	const refkit = createRefkit({ database, secret: SECRET, onError });
	try {
		const start = performance.now();
		const all = await refkit.stats({ days: 90, now: NOW });
		const summarised = performance.now() - start;
		const busy = await refkit.stats({ link: BUSY, days: 90, now: NOW });
		console.log(
			`${name}: ${all.totals.hits.toLocaleString("en")} hits in 90 days, ${all.totals.uniqueVisitors.toLocaleString("en")} visitors` +
				`${all.totals.estimated ? " (estimated)" : ""}, ${all.totals.conversions.toLocaleString("en")} conversions; ` +
				`${BUSY} has ${busy.totals.hits.toLocaleString("en")} hits. The first stats() summarised 90 days in ${(summarised / 1000).toFixed(1)} s.`,
		);
		const summaries = await measure(refkit, STATS_QUERIES);
		const hits = await measure(refkit, STATS_QUERIES, () => db.exec(["delete from refkit_stats_day"]));
		printTable(
			["query (median ms)", "every hit", "summaries", "ratio", `≤ ${TARGET_MS} ms`],
			STATS_QUERIES.map((query, i) => {
				const measured = summaries[i] as number;
				return [
					query.name,
					ms(hits[i] as number),
					ms(measured),
					ratio(hits[i] as number, measured),
					measured <= TARGET_MS ? "yes" : "no",
				];
			}),
		);
		const indexed = await measure(refkit, LIST_QUERIES);
		await db.exec(UNDO_0003);
		const baseline = await measure(refkit, LIST_QUERIES);
		printTable(
			["query (median ms)", "without 0003", "with 0003", "ratio"],
			LIST_QUERIES.map((query, i) => [
				query.name,
				ms(baseline[i] as number),
				ms(indexed[i] as number),
				ratio(baseline[i] as number, indexed[i] as number),
			]),
		);
	} finally {
		await refkit.close();
	}
}

async function timed<T>(label: string, work: () => Promise<T> | T): Promise<T> {
	const start = performance.now();
	const result = await work();
	console.log(`${label}: ${((performance.now() - start) / 1000).toFixed(1)} s`);
	return result;
}

async function main(): Promise<void> {
	console.log(
		`${cpus()[0]?.model ?? "unknown CPU"}, ${availableParallelism()} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; ` +
			`Node.js ${process.version}; ${HITS.toLocaleString("en")} hits over ${DAYS} days on ${LINKS} links ` +
			`(${REFERRERS} referrers), ${CONVERSIONS.toLocaleString("en")} conversions; median of ${RUNS} runs\n`,
	);

	const dir = mkdtempSync(join(tmpdir(), "refkit-bench-"));
	try {
		const file = join(dir, "bench.sqlite");
		const migrated = createRefkit({ database: file, secret: SECRET, onError });
		await migrated.migrate();
		await migrated.close();
		await timed("SQLite: seeded", () => seedSqlite(file));
		await compare(`SQLite ${sqliteVersion(file)}`, file, {
			exec: async (statements) => {
				const db = new Database(file);
				for (const statement of statements) db.exec(statement);
				db.close();
			},
		});
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}

	const adminUrl = process.env.REFKIT_BENCH_POSTGRES_URL;
	if (!adminUrl) {
		console.log(
			"PostgreSQL: skipped (set REFKIT_BENCH_POSTGRES_URL to a server where a database may be created)",
		);
		return;
	}
	const name = `refkit_bench_${process.pid}`;
	const admin = new pg.Client({ connectionString: adminUrl });
	await admin.connect();
	await admin.query(`create database "${name}" template template0`);
	try {
		const url = new URL(adminUrl);
		url.pathname = `/${name}`;
		const database = url.toString();
		const migrated = createRefkit({ database, secret: SECRET, onError });
		await migrated.migrate();
		await migrated.close();
		await timed("PostgreSQL: seeded", () => seedPostgres(database));
		const version = await admin.query<{ server_version: string }>("show server_version");
		await compare(`PostgreSQL ${version.rows[0]?.server_version ?? ""}`, database, {
			exec: async (statements) => {
				const client = new pg.Client({ connectionString: database });
				await client.connect();
				for (const statement of statements) await client.query(statement);
				await client.end();
			},
		});
	} finally {
		await admin.query(`drop database if exists "${name}" with (force)`);
		await admin.end();
	}
}

function sqliteVersion(file: string): string {
	const db = new Database(file, { readonly: true });
	try {
		return (db.prepare("select sqlite_version() as v").get() as { v: string }).v;
	} finally {
		db.close();
	}
}

await main();
