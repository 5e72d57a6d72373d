import type { AddressInfo } from "node:net";
import Fastify from "fastify";
import { createRefkit } from "refkit";
import { refkitPlugin } from "refkit/fastify";

/** `npm run example:fastify`: refkit in a Fastify 5 application, on http://localhost:3000. */

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
function currentUser(cookieHeader: string | undefined): string | null {
	return /(?:^|;\s*)user=([^;]+)/.exec(cookieHeader ?? "")?.[1] ?? null;
}

const app = Fastify();
await app.register(refkitPlugin, { refkit, getUserId: (request) => currentUser(request.headers.cookie) });
app.get("/", async (request) => {
	const user = currentUser(request.headers.cookie);
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
