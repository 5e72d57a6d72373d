/**
 * `npm run bench`: refkit's redirect and its cost to an application, measured side by side with baselines in
 * the same run. See bench/README.md. Each case runs its server in a process of its own and loads it with wrk
 * on loopback; the cases of a round run one after another, and rounds repeat, so that a baseline and the
 * case measured against it see the same machine. Medians of the rounds are printed and written to
 * bench/RESULTS.md, with an SVG chart of the ratios (bench/ratios.svg).
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createRefkit } from "../dist/index.js";
import { type Cluster, startCluster } from "../test/setup/pg-cluster.js";
import { chart } from "./chart.js";
import { programCases, programTable, runProgramCases } from "./programs.js";
import { writeResults } from "./results.js";

const here = fileURLToPath(new URL(".", import.meta.url));
const DURATION_S = Number(process.env.REFKIT_BENCH_DURATION ?? 5);
const RUNS = Number(process.env.REFKIT_BENCH_RUNS ?? 4);
const CONNECTIONS = Number(process.env.REFKIT_BENCH_CONNECTIONS ?? 50);
const ONLY = process.env.REFKIT_BENCH_CASES ? new RegExp(process.env.REFKIT_BENCH_CASES) : null;
const PORT = 3190;

type Framework = "node" | "web" | "express" | "fastify" | "hono";
type Db = "sqlite" | "postgres";

interface Case {
	id: string;
	group: "a" | "b" | "c" | "d";
	title: string;
	framework: Framework;
	refkit: boolean;
	/** An empty middleware of the same shape instead of refkit. */
	noop?: boolean;
	db?: Db;
	writes?: "durable" | "buffered";
	path: string;
	/** Sends the logged-in user and a visitor cookie (a claim on every request). */
	claim?: boolean;
	/** Sends the logged-in user only. */
	user?: boolean;
	/** The id of the case this one is measured against. */
	baseline?: string;
	/** The target, as "ratio at least" (a fraction of the baseline's requests/s). */
	atLeast?: number;
	/** The target, as "costs at most" (a fraction of the baseline's requests/s lost). */
	overheadAtMost?: number;
	/** The p99 target in milliseconds. */
	p99AtMost?: number;
}

const NAMES: Record<Framework, string> = {
	node: "node:http",
	web: "Web handler on node:http",
	express: "Express 5",
	fastify: "Fastify 5",
	hono: "Hono 4",
};
const FRAMEWORKS: Framework[] = ["express", "fastify", "hono"];

function cases(): Case[] {
	const list: Case[] = [
		{
			id: "a-node",
			group: "a",
			title: "bare 302 + Set-Cookie, node:http",
			framework: "node",
			refkit: false,
			path: "/bare",
		},
	];
	for (const f of FRAMEWORKS) {
		list.push({
			id: `a-${f}`,
			group: "a",
			title: `bare 302 route, ${NAMES[f]}`,
			framework: f,
			refkit: false,
			path: "/bare",
		});
	}
	for (const db of ["sqlite", "postgres"] as const) {
		for (const f of ["web", ...FRAMEWORKS] as const) {
			list.push({
				id: `b-${f}-${db}`,
				group: "b",
				title: `/ref/<id>, ${NAMES[f]}, ${db === "sqlite" ? "SQLite" : "PostgreSQL"}`,
				framework: f,
				refkit: true,
				db,
				path: "/ref/bench",
				baseline: f === "web" ? "a-node" : `a-${f}`,
				atLeast: db === "postgres" ? 0.5 : f === "web" ? 0.4 : 0.75,
				p99AtMost: f === "express" ? 25 : 10,
			});
		}
	}
	list.push({
		id: "b-web-postgres-buffered",
		group: "b",
		title: "/ref/<id>, Web handler, PostgreSQL, hitWrites: buffered",
		framework: "web",
		refkit: true,
		db: "postgres",
		writes: "buffered",
		path: "/ref/bench",
		baseline: "a-node",
	});
	for (const f of ["web", ...FRAMEWORKS] as const) {
		list.push({
			id: `c-${f}-plain`,
			group: "c",
			title: `page, ${NAMES[f]}, without refkit`,
			framework: f,
			refkit: false,
			path: "/page",
		});
		list.push({
			id: `c-${f}-noop`,
			group: "c",
			title: `page, ${NAMES[f]}, an empty middleware instead (for reference)`,
			framework: f,
			refkit: false,
			noop: true,
			path: "/page",
			baseline: `c-${f}-plain`,
		});
		list.push({
			id: `c-${f}-refkit`,
			group: "c",
			title: `page, ${NAMES[f]}, with refkit`,
			framework: f,
			refkit: true,
			db: "sqlite",
			path: "/page",
			baseline: `c-${f}-plain`,
			overheadAtMost: 0.03,
		});
	}
	for (const db of ["sqlite", "postgres"] as const) {
		const name = db === "sqlite" ? "SQLite" : "PostgreSQL";
		list.push({
			id: `d-${db}-user`,
			group: "d",
			title: `logged-in page, Web handler, ${name}`,
			framework: "web",
			refkit: true,
			db,
			path: "/page",
			user: true,
		});
		list.push({
			id: `d-${db}-claim`,
			group: "d",
			title: `logged-in page with a visitor cookie (claim), Web handler, ${name}`,
			framework: "web",
			refkit: true,
			db,
			path: "/page",
			claim: true,
			baseline: `d-${db}-user`,
		});
	}
	return list;
}

