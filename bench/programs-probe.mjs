// One measurement of bench/programs.ts, in a process of its own (so that its peak RSS is its own), on the built
// package (dist/), as an application would use it. Settings come from the environment:
//   PROBE_TASK      balance | payouts | sales
//   PROBE_DATABASE  a seeded database (a SQLite path or a postgres:// URL)
//   PROBE_OPTIONS   JSON: the refkit options (programs) and the task's own settings (below)
// It prints one line of JSON, starting with "{": what it measured. Times in milliseconds.
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import Database from "better-sqlite3";
import pg from "pg";
import { createRefkit } from "../dist/index.js";

const task = process.env.PROBE_TASK;
const database = process.env.PROBE_DATABASE ?? "";
const options = JSON.parse(process.env.PROBE_OPTIONS ?? "{}");
const sqlite = !/^postgres/.test(database);
const refkit = createRefkit({
	database,
	secret: "bench-secret-0123456789abcdef0123456789abcdef",
	programs: options.programs,
	onError: (error) => console.error("refkit:", error),
});

const median = (values) => {
	const sorted = [...values].sort((a, b) => a - b);
	return sorted[Math.floor(sorted.length / 2)];
};
const percentile = (values, p) => {
	const sorted = [...values].sort((a, b) => a - b);
	return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
};
const peakRssMb = () =>
	Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"))?.[1] ?? 0) / 1024;
const mb = (bytes) => bytes / 2 ** 20;

/** Times `fn` `runs` times after `warm` unmeasured calls: median and 95th percentile. */
async function timed(fn, runs, warm) {
	for (let i = 0; i < warm; i++) await fn();
	const times = [];
	for (let i = 0; i < runs; i++) {
		const start = performance.now();
		await fn();
		times.push(performance.now() - start);
	}
	return { median: median(times), p95: percentile(times, 0.95) };
}

/** A query through a connection of the probe's own, for the baselines. */
async function directQuery() {
	if (sqlite) {
		const db = new Database(database, { readonly: true });
		return {
			run: async (text, params) => db.prepare(text.replace(/\$\d+/g, "?")).all(...params),
			close: async () => db.close(),
		};
	}
	const client = new pg.Client({ connectionString: database });
	await client.connect();
	return { run: async (text, params) => (await client.query(text, params)).rows, close: () => client.end() };
}

async function balance() {
	const result = {};
	const direct = await directQuery();
	for (const user of options.users) {
		const [answer] = await refkit.balances(user);
		const measured = await timed(() => refkit.balances(user), options.runs, 20);
		// What the balance would cost without refkit_balance: the beneficiary's rows summed by status.
		const summed = await timed(
			() =>
				direct.run(
					"select status, sum(amount) as total from refkit_commission where beneficiary_user_id = $1 and status <> 'voided' group by status",
					[user],
				),
			Math.max(5, Math.floor(options.runs / 20)),
			2,
		);
		result[user] = { answer, measured, summed };
	}
	await direct.close();
	return result;
}

async function payouts() {
	await refkit.balances("warm-up"); // the connection is open, the programs read
	const rssBeforeMb = mb(process.memoryUsage().rss);
	const start = performance.now();
	const run = await refkit.createPayouts();
	const ms = performance.now() - start;
	// The heap is followed by the parent through --trace-gc: on SQLite every query settles in microtasks, so a
	// timer sampling it here would not run until the end.
	return { ms, run, rssBeforeMb, peakRssMb: peakRssMb() };
}

/** `count` calls of `call(i)`, `concurrency` at a time: calls per second. */
async function throughput(count, concurrency, call) {
	let next = 0;
	const start = performance.now();
	await Promise.all(
		Array.from({ length: concurrency }, async () => {
			while (next < count) await call(next++);
		}),
	);
	return count / ((performance.now() - start) / 1000);
}

async function sales() {
	const { buyers, count, concurrency } = options;
	const statuses = {};
	const sale = (prefix) => async (i) => {
		const result = await refkit.recordSale({
			externalId: `${prefix}-${i}`,
			userId: buyers[i % buyers.length],
			amount: 1000 + (i % 5000),
			currency: "USD",
		});
		statuses[result.status] = (statuses[result.status] ?? 0) + 1;
	};
	await throughput(Math.min(200, count), concurrency, sale("warm")); // JIT, connections, programs saved
	for (const key of Object.keys(statuses)) delete statuses[key];
	const perSecond = await throughput(count, concurrency, sale("bench"));
	// The floor: one INSERT per transaction into a bare table, at the same concurrency, through the driver.
	let bare;
	if (sqlite) {
		const db = new Database(database);
		db.pragma("journal_mode = WAL");
		db.pragma("synchronous = NORMAL");
		db.exec("drop table if exists bench_bare");
		db.exec("create table bench_bare (id text primary key, amount integer not null)");
		const insert = db.prepare("insert into bench_bare (id, amount) values (?, ?)");
		bare = await throughput(count, 1, async (i) => {
			db.exec("begin immediate");
			insert.run(`bare-${i}`, i);
			db.exec("commit");
		});
		db.close();
	} else {
		const pool = new pg.Pool({ connectionString: database, max: 10 });
		await pool.query("drop table if exists bench_bare");
		await pool.query("create table bench_bare (id text primary key, amount bigint not null)");
		bare = await throughput(count, concurrency, async (i) => {
			const client = await pool.connect();
			try {
				await client.query("begin");
				await client.query("insert into bench_bare (id, amount) values ($1, $2)", [`bare-${i}`, i]);
				await client.query("commit");
			} finally {
				client.release();
			}
		});
		await pool.end();
	}
	return { perSecond, bare, statuses, peakRssMb: peakRssMb() };
}

const tasks = { balance, payouts, sales };
try {
	const result = await tasks[task]();
	console.log(JSON.stringify(result));
} finally {
	await refkit.close();
}
