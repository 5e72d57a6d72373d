// One server under test, started by bench/run.ts in a process of its own (so that its peak RSS is its own).
// It imports the built package (dist/), as an application would. Settings come from the environment:
//   BENCH_FRAMEWORK  node | web | express | fastify | hono
//   BENCH_REFKIT     1 to install refkit (the routes below are then behind its middleware); noop to install
//                    an empty middleware of the same shape instead (what any middleware costs); else 0
//   BENCH_DATABASE   refkit's database (a SQLite path or a postgres:// URL)
//   BENCH_WRITES     refkit's `hitWrites` option (durable by default)
//   BENCH_PORT       the port to listen on (127.0.0.1)
// Routes: GET /bare answers 302 with a Set-Cookie (case a); GET /page answers 200 "hello" (cases c and d);
// /ref/<id> is refkit's. The logged-in user, if any, is the `x-user` header's.
import { createServer } from "node:http";

const framework = process.env.BENCH_FRAMEWORK ?? "node";
const withRefkit = process.env.BENCH_REFKIT === "1";
const noop = process.env.BENCH_REFKIT === "noop";
const port = Number(process.env.BENCH_PORT ?? 3100);
const COOKIE = "session=0123456789abcdef; Path=/; HttpOnly; SameSite=Lax";
const userOf = (value) => (typeof value === "string" && value !== "" ? value : null);

let refkit = null;
if (withRefkit) {
	const { createRefkit } = await import("../dist/index.js");
	refkit = createRefkit({
		database: process.env.BENCH_DATABASE,
		secret: "bench-secret-0123456789abcdef0123456789abcdef",
		...(process.env.BENCH_WRITES ? { hitWrites: process.env.BENCH_WRITES } : {}),
		onError: (error) => console.error("refkit:", error),
	});
}

let server;
if (framework === "node") {
	server = createServer((req, res) => {
		if (req.url === "/bare") {
			res.writeHead(302, { Location: "/", "Set-Cookie": COOKIE });
			res.end();
		} else {
			res.writeHead(200, { "Content-Type": "text/plain" });
			res.end("hello");
		}
	});
} else if (framework === "web") {
	const { getRequestListener } = await import("@hono/node-server");
	const page = () => new Response("hello", { headers: { "Content-Type": "text/plain" } });
	const bare = () => new Response(null, { status: 302, headers: { Location: "/", "Set-Cookie": COOKIE } });
	let fetch = (request) => (request.url.endsWith("/bare") ? bare() : page());
	if (refkit) {
		const { refkitHandler } = await import("../dist/adapters/web.js");
		const handle = refkitHandler(refkit, { getUserId: (request) => userOf(request.headers.get("x-user")) });
		const app = fetch;
		fetch = async (request) => (await handle(request, { next: () => app(request) })) ?? app(request);
	} else if (noop) {
		// What refkit's handler cannot avoid: an async wrapper that reads the URL and the Cookie header.
		const app = fetch;
		const handle = async (request) => (request.url && request.headers.get("cookie") ? null : null);
		fetch = async (request) => (await handle(request)) ?? app(request);
	}
	server = createServer(getRequestListener(fetch));
} else if (framework === "express") {
	const { default: express } = await import("express");
	const app = express();
	if (refkit) {
		const { refkitMiddleware } = await import("../dist/adapters/express.js");
		app.use(refkitMiddleware(refkit, { getUserId: (req) => userOf(req.headers["x-user"]) }));
	} else if (noop) {
		app.use((_req, _res, next) => next());
	}
	app.get("/bare", (_req, res) => {
		res.setHeader("Set-Cookie", COOKIE);
		res.redirect(302, "/");
	});
	app.get("/page", (_req, res) => {
		res.type("text/plain").send("hello");
	});
	server = createServer(app);
} else if (framework === "fastify") {
	const { default: Fastify } = await import("fastify");
	const app = Fastify();
	if (refkit) {
		const { refkitPlugin } = await import("../dist/adapters/fastify.js");
		await app.register(refkitPlugin, { refkit, getUserId: (request) => userOf(request.headers["x-user"]) });
	} else if (noop) {
		app.addHook("onRequest", (_request, _reply, done) => done());
	}
	app.get("/bare", (_request, reply) => reply.header("set-cookie", COOKIE).redirect("/", 302));
	app.get("/page", (_request, reply) => reply.type("text/plain").send("hello"));
	await app.ready();
	server = app.server;
} else if (framework === "hono") {
	const { Hono } = await import("hono");
	const { getRequestListener } = await import("@hono/node-server");
	const app = new Hono();
	if (refkit) {
		const { refkitMiddleware } = await import("../dist/adapters/hono.js");
		app.use(refkitMiddleware(refkit, { getUserId: (c) => userOf(c.req.header("x-user")) }));
	} else if (noop) {
		app.use(async (_c, next) => next());
	}
	app.get("/bare", (c) => {
		c.header("Set-Cookie", COOKIE);
		return c.redirect("/", 302);
	});
	app.get("/page", (c) => c.text("hello"));
	server = createServer(getRequestListener(app.fetch));
} else {
	throw new Error(`unknown BENCH_FRAMEWORK ${framework}`);
}

server.keepAliveTimeout = 60_000;
server.listen(port, "127.0.0.1", () => console.log("ready"));
const stop = async () => {
	server.close();
	server.closeAllConnections?.();
	await refkit?.close();
	process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