interface Run {
	rps: number;
	p50: number;
	p99: number;
	rssMb: number;
	errors: number;
}

/** Milliseconds from wrk's "1.23ms", "456.00us", "1.02s". */
function ms(text: string): number {
	const m = /^([\d.]+)(us|ms|s|m)$/.exec(text.trim());
	if (!m) throw new Error(`cannot read wrk's latency ${JSON.stringify(text)}`);
	const value = Number(m[1]);
	return m[2] === "us" ? value / 1000 : m[2] === "ms" ? value : m[2] === "s" ? value * 1000 : value * 60_000;
}

function wrk(path: string, headers: string[], seconds: number): Omit<Run, "rssMb"> {
	const args = ["-t1", `-c${CONNECTIONS}`, `-d${seconds}s`, "--latency"];
	for (const header of headers) args.push("-H", header);
	const out = execFileSync("wrk", [...args, `http://127.0.0.1:${PORT}${path}`], { encoding: "utf8" });
	const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
	const p50 = /\s50%\s+(\S+)/.exec(out)?.[1];
	const p99 = /\s99%\s+(\S+)/.exec(out)?.[1];
	const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
	const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
	const errors = non2xx + (socketErrors ? socketErrors.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0);
	if (!rps || !p50 || !p99) throw new Error(`cannot read wrk's output:\n${out}`);
	return { rps, p50: ms(p50), p99: ms(p99), errors };
}

