import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { getCookie } from "hono/cookie";
import { createRefkit } from "refkit";
import { refkitMiddleware } from "refkit/hono";

/** `npm run example:hono`: refkit in a Hono application on Node.js, on http://localhost:3000. */

const port = Number(process.env.PORT ?? 3000);
const database = process.env.DATABASE_URL ?? "example.sqlite";
let secret = process.env.REFKIT_SECRET;
if (!secret) {
	console.warn("REFKIT_SECRET is not set; using a development secret. Never do this in production.");
	secret = "refkit-example-development-secret-change-me";
}

const refkit = createRefkit({ database, secret });
await refkit.migrate();
if (!(await refkit.getLink("example"))) await refkit.createLink({ identifier: "example", userId: "alice" });

const app = new Hono();
// Who is logged in: here, whoever the `user` cookie names. A real application asks its session.
app.use(refkitMiddleware(refkit, { getUserId: (c) => getCookie(c, "user") }));
app.get("/", (c) => {
	const user = getCookie(c, "user");
	return c.text(`${user ? `Logged in as ${user}` : "Not logged in"}. Try the link /ref/example\n`);
});

const server = serve({ fetch: app.fetch, port }, (info) => {
	console.log(`listening on http://localhost:${info.port}`);
});

for (const signal of ["SIGINT", "SIGTERM"] as const) {
	process.once(signal, () => {
		server.close();
		void refkit.close();
	});
}
