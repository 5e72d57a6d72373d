import { type Http2Bindings, type HttpBindings, serve } from "@hono/node-server";
import { createRefkit } from "refkit";
import { refkitHandler } from "refkit/web";

/**
 * `npm run example:web`: refkit in front of a plain Web-standard `fetch` function, as on Bun, Deno or
 * Cloudflare; here it runs on Node.js through @hono/node-server, on http://localhost:3000.
 */

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

// Who is logged in: here, whoever the `user` cookie names. A real application asks its session.
function currentUser(request: Request): string | null {
	return /(?:^|;\s*)user=([^;]+)/.exec(request.headers.get("cookie") ?? "")?.[1] ?? null;
}

/** The site's own pages. */
function app(request: Request): Response {
	if (request.method !== "GET" || new URL(request.url).pathname !== "/") {
		return new Response("Not found\n", { status: 404 });
	}
	const user = currentUser(request);
	return new Response(`${user ? `Logged in as ${user}` : "Not logged in"}. Try the link /ref/example\n`);
}

const handle = refkitHandler(refkit, { getUserId: currentUser });
// With `next`, refkit's cookies are added to the site's response; the `??` only satisfies the types.
const fetch = async (request: Request, env: HttpBindings | Http2Bindings) =>
	(await handle(request, { remoteAddress: env.incoming.socket.remoteAddress, next: () => app(request) })) ??
	app(request);

const server = serve({ fetch, port }, (info) => {
	console.log(`listening on http://localhost:${info.port}`);
});

for (const signal of ["SIGINT", "SIGTERM"] as const) {
	process.once(signal, () => {
		server.close();
		void refkit.close();
	});
}
