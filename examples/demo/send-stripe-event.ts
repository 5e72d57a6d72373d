import { parseArgs } from "node:util";
import { DEVELOPMENT_STRIPE_SECRET, deliverSigned, paidInvoiceEvent, STRIPE_WEBHOOK_PATH } from "./stripe.js";

/**
 * Sends the running demo the `invoice.paid` event Stripe would send when `--user` pays an invoice of
 * `--amount` cents, signed with STRIPE_WEBHOOK_SECRET (or the demo's development secret), as the "Pay with
 * Stripe (test event)" button does:
 *
 *   npx tsx examples/demo/send-stripe-event.ts --user bob --amount 4900 [--url http://localhost:3000/webhooks/stripe]
 *   npm run demo:stripe-event -- --user bob
 */

const USAGE =
	"usage: send-stripe-event --user NAME [--amount CENTS (default 4900)] [--currency usd] [--url http://localhost:3000/webhooks/stripe]";

function fail(message: string): never {
	console.error(`send-stripe-event: ${message}`);
	process.exit(1);
}

let values: { user?: string; amount?: string; currency?: string; url?: string; help?: boolean };
try {
	({ values } = parseArgs({
		options: {
			user: { type: "string" },
			amount: { type: "string", default: "4900" },
			currency: { type: "string", default: "usd" },
			url: { type: "string" },
			help: { type: "boolean", short: "h" },
		},
	}));
} catch (error) {
	fail(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
}
if (values.help) {
	console.log(USAGE);
	process.exit(0);
}
const user = values.user?.trim() ?? "";
if (user === "") fail(`--user is required: the demo's user who pays.\n${USAGE}`);
const amount = Number(values.amount);
if (!/^[0-9]{1,9}$/.test(values.amount ?? "") || amount <= 0) {
	fail(`--amount is a whole number of cents, as Stripe counts: 4900 is 49.00 (got ${values.amount}).`);
}
const currency = (values.currency ?? "usd").toLowerCase();
const url = values.url ?? `http://localhost:${process.env.PORT || 3000}${STRIPE_WEBHOOK_PATH}`;
const secret = process.env.STRIPE_WEBHOOK_SECRET || DEVELOPMENT_STRIPE_SECRET;

const event = paidInvoiceEvent({ userId: user, amount, currency });
try {
	const { status, body } = await deliverSigned(url, event, secret);
	const what = body.error ?? `${body.status}: ${body.outcome}`;
	console.log(`Stripe event ${event.id} (invoice.paid, ${event.data.object.id}): ${status} ${what}`);
	if (status !== 200) process.exitCode = 1;
} catch (error) {
	const cause =
		error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : error;
	fail(`nothing answered at ${url} (${String(cause)}): is the demo running? npm start`);
}
