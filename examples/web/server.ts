import { type Http2Bindings, type HttpBindings, serve } from "@hono/node-server";
import { refkitHandler } from "refkit/web";
import { port, refkit, userFromCookie } from "../setup.js";

/**
 * `npm run example:web`: refkit in front of a plain Web-standard `fetch` function, as on Bun, Deno or
 * Cloudflare; here it runs on Node.js through @hono/node-server, on http://localhost:3000.
 */

/** The site's own pages. */
function app(request: Request): Response {
	if (request.method !== "GET" || new URL(request.url).pathname !== "/") {
		return new Response("Not found\n", { status: 404 });
	}
	const user = userFromCookie(request.headers.get("cookie"));
	return new Response(`${user ? `Logged in as ${user}` : "Not logged in"}. Try the link /ref/example\n`);
}

const handle = refkitHandler(refkit, {
	getUserId: (request) => userFromCookie(request.headers.get("cookie")),
});
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
