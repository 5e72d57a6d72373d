/**
 * The referral programs' cases of `npm run bench` (ids `p-...`), each against a baseline measured in the same
 * run on the same machine:
 * - `p-balance-<db>`: `balances(userId)` with 1,000,000 commissions in the ledger, for the beneficiary with the
 *   most rows (100,000) and a typical one, against summing that beneficiary's rows by status (what the balance
 *   would cost without `refkit_balance`). Target: at most 5 ms.
 * - `p-payouts-<db>`: `createPayouts()` over 100,000 beneficiaries, against the same run over 1,000 (time per
 *   beneficiary, memory). Target: at most 30 s, with bounded memory: the process runs with its old generation
 *   capped at 64 MB, and the live heap after each full collection (from `--trace-gc`) must stay within 16 MB
 *   of the small run's. Peak RSS is printed.
 * - `p-sales-<db>`: `recordSale()` from 50 concurrent callers, against one INSERT per transaction into a bare
 *   table at the same concurrency (what the database commits). Target: at least 1,000 sales/s.
 * The ledgers are seeded in bulk by SQL (bench/programs-seed.ts); each measurement runs in a process of its
 * own on the built package (bench/programs-probe.mjs). See bench/README.md.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { createRefkit } from "../dist/index.js";
import {
	analyze,
	BENCH_PROGRAM,
	type Db,
	execSql,
	querySql,
	seedLedger,
	seedPayable,
} from "./programs-seed.js";

const here = fileURLToPath(new URL(".", import.meta.url));
const COMMISSIONS = Number(process.env.REFKIT_BENCH_COMMISSIONS ?? 1_000_000);
const BENEFICIARIES = Number(process.env.REFKIT_BENCH_BENEFICIARIES ?? 100_000);
const SALES = Number(process.env.REFKIT_BENCH_SALES ?? 5_000);
const SALE_CALLERS = 50;
const SECRET = "bench-secret-0123456789abcdef0123456789abcdef";

export interface ProgramCase {
	id: string;
	db: Db;
	title: string;
	/** Minutes of seeding: run only when chosen by name (`REFKIT_BENCH_CASES`). */
	heavy: boolean;
}

export function programCases(): ProgramCase[] {
	const cases: ProgramCase[] = [];
	for (const db of ["sqlite", "postgres"] as const) {
		const name = db === "sqlite" ? "SQLite" : "PostgreSQL";
		cases.push(
			{
				id: `p-balance-${db}`,
				db,
				heavy: true,
				title: `balances(userId), ${COMMISSIONS.toLocaleString("en")} commissions, ${name}`,
			},
			{
				id: `p-payouts-${db}`,
				db,
				heavy: true,
				title: `createPayouts(), ${BENEFICIARIES.toLocaleString("en")} beneficiaries, ${name}`,
			},
			{ id: `p-sales-${db}`, db, heavy: false, title: `recordSale(), ${SALE_CALLERS} callers, ${name}` },
		);
	}
	return cases;
}

/** One line of the results: what was measured, against what, and whether the target is met. */
export interface ProgramRow {
	title: string;
	measured: string;
	baseline: string;
	ratio: string;
	target: string;
	met: boolean;
	notes: string;
}

/** What a probe printed: its JSON line, and the live heap after each full collection (with `--trace-gc`). */
interface Probed {
	result: unknown;
	liveAfterFullGcMb: number[];
}

