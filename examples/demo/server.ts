import { fileURLToPath } from "node:url";
import { createRefkit } from "refkit";
import { createDemoApp } from "./app.js";

/** `npm start`: the demo on http://localhost:3000, with its data in demo.sqlite in the project folder. */

const DEVELOPMENT_SECRET = "refkit-demo-development-secret-change-me-0000";
const port = Number(process.env.PORT ?? 3000);
const database = process.env.DATABASE_URL ?? fileURLToPath(new URL("../../demo.sqlite", import.meta.url));
let secret = process.env.REFKIT_SECRET;
if (!secret) {
	console.warn(
		"refkit demo: REFKIT_SECRET is not set; using a development secret. Never do this in production.",
	);
	secret = DEVELOPMENT_SECRET;
}

const refkit = createRefkit({ database, secret });
await refkit.migrate();
const server = createDemoApp(refkit, secret).listen(port, (error?: NodeJS.ErrnoException) => {
	// Express 5 hands listen errors (a port in use) to this callback instead of throwing them.
	if (error?.code === "EADDRINUSE" || error?.code === "EACCES") {
		const why = error.code === "EADDRINUSE" ? "is in use by another program" : "needs privileges";
		console.error(
			`refkit demo: port ${port} ${why}. Choose another: PORT=3001 npm start (or refkit demo --port 3001).`,
		);
		process.exit(1);
	}
	if (error) throw error;
	const address = server.address();
	const actual = typeof address === "object" && address ? address.port : port;
	console.log(`refkit demo listening on http://localhost:${actual} (database: ${database})`);
});

// The outbox: every conversion is handed to a delivery handler at least once. A real application sends an
// email, credits an account or posts a webhook (webhookSender) here; the demo says it on the console.
const outbox = setInterval(() => {
	void refkit
		.deliverConversions(async ({ type, conversion }) => {
			console.log(
				`refkit demo: delivered the ${type} of ${conversion.referredUserId}'s ${conversion.goal}, credited to ${conversion.referrerUserId}`,
			);
		})
		.catch((error: unknown) => console.error("refkit demo: delivering failed:", error));
}, 1000);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
	process.once(signal, () => {
		clearInterval(outbox);
		server.close();
		void refkit.close();
	});
}
