import { fileURLToPath } from "node:url";
import { createRefkit } from "refkit";
import { createDemoApp } from "./app.js";
import { DEFAULT_HOLD_DAYS, demoProgram, describeEvent, holdDaysFrom } from "./program.js";
import { DEVELOPMENT_STRIPE_SECRET, STRIPE_WEBHOOK_PATH } from "./stripe.js";

/**
 * `npm start`: the demo on http://localhost:3000, with its data in demo.sqlite in the project folder. Reads
 * PORT, HOST (default 127.0.0.1), DEMO_DATABASE_URL (default demo.sqlite), REFKIT_SECRET,
 * REFKIT_DEMO_HOLD_DAYS (the days before a commission is payable, default 14; 0 makes it payable at once) and
 * STRIPE_WEBHOOK_SECRET (the signing secret of /webhooks/stripe, whsec_...: `stripe listen` prints one).
 */

const DEVELOPMENT_SECRET = "refkit-demo-development-secret-change-me-0000";
const port = Number(process.env.PORT ?? 3000);
// Only a database named for the demo: an exported DATABASE_URL (perhaps production's) is never used, since
// anyone who reaches the demo may log in as "admin" without a password.
const database =
	process.env.DEMO_DATABASE_URL || fileURLToPath(new URL("../../demo.sqlite", import.meta.url));
// This machine only, unless HOST says otherwise (HOST=0.0.0.0 to show it on your network).
const host = process.env.HOST || "127.0.0.1";
let secret = process.env.REFKIT_SECRET;
if (!secret) {
	if (process.env.NODE_ENV === "production") {
		console.error("refkit demo: NODE_ENV is production, so REFKIT_SECRET must be set: openssl rand -hex 32");
		process.exit(1);
	}
	console.warn(
		"refkit demo: REFKIT_SECRET is not set; using a development secret. Never do this in production.",
	);
	secret = DEVELOPMENT_SECRET;
}

let stripeSecret = process.env.STRIPE_WEBHOOK_SECRET;
if (!stripeSecret) {
	if (process.env.NODE_ENV === "production") {
		console.error(
			"refkit demo: NODE_ENV is production, so STRIPE_WEBHOOK_SECRET must be set: your endpoint's signing secret, whsec_...",
		);
		process.exit(1);
	}
	console.warn(
		`refkit demo: STRIPE_WEBHOOK_SECRET is not set; ${STRIPE_WEBHOOK_PATH} checks signatures with a development secret. Never do this in production.`,
	);
	stripeSecret = DEVELOPMENT_STRIPE_SECRET;
} else if (!stripeSecret.startsWith("whsec_")) {
	console.error(
		"refkit demo: STRIPE_WEBHOOK_SECRET must be a webhook endpoint's signing secret, whsec_... (Stripe's dashboard > Webhooks, or `stripe listen`), not an API key.",
	);
	process.exit(1);
}

const holdDays = holdDaysFrom(process.env.REFKIT_DEMO_HOLD_DAYS);
if (typeof holdDays !== "number") {
	console.error(`refkit demo: ${holdDays.error}`);
	process.exit(1);
}
if (holdDays !== DEFAULT_HOLD_DAYS) {
	console.log(`refkit demo: commissions are payable after ${holdDays} days (REFKIT_DEMO_HOLD_DAYS)`);
}

const refkit = createRefkit({ database, secret, programs: [demoProgram(holdDays)] });
await refkit.migrate();
const server = createDemoApp(refkit, secret, stripeSecret).listen(
	port,
	host,
	(error?: NodeJS.ErrnoException) => {
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
		// A URL's password stays out of the console.
		const shown = database.replace(/(:\/\/[^/:@]*):[^/@]*@/, "$1:***@");
		const where = host === "127.0.0.1" ? "localhost" : host.includes(":") ? `[${host}]` : host;
		console.log(`refkit demo listening on http://${where}:${actual} (database: ${shown})`);
	},
);

// The outboxes: every conversion, and every event of the ledger (commissions, sales, payouts), is handed to a
// delivery handler at least once. A real application sends an email, credits an account or posts a webhook
// (webhookSender, signed as Standard Webhooks says, with a whsec_ secret) here; the demo says it on the console.
const outbox = setInterval(() => {
	void refkit
		.deliverConversions(async ({ type, conversion }) => {
			console.log(
				`refkit demo: delivered the ${type} of ${conversion.referredUserId}'s ${conversion.goal}, credited to ${conversion.referrerUserId}`,
			);
		})
		.then(() =>
			refkit.deliverEvents(async ({ event }) => {
				console.log(`refkit demo: ${describeEvent(event)}`);
			}),
		)
		.catch((error: unknown) => console.error("refkit demo: delivering failed:", error));
}, 1000);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
	process.once(signal, () => {
		clearInterval(outbox);
		server.close();
		void refkit.close();
	});
}