function peakRssMb(pid: number): number {
	const status = readFileSync(`/proc/${pid}/status`, "utf8");
	return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

async function startServer(c: Case, database: string | undefined): Promise<ChildProcess> {
	const child = spawn(process.execPath, [join(here, "server.mjs")], {
		env: {
			...process.env,
			BENCH_FRAMEWORK: c.framework,
			BENCH_REFKIT: c.refkit ? "1" : c.noop ? "noop" : "0",
			BENCH_DATABASE: database ?? "",
			BENCH_WRITES: c.writes ?? "",
			BENCH_PORT: String(PORT),
		},
		stdio: ["ignore", "pipe", "inherit"],
	});
	await new Promise<void>((resolve, reject) => {
		child.once("exit", (code) => reject(new Error(`the ${c.id} server exited (${code})`)));
		child.stdout?.on("data", (chunk: Buffer) => {
			if (chunk.toString().includes("ready")) resolve();
		});
	});
	child.removeAllListeners("exit");
	return child;
}

async function stopServer(child: ChildProcess): Promise<void> {
	const exited = new Promise((resolve) => child.once("exit", resolve));
	child.kill("SIGTERM");
	await exited;
}

/** A visitor cookie pair (`refkit_visitor=...`) from a follow of the running server. */
async function visitorCookie(): Promise<string> {
	const reply = await fetch(`http://127.0.0.1:${PORT}/ref/bench`, {
		redirect: "manual",
		headers: { "user-agent": BROWSER },
	});
	const pair = reply.headers
		.getSetCookie()
		.map((c) => c.split(";")[0] ?? "")
		.find((p) => p.startsWith("refkit_visitor="));
	if (!pair) throw new Error("the follow set no visitor cookie");
	return pair;
}

const BROWSER =
	"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36";

async function measure(c: Case, database: string | undefined): Promise<Run> {
	const child = await startServer(c, database);
	try {
		const headers = [`User-Agent: ${BROWSER}`];
		if (c.user || c.claim) headers.push("x-user: bench-user");
		if (c.claim) headers.push(`Cookie: ${await visitorCookie()}`);
		wrk(c.path, headers, 1); // warm-up: JIT, connections, caches
		const run = wrk(c.path, headers, DURATION_S);
		return { ...run, rssMb: peakRssMb(child.pid as number) };
	} finally {
		await stopServer(child);
	}
}

function median(values: number[]): number {
	const sorted = [...values].sort((a, b) => a - b);
	const mid = Math.floor(sorted.length / 2);
	return sorted.length % 2
		? (sorted[mid] as number)
		: ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

async function prepare(database: string): Promise<void> {
	const refkit = createRefkit({ database, secret: "bench-secret-0123456789abcdef0123456789abcdef" });
	await refkit.migrate();
	if ((await refkit.getLink("bench")) === null)
		await refkit.createLink({ identifier: "bench", userId: "referrer" });
	await refkit.close();
}

async function countHits(database: string): Promise<number> {
	const refkit = createRefkit({ database, secret: "bench-secret-0123456789abcdef0123456789abcdef" });
	const stats = await refkit.stats({ days: 1 });
	await refkit.close();
	return stats.totals.hits;
}

/** The HTTP cases (a to d): rounds of wrk runs, then their table in RESULTS.md and the chart. */
async function runHttp(selected: Case[], databases: Record<Db, string | undefined>): Promise<void> {
	try {
		execFileSync("wrk", ["--version"], { stdio: "ignore" });
	} catch (error) {
		if ((error as { code?: string }).code === "ENOENT") {
			console.error("npm run bench needs wrk: apt-get install wrk");
			process.exit(1);
		}
	}
	for (const db of ["sqlite", "postgres"] as const) {
		const url = databases[db];
		if (url && selected.some((c) => c.db === db)) await prepare(url);
	}
	console.log(
		`refkit bench: ${selected.length} cases × ${RUNS} runs of ${DURATION_S} s, wrk -t1 -c${CONNECTIONS}, ${cpus().length} cores, Node ${process.version}`,
	);
	const runs = new Map<string, Run[]>();
	for (let round = 1; round <= RUNS; round++) {
		// Every other round runs backwards, so that a drift of the machine during a round (a virtual
		// machine's CPU credits, a growing database) weighs on cases and baselines alike.
		for (const c of round % 2 === 1 ? selected : [...selected].reverse()) {
			const run = await measure(c, c.db && databases[c.db]);
			runs.set(c.id, [...(runs.get(c.id) ?? []), run]);
			console.log(
				`  round ${round}/${RUNS} ${c.id.padEnd(26)} ${Math.round(run.rps).toString().padStart(6)} req/s  p50 ${run.p50.toFixed(2)} ms  p99 ${run.p99.toFixed(2)} ms  RSS ${run.rssMb.toFixed(0)} MB${run.errors ? `  ${run.errors} errors` : ""}`,
			);
		}
	}
	const results = selected.map((c) => {
		const list = runs.get(c.id) ?? [];
		return {
			c,
			rps: median(list.map((r) => r.rps)),
			p50: median(list.map((r) => r.p50)),
			p99: median(list.map((r) => r.p99)),
			rssMb: Math.max(...list.map((r) => r.rssMb)),
			errors: list.reduce((sum, r) => sum + r.errors, 0),
		};
	});
	const byId = new Map(results.map((r) => [r.c.id, r]));
	const rows = results.map((r) => {
		const base = r.c.baseline ? byId.get(r.c.baseline) : undefined;
		const ratio = base ? r.rps / base.rps : null;
		const checks: boolean[] = [];
		if (ratio !== null && r.c.atLeast !== undefined) checks.push(ratio >= r.c.atLeast);
		if (ratio !== null && r.c.overheadAtMost !== undefined) checks.push(1 - ratio <= r.c.overheadAtMost);
		if (r.c.p99AtMost !== undefined) checks.push(r.p99 <= r.c.p99AtMost);
		// Peak RSS under load: at most 150 MB for every server with refkit.
		const rssOk = !r.c.refkit || r.rssMb <= 150;
		const target = [
			r.c.atLeast !== undefined ? `≥ ${Math.round(r.c.atLeast * 100)}%` : "",
			r.c.overheadAtMost !== undefined ? `≥ ${Math.round((1 - r.c.overheadAtMost) * 100)}%` : "",
			r.c.p99AtMost !== undefined ? `p99 ≤ ${r.c.p99AtMost} ms` : "",
		]
			.filter(Boolean)
			.join(", ");
		return { ...r, ratio, met: checks.length === 0 ? null : checks.every(Boolean), rssOk, target };
	});
	const hits: Record<string, number> = {};
	for (const db of ["sqlite", "postgres"] as const) {
		const url = databases[db];
		if (url && selected.some((c) => c.db === db && c.group === "b")) hits[db] = await countHits(url);
	}
	const table = [
		"| case | requests/s | p50 ms | p99 ms | peak RSS MB | vs baseline | target | met |",
		"|---|---:|---:|---:|---:|---:|---|---|",
		...rows.map(
			(r) =>
				`| ${r.c.group}. ${r.c.title} | ${Math.round(r.rps)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.rssOk ? r.rssMb.toFixed(0) : `**${r.rssMb.toFixed(0)}**`} | ${r.ratio === null ? "" : `${(r.ratio * 100).toFixed(0)}% of ${r.c.baseline}`} | ${r.target} | ${r.met === null ? "" : r.met ? "yes" : "**no**"} |`,
		),
	].join("\n");
	console.log(`\n${table}\n`);
	console.log(
		`hits stored: ${Object.entries(hits)
			.map(([db, n]) => `${db} ${n}`)
			.join(", ")}`,
	);
	const errors = rows.filter((r) => r.errors > 0);
	if (errors.length > 0) console.log(`errors: ${errors.map((r) => `${r.c.id} ${r.errors}`).join(", ")}`);
	const machine = `${cpus().length} × ${cpus()[0]?.model.trim()}, Node ${process.version}, wrk -t1 -c${CONNECTIONS}, ${RUNS} runs of ${DURATION_S} s (medians; peak RSS is the highest)`;
	const generated = [
		"<!-- Written by `npm run bench`: everything between these markers is replaced on each run. -->",
		"",
		`Measured ${new Date().toISOString().slice(0, 10)} on ${machine}.`,
		"",
		table,
		"",
		"Peak RSS in bold: over the 150 MB a server with refkit may use. `met` covers the requests/s and p99 targets.",
		"",
		`Hits stored during the run, each one committed before its redirect was sent: ${
			Object.entries(hits)
				.map(([db, n]) => `${db} ${n.toLocaleString("en")}`)
				.join(", ") || "none"
		}.`,
		...(errors.length > 0
			? ["", `Errors (non-2xx/3xx or socket): ${errors.map((r) => `${r.c.id} ${r.errors}`).join(", ")}.`]
			: []),
		"",
		"![requests/s as a share of the baseline](ratios.svg)",
	].join("\n");
	writeResults("results", generated);
	writeFileSync(
		join(here, "ratios.svg"),
		chart(
			rows
				.filter((r) => r.ratio !== null)
				.map((r) => ({
					label: `${r.c.group}. ${r.c.title}`,
					ratio: r.ratio as number,
					target: r.c.atLeast ?? (r.c.overheadAtMost !== undefined ? 1 - r.c.overheadAtMost : null),
				})),
		),
	);
	console.log(`\nwrote bench/RESULTS.md and bench/ratios.svg (${machine})`);
}

async function main(): Promise<void> {
	const dir = mkdtempSync(join(tmpdir(), "refkit-bench-"));
	let cluster: Cluster | undefined;
	const databases: Record<Db, string | undefined> = {
		sqlite: join(dir, "bench.sqlite"),
		postgres: undefined,
	};
	try {
		databases.postgres = process.env.REFKIT_BENCH_POSTGRES_URL;
		if (databases.postgres === undefined) {
			try {
				cluster = await startCluster({ durable: true });
				databases.postgres = cluster.url;
			} catch (error) {
				console.error(`PostgreSQL cases skipped: ${(error as Error).message}`);
			}
		}
		let selected = cases().filter((c) => c.db === undefined || databases[c.db] !== undefined);
		// The programs' cases: without REFKIT_BENCH_CASES, only those that seed little (see bench/README.md).
		let programs = programCases().filter((c) => databases[c.db] !== undefined);
		if (ONLY) {
			const wanted = new Set(selected.filter((c) => ONLY.test(c.id)).map((c) => c.id));
			for (const c of selected) if (wanted.has(c.id) && c.baseline) wanted.add(c.baseline);
			selected = selected.filter((c) => wanted.has(c.id));
			programs = programs.filter((c) => ONLY.test(c.id));
		} else programs = programs.filter((c) => !c.heavy);
		if (selected.length > 0) await runHttp(selected, databases);
		if (programs.length > 0) {
			const rows = await runProgramCases(programs, { sqlite: dir, postgres: databases.postgres });
			const table = programTable(rows);
			console.log(`\n${table}\n`);
			writeResults(
				"programs",
				[
					"<!-- Written by `npm run bench` when it runs the programs' cases (p-...): replaced on each such run. -->",
					"",
					`Measured ${new Date().toISOString().slice(0, 10)} on ${cpus().length} × ${cpus()[0]?.model.trim()}, Node ${process.version}, load average ${loadavg()
						.map((n) => n.toFixed(1))
						.join(" ")} at the end.`,
					"",
					table,
				].join("\n"),
			);
		}
	} finally {
		await cluster?.destroy();
		rmSync(dir, { recursive: true, force: true });
	}
}

await main();
