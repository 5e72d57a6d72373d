import type { AddressInfo } from "node:net";
import express from "express";
import { createRefkit } from "refkit";
import { refkitMiddleware } from "refkit/express";

/** `npm run example:express`: refkit in an Express 5 application, on http://localhost:3000. */

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

const app = express();
app.use(refkitMiddleware(refkit, { getUserId: (req) => currentUser(req.headers.cookie) }));
app.get("/", (req, res) => {
	const user = currentUser(req.headers.cookie);
	res.type("text").send(`${user ? `Logged in as ${user}` : "Not logged in"}. Try the link /ref/example\n`);
});

const server = app.listen(port, (error) => {
	if (error) throw error; // Express 5 hands listening errors (a port in use) to this callback.
	console.log(`listening on http://localhost:${(server.address() as AddressInfo).port}`);
});

for (const signal of ["SIGINT", "SIGTERM"] as const) {
	process.once(signal, () => {
		server.close();
		void refkit.close();
	});
}
