// An application server for the load tests, run by test/load/server.ts: Express with refkit installed as the
// README says, importing the built package from dist/. `node app.mjs` serves on a free port of 127.0.0.1 and
// prints `listening on http://127.0.0.1:<port>`. With WORKERS=n (n > 0) it is the primary of a node:cluster
// of n worker processes sharing that port, each with its own refkit on the same database.
//
// Environment: DATABASE_URL (a SQLite path or a postgres:// URL), REFKIT_SECRET, WORKERS (default 0).
// Who is logged in is the `x-test-user` header. Every response carries `x-worker: <pid>`.
//   GET  /ref/<id>?next=...  follows a link (refkit)
//   GET  /                   any page: a logged-in request with the visitor cookie claims its hits (refkit)
//   POST /signup             refkit.claim(visitor cookie) then confirm({ goal: "signup" }, reward)
//   POST /purchase           confirm({ goal: "purchase", value: 25 }, reward)
// The reward writes one row to the application's table reward_ledger (made by the test), in the
// conversion's transaction. Every error refkit absorbs is printed as a line `refkit error (<operation>)`.
import cluster from "node:cluster";
import { createServer } from "node:http";
import express from "express";

const database = process.env.DATABASE_URL;
const secret = process.env.REFKIT_SECRET;
const workers = Number(process.env.WORKERS ?? 0);
if (!database || !secret) throw new Error("app.mjs needs DATABASE_URL and REFKIT_SECRET");

if (workers > 0 && cluster.isPrimary) {
	let listening = 0;
	let stopping = false;
	cluster.on("listening", (_worker, address) => {
		if (++listening === workers) console.log(`listening on http://127.0.0.1:${address.port}`);
	});
	cluster.on("exit", (worker, code, signal) => {
		if (stopping) {
			if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
			return;
		}
		console.error(`worker ${worker.process.pid} exited (${signal ?? code})`);
		process.exit(1);
	});
	for (const signal of ["SIGTERM", "SIGINT"]) {
		process.once(signal, () => {
			stopping = true;
			for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill("SIGTERM");
		});
	}
	for (let i = 0; i < workers; i++) cluster.fork();
} else {
	const dist = new URL("../../dist/", import.meta.url);
	const { createRefkit } = await import(new URL("index.js", dist).href);
	const { refkitMiddleware } = await import(new URL("adapters/express.js", dist).href);

	const refkit = createRefkit({
		database,
		secret,
		onError: (error, context) => console.error(`refkit error (${context.operation}):`, error),
	});
	await refkit.migrate();

	const reward = (tx, conversion) =>
		tx
			.insertInto("reward_ledger")
			.values({
				conversion_id: conversion.id,
				referred: conversion.referredUserId,
				referrer: conversion.referrerUserId,
				goal: conversion.goal,
				cents: 500,
			})
			.execute();
	const user = (req) => req.get("x-test-user") ?? null;
	const visitorCookie = (req) =>
		/(?:^|;\s*)refkit_visitor=([^;]*)/.exec(req.get("cookie") ?? "")?.[1] ?? null;

	const app = express();
	app.use((_req, res, next) => {
		res.setHeader("x-worker", String(process.pid));
		next();
	});
	app.use(refkitMiddleware(refkit, { getUserId: user }));
	app.get("/", (_req, res) => void res.send("home"));
	app.post("/signup", async (req, res) => {
		const claimed = await refkit.claim(visitorCookie(req), user(req));
		const result = await refkit.confirm({ userId: user(req), goal: "signup" }, reward);
		res.json({ claimed, status: result.status });
	});
	app.post("/purchase", async (req, res) => {
		const result = await refkit.confirm({ userId: user(req), goal: "purchase", value: 25 }, reward);
		res.json({ status: result.status });
	});
	app.use((error, _req, res, _next) => {
		console.error("route error:", error);
		res.status(500).json({ error: String(error) });
	});

	const server = createServer(app);
	server.listen(0, "127.0.0.1", () => {
		if (workers === 0) console.log(`listening on http://127.0.0.1:${server.address().port}`);
	});
	process.once("SIGTERM", () => {
		server.close();
		server.closeAllConnections();
		void refkit.close().then(() => process.exit(0));
	});
}
