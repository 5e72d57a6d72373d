import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { refkitMiddleware } from "refkit/hono";
import { port, refkit, userFromCookie } from "../setup.js";

/** `npm run example:hono`: refkit in a Hono application on Node.js, on http://localhost:3000. */

const app = new Hono();
// Who is logged in: here, whoever the `user` cookie names. A real application asks its session.
app.use(refkitMiddleware(refkit, { getUserId: (c) => userFromCookie(c.req.header("cookie")) }));
app.get("/", (c) => {
	const user = userFromCookie(c.req.header("cookie"));
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
