import type { AddressInfo } from "node:net";
import express from "express";
import { refkitMiddleware } from "refkit/express";
import { port, refkit, userFromCookie } from "../setup.js";

/** `npm run example:express`: refkit in an Express 5 application, on http://localhost:3000. */

const app = express();
app.use(refkitMiddleware(refkit, { getUserId: (req) => userFromCookie(req.headers.cookie) }));
app.get("/", (req, res) => {
	const user = userFromCookie(req.headers.cookie);
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
