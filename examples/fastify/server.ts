import type { AddressInfo } from "node:net";
import Fastify from "fastify";
import { refkitPlugin } from "refkit/fastify";
import { port, refkit, userFromCookie } from "../setup.js";

/** `npm run example:fastify`: refkit in a Fastify 5 application, on http://localhost:3000. */

const app = Fastify();
await app.register(refkitPlugin, { refkit, getUserId: (request) => userFromCookie(request.headers.cookie) });
app.get("/", async (request) => {
	const user = userFromCookie(request.headers.cookie);
	return `${user ? `Logged in as ${user}` : "Not logged in"}. Try the link /ref/example\n`;
});

await app.listen({ port }); // on localhost only: pass host: "0.0.0.0" to accept other machines
console.log(`listening on http://localhost:${(app.server.address() as AddressInfo).port}`);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
	process.once(signal, async () => {
		await app.close();
		await refkit.close();
	});
}
