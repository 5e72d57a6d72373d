// One racer of test/setup/racers.ts: a process of its own, holding refkits of the built package (dist/) on the
// databases it is told to open, each with its own PostgreSQL pool or SQLite connection. It reads commands from
// stdin, one JSON line each, and answers each with one line prefixed with `race-reply `:
//   { id, open: name, database, options }  opens a refkit (its pool's 10 connections too) -> { id }
//   { id, on: name, calls: [{ method, args, delay? }] }  starts every call at once (or `delay` ms later)
//                                 -> { id, results: [{ ok, value } | { ok, code, message }], reported }
//   { id, close: name }                    closes it -> { id }
// Dates travel as { $date: iso } in arguments, as ISO strings in replies. Each result has the times (ms since
// 1970) its call started and ended. `reported` lists what refkit passed
// to onError meanwhile.
import { createInterface } from "node:readline";
import { createRefkit, isRefkitError } from "../../dist/index.js";

const REPLY = "race-reply ";
const refkits = new Map();
const reported = [];

const revive = (_key, value) =>
	typeof value === "object" && value !== null && "$date" in value ? new Date(value.$date) : value;

async function call(refkit, { method, args, delay }) {
	if (delay) await new Promise((resolve) => setTimeout(resolve, delay));
	const started = Date.now();
	try {
		if (typeof refkit[method] !== "function") throw new Error(`refkit has no method ${method}`);
		return { ok: true, value: await refkit[method](...args), started, ended: Date.now() };
	} catch (error) {
		return {
			ok: false,
			started,
			ended: Date.now(),
			code: isRefkitError(error) ? error.code : null,
			message: error instanceof Error ? error.message : String(error),
		};
	}
}

async function handle(command) {
	if (command.open !== undefined) {
		const refkit = createRefkit({
			database: command.database,
			...command.options,
			onError: (error) => reported.push(String(error)),
		});
		refkits.set(command.open, refkit);
		// Every connection opened before the race, so that the race is not one of connecting.
		await Promise.all(Array.from({ length: 10 }, () => refkit.balances("race-warm-up")));
		return {};
	}
	const refkit = refkits.get(command.on ?? command.close);
	if (refkit === undefined) throw new Error(`no refkit named ${command.on ?? command.close}`);
	if (command.close !== undefined) {
		refkits.delete(command.close);
		await refkit.close();
		return {};
	}
	const results = await Promise.all(command.calls.map((c) => call(refkit, c)));
	return { results, reported: reported.splice(0) };
}

const running = new Set();
const lines = createInterface({ input: process.stdin });
lines.on("line", (line) => {
	const command = JSON.parse(line, revive);
	const done = handle(command).then(
		(reply) => process.stdout.write(`${REPLY}${JSON.stringify({ id: command.id, ...reply })}\n`),
		(error) => process.stdout.write(`${REPLY}${JSON.stringify({ id: command.id, error: String(error) })}\n`),
	);
	running.add(done);
	done.finally(() => running.delete(done));
});
lines.on("close", async () => {
	await Promise.all(running);
	await Promise.all([...refkits.values()].map((refkit) => refkit.close()));
});
process.stdout.write(`${REPLY}${JSON.stringify({ id: "ready" })}\n`);