function probe(
	task: string,
	database: string,
	options: Record<string, unknown>,
	nodeOptions: string[] = [],
): Promise<Probed> {
	return new Promise((resolve, reject) => {
		execFile(
			process.execPath,
			[...nodeOptions, join(here, "programs-probe.mjs")],
			{
				env: {
					...process.env,
					PROBE_TASK: task,
					PROBE_DATABASE: database,
					PROBE_OPTIONS: JSON.stringify(options),
				},
				maxBuffer: 64 * 2 ** 20,
			},
			(error, stdout, stderr) => {
				if (error) return reject(new Error(`the ${task} probe failed: ${stderr || error.message}`));
				const lines = stdout.trim().split("\n");
				const json = lines.find((line) => line.startsWith("{")) ?? "null";
				// "Mark-Compact 71.5 (101.0) -> 13.0 (73.5) MB": 13.0 MB live after a full collection.
				const liveAfterFullGcMb = lines.flatMap((line) => {
					const match = /Mark-Compact[^>]*-> ([\d.]+) \(/.exec(line);
					return match ? [Number(match[1])] : [];
				});
				resolve({ result: JSON.parse(json), liveAfterFullGcMb });
			},
		);
	});
}

/** A new, migrated database of `db`, next to `base` (a directory for SQLite, a server's URL for PostgreSQL). */
async function freshDatabase(
	db: Db,
	base: string,
	name: string,
): Promise<{ url: string; drop(): Promise<void> }> {
	let url = join(base, `${name}.sqlite`);
	let drop = async () => {};
	if (db === "postgres") {
		const database = `refkit_bench_${name.replace(/-/g, "_")}_${process.pid}`;
		const admin = new pg.Client({ connectionString: base });
		await admin.connect();
		await admin.query(`drop database if exists "${database}" with (force)`);
		await admin.query(`create database "${database}" template template0`);
		await admin.end();
		const parsed = new URL(base);
		parsed.pathname = `/${database}`;
		url = parsed.toString();
		drop = async () => {
			const client = new pg.Client({ connectionString: base });
			await client.connect();
			await client.query(`drop database if exists "${database}" with (force)`);
			await client.end();
		};
	}
	const refkit = createRefkit({ database: url, secret: SECRET, programs: [BENCH_PROGRAM] });
	await refkit.migrate();
	await refkit.close();
	return { url, drop };
}

async function timedSeed<T>(label: string, work: () => Promise<T>): Promise<T> {
	const start = performance.now();
	const result = await work();
	console.log(`  ${label} in ${((performance.now() - start) / 1000).toFixed(1)} s`);
	return result;
}

const ms = (value: number) => `${value < 10 ? value.toFixed(2) : value.toFixed(0)} ms`;

interface Timing {
	median: number;
	p95: number;
}

async function balanceCase(c: ProgramCase, base: string): Promise<ProgramRow[]> {
	const { url, drop } = await freshDatabase(c.db, base, c.id);
	try {
		const users = 10_000;
		await timedSeed(`${c.id}: seeded ${COMMISSIONS.toLocaleString("en")} commissions`, () =>
			seedLedger(c.db, url, COMMISSIONS, users),
		);
		await analyze(c.db, url);
		const typical = `u${Math.floor(users / 3)}`;
		const counts = await querySql(
			c.db,
			url,
			`select beneficiary_user_id as u, count(*) as n from refkit_commission where beneficiary_user_id in ('heavy', '${typical}') group by beneficiary_user_id`,
		);
		const rows = new Map(counts.map((row) => [String(row.u), Number(row.n)]));
		const { result } = (await probe("balance", url, {
			programs: [BENCH_PROGRAM],
			users: ["heavy", typical],
			runs: 200,
		})) as { result: Record<string, { answer: Record<string, number>; measured: Timing; summed: Timing }> };
		return Object.entries(result).map(([user, { answer, measured, summed }]) => ({
			title: `${c.title}: ${user === "heavy" ? "the busiest" : "a typical"} beneficiary (${(rows.get(user) ?? 0).toLocaleString("en")} rows)`,
			measured: `${ms(measured.median)} (p95 ${ms(measured.p95)})`,
			baseline: `${ms(summed.median)} summing the rows`,
			ratio: `${(summed.median / measured.median).toFixed(summed.median < 10 * measured.median ? 1 : 0)}×`,
			target: "≤ 5 ms",
			met: measured.median <= 5,
			notes: `read: pending ${answer.pending}, held ${answer.held}, approved ${answer.approved}, paid ${answer.paid}`,
		}));
	} finally {
		await drop();
	}
}

/** The old generation's cap of a payout run's process: a run that kept what it read would not finish. */
const HEAP_CAP_MB = 64;

interface PayoutProbe {
	ms: number;
	run: { payouts: number; carriedForward: number; totals: Record<string, number> };
	peakRssMb: number;
	/** The largest live heap after a full collection during the run (0 when none ran). */
	liveHeapMb: number;
	fullGcs: number;
}

async function payoutRun(c: ProgramCase, base: string, beneficiaries: number): Promise<PayoutProbe> {
	const { url, drop } = await freshDatabase(c.db, base, `${c.id}-${beneficiaries}`);
	try {
		await timedSeed(`${c.id}: seeded ${beneficiaries.toLocaleString("en")} beneficiaries`, () =>
			seedPayable(c.db, url, beneficiaries),
		);
		await analyze(c.db, url);
		const probed = await probe("payouts", url, { programs: [BENCH_PROGRAM] }, [
			"--trace-gc",
			`--max-old-space-size=${HEAP_CAP_MB}`,
		]);
		const result = {
			...(probed.result as Omit<PayoutProbe, "liveHeapMb" | "fullGcs">),
			liveHeapMb: Math.max(0, ...probed.liveAfterFullGcMb),
			fullGcs: probed.liveAfterFullGcMb.length,
		};
		// The run paid what it should have: every beneficiary whose net reached the minimum, once.
		const [check] = await querySql(
			c.db,
			url,
			`select (select count(*) from refkit_payout where status = 'created') as payouts,
			        (select count(*) from refkit_commission where status = 'approved' and payout_id is null) as left_over`,
		);
		if (
			Number(check?.payouts) !== result.run.payouts ||
			Number(check?.payouts) + result.run.carriedForward !== beneficiaries
		) {
			throw new Error(
				`${c.id}: the run's answer ${JSON.stringify(result.run)} disagrees with the tables ${JSON.stringify(check)}`,
			);
		}
		return result;
	} finally {
		await drop();
	}
}

async function payoutCase(c: ProgramCase, base: string): Promise<ProgramRow[]> {
	const small = await payoutRun(c, base, 1_000);
	const large = await payoutRun(c, base, BENEFICIARIES);
	const perSmall = small.ms / 1_000;
	const perLarge = large.ms / BENEFICIARIES;
	// Bounded: it finished under the heap cap, and what it kept alive did not grow with the beneficiaries.
	const bounded = large.liveHeapMb <= Math.max(small.liveHeapMb, 16) + 16;
	return [
		{
			title: c.title,
			measured: `${(large.ms / 1000).toFixed(1)} s (${(perLarge * 1000).toFixed(0)} µs each), ${large.run.payouts.toLocaleString("en")} payouts, ${large.run.carriedForward.toLocaleString("en")} carried forward`,
			baseline: `${(small.ms / 1000).toFixed(2)} s over 1,000 (${(perSmall * 1000).toFixed(0)} µs each)`,
			ratio: `${(perLarge / perSmall).toFixed(2)}× per beneficiary`,
			target: `≤ 30 s, bounded memory (heap capped at ${HEAP_CAP_MB} MB)`,
			met: large.ms <= 30_000 && bounded,
			notes: `peak RSS ${large.peakRssMb.toFixed(0)} MB (1,000: ${small.peakRssMb.toFixed(0)} MB); live heap after full GCs at most ${large.liveHeapMb.toFixed(1)} MB over ${large.fullGcs} (1,000: ${small.liveHeapMb.toFixed(1)} MB over ${small.fullGcs})`,
		},
	];
}

async function salesCase(c: ProgramCase, base: string): Promise<ProgramRow[]> {
	const { url, drop } = await freshDatabase(c.db, base, c.id);
	try {
		// 1,000 referred users of 200 referrers: their conversions, written in bulk (no links: the default program).
		const buyers = Array.from({ length: 1_000 }, (_, i) => `c${i}`);
		const at = new Date(Date.now() - 86_400_000).toISOString();
		await execSql(c.db, url, [
			`insert into refkit_conversion (id, goal, referred_user_id, referrer_user_id, created_at, updated_at) values ${buyers
				.map(
					(buyer, i) =>
						`('${`00000005-0000-4000-8000-${i.toString(16).padStart(12, "0")}`}', 'signup', '${buyer}', 'r${i % 200}', '${at}', '${at}')`,
				)
				.join(", ")}`,
		]);
		await analyze(c.db, url);
		const { result } = (await probe("sales", url, {
			programs: [BENCH_PROGRAM],
			buyers,
			count: SALES,
			concurrency: SALE_CALLERS,
		})) as {
			result: { perSecond: number; bare: number; statuses: Record<string, number>; peakRssMb: number };
		};
		if (result.statuses.recorded !== SALES) throw new Error(`${c.id}: ${JSON.stringify(result.statuses)}`);
		return [
			{
				title: `${c.title} (${SALES.toLocaleString("en")} sales)`,
				measured: `${Math.round(result.perSecond).toLocaleString("en")} sales/s`,
				baseline: `${Math.round(result.bare).toLocaleString("en")} bare INSERT transactions/s`,
				ratio: `${((result.perSecond / result.bare) * 100).toFixed(0)}%`,
				target: "≥ 1,000 sales/s",
				met: result.perSecond >= 1_000,
				notes: `peak RSS ${result.peakRssMb.toFixed(0)} MB`,
			},
		];
	} finally {
		await drop();
	}
}

/**
 * Runs the chosen cases, each database's on `bases[db]` (a directory for SQLite, a server where databases may
 * be created for PostgreSQL), and returns their rows.
 */
export async function runProgramCases(
	cases: readonly ProgramCase[],
	bases: Record<Db, string | undefined>,
): Promise<ProgramRow[]> {
	const rows: ProgramRow[] = [];
	for (const c of cases) {
		const base = bases[c.db];
		if (base === undefined) continue;
		console.log(`${c.id}: ${c.title}`);
		const run = c.id.startsWith("p-balance")
			? balanceCase
			: c.id.startsWith("p-payouts")
				? payoutCase
				: salesCase;
		for (const row of await run(c, base)) {
			rows.push(row);
			console.log(
				`  ${row.measured} | baseline ${row.baseline} | ${row.ratio} | target ${row.target}: ${row.met ? "met" : "MISSED"} | ${row.notes}`,
			);
		}
	}
	return rows;
}

/** The rows as a Markdown table. */
export function programTable(rows: readonly ProgramRow[]): string {
	return [
		"| case | measured | baseline (same run) | ratio | target | met | notes |",
		"|---|---|---|---|---|---|---|",
		...rows.map(
			(r) =>
				`| ${r.title} | ${r.measured} | ${r.baseline} | ${r.ratio} | ${r.target} | ${r.met ? "yes" : "**no**"} | ${r.notes} |`,
		),
	].join("\n");
}
