import { createHmac, randomUUID, timingSafeEqual } from "node:crypto";
import express, { type Request, type Response } from "express";
import { type Refkit, safeRedirectPath } from "refkit";
import { refkitDashboard, refkitMiddleware, refkitReferrerPage, webhookEndpoint } from "refkit/express";
import { stripeWebhooks } from "refkit/stripe";
import { earningsSection } from "./earnings.js";
import { escapeHtml, table, when } from "./html.js";
import { money, toCents } from "./program.js";
import { type DeliveryAnswer, deliverSigned, paidInvoiceEvent, STRIPE_WEBHOOK_PATH } from "./stripe.js";

/**
 * The demo application: log in by name, get your referral link, share it, and watch what it earns under the
 * demo's referral program (program.ts). A real application has its own sessions; the demo's is a signed
 * `demo_user` cookie so that it needs nothing else.
 */

const SESSION_COOKIE = "demo_user";
const USERNAME = /^[A-Za-z0-9_.-]{1,40}$/;

function sessionValue(username: string, secret: string): string {
	const signature = createHmac("sha256", secret).update(`demo-session:${username}`).digest("base64url");
	return `${username}.${signature}`;
}

/** The value of cookie `name` in the request, or "". */
function cookieValue(req: Request, name: string): string {
	const pair = (req.headers.cookie ?? "")
		.split(";")
		.map((part) => part.trim())
		.find((part) => part.startsWith(`${name}=`));
	return pair?.slice(name.length + 1) ?? "";
}

function sessionUser(req: Request, secret: string): string | null {
	const value = cookieValue(req, SESSION_COOKIE);
	const username = value.slice(0, value.lastIndexOf("."));
	if (!USERNAME.test(username)) return null;
	const expected = Buffer.from(sessionValue(username, secret));
	const given = Buffer.from(value);
	return given.length === expected.length && timingSafeEqual(given, expected) ? username : null;
}

/**
 * How the referrer page and its leaderboard name the demo's users, to show the `displayName` hook: a first
 * name and initials, `alice` as "Alice", `bob.smith` as "Bob S.". A real application answers its users'
 * display names, never an email address.
 */
function shortName(username: string): string {
	const [first = "", ...rest] = username.split(/[._-]+/).filter((part) => part !== "");
	const initials = rest.map((part) => `${part.charAt(0).toUpperCase()}.`).join(" ");
	return `${first.charAt(0).toUpperCase()}${first.slice(1, 12)}${initials ? ` ${initials}` : ""}`;
}

const PURCHASE_MESSAGES: Record<string, string> = {
	converted: "Thank you! Your purchase was credited to the friend who referred you.",
	"already-converted": "Thank you! Your first purchase was already credited to your referrer.",
	"no-referral": "Thank you! Nobody referred you, so nobody is credited.",
	"self-referral": "Thank you! A purchase through your own link credits nobody.",
	"outside-window": "Thank you! Your referral is too old to be credited.",
};

/** A price typed in a form ("25", "9.99"), or null when it is not a positive amount of at most two decimals. */
function priceFrom(value: unknown): string | null {
	const text = typeof value === "string" ? value.trim() : "";
	return /^[0-9]{1,7}(\.[0-9]{1,2})?$/.test(text) && Number(text) > 0 ? text : null;
}

/** An amount as the dashboard shows it: "25", "9.99", "1,250.5". */
function amount(value: number): string {
	return value.toLocaleString("en-US", { maximumFractionDigits: 2 });
}

/** Whether the outbox handed the conversion to the demo's delivery handler (see server.ts). */
function delivered(at: Date | null): string {
	return at === null ? '<span class="muted">pending</span>' : when(at);
}

/** Says what this process redirected without recording, and why: bots and test browsers are not people. */
function skippedNote(refkit: Refkit): string {
	const { hitsRecorded, hitsSkipped } = refkit.counters();
	const parts = Object.entries(hitsSkipped)
		.filter(([, count]) => count > 0)
		.map(([reason, count]) => `${count} ${SKIP_LABELS[reason] ?? reason}`);
	if (parts.length === 0) return "";
	return `<p class="muted" id="skipped">Since the demo started it recorded ${hitsRecorded} visit${hitsRecorded === 1 ? "" : "s"} and redirected without recording ${parts.join(", ")}. A headless browser, <code>curl</code> or a link preview is not a person: see "Testing end to end" in refkit's docs/links-and-hits.md.</p>`;
}

const SKIP_LABELS: Record<string, string> = {
	bot: "from bots",
	preview: "link previews",
	head: "HEAD requests",
	duplicate: "repeats",
	consent: "without consent",
};

/** Progressive enhancement: the Copy button appears only where the clipboard can be written. */
const COPY_SCRIPT = `const button = document.getElementById("copy-link");
if (button && navigator.clipboard) {
  button.hidden = false;
  button.addEventListener("click", async () => {
    await navigator.clipboard.writeText(button.dataset.copy);
    button.textContent = "Copied";
  });
}`;

function page(title: string, body: string): string {
	return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 44rem; margin: 3rem auto; padding: 0 1rem; color: #1f2933; }
  h1 { font-size: 1.6rem; } code, .link { font-family: ui-monospace, monospace; background: #f0f4f8; padding: .15rem .4rem; border-radius: 4px; }
  .link { display: inline-block; font-size: 1.1rem; padding: .5rem .75rem; }
  table { border-collapse: collapse; width: 100%; margin-top: 1rem; } th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid #d9e2ec; }
  form { margin: 1rem 0; } input, button { font: inherit; padding: .4rem .6rem; } button { cursor: pointer; }
  .muted { color: #627d98; } .notice { background: #e3f9e5; padding: .5rem .75rem; border-radius: 4px; }
</style></head><body>${body}</body></html>`;
}

/**
 * The URL of this server's own `path`, on the address and port the request came in on (the demo may listen on
 * any port, `PORT=0` included): where the "Pay with Stripe" form delivers its event.
 */
function ownUrl(req: Request, path: string): string {
	const address = req.socket.localAddress ?? "127.0.0.1";
	return `http://${address.includes(":") ? `[${address}]` : address}:${req.socket.localPort}${path}`;
}

/** What a test event came to, in a sentence for the user who sent it. */
async function stripeOutcome(refkit: Refkit, invoice: string, eventId: string, answer: DeliveryAnswer) {
	const { status, body } = answer;
	if (status !== 200) return `Stripe event ${eventId}: the endpoint answered ${status}: ${body.error ?? ""}`;
	const sale = body.status === "applied" ? await refkit.getSale(invoice) : null;
	if (sale !== null) {
		return `Stripe event ${eventId}: recorded sale ${sale.externalId} of ${money(sale.amount, sale.currency)}, credited to ${sale.referrerUserId}.`;
	}
	return `Stripe event ${eventId}: ${body.status}: ${body.outcome ?? ""}.`;
}

/**
 * The demo's Express application, with refkit installed exactly as the README's quick start shows, and
 * Stripe's webhooks received at /webhooks/stripe, checked with `stripeSecret` (whsec_...).
 */
export function createDemoApp(refkit: Refkit, secret: string, stripeSecret: string): express.Express {
	const app = express();
	// Stripe's webhooks, before any body parser: a signature is over the raw body. The user who paid is the one
	// the checkout put in the invoice's (or the checkout session's) metadata.userId; none, and the event waits.
	app.post(
		STRIPE_WEBHOOK_PATH,
		webhookEndpoint(
			stripeWebhooks(refkit, {
				secret: stripeSecret,
				userId: (_customer, event) => {
					const object = event.data.object as { metadata?: Record<string, string> | null };
					return object.metadata?.userId ?? null;
				},
			}),
		),
	);
	app.use(express.urlencoded({ extended: false }));
	// What each "Pay with Stripe" test event came to, by its event id, for the user who sent it (the latest 100).
	const stripeOutcomes = new Map<string, { user: string; text: string }>();
	app.use(refkitMiddleware(refkit, { getUserId: (req) => sessionUser(req, secret) }));
	// The referral dashboard, for the user named "admin" only: a real application checks its own roles.
	app.use(
		refkitDashboard(refkit, {
			path: "/admin/refkit",
			authorize: (req) => sessionUser(req, secret) === "admin",
			loginUrl: "/", // the demo logs in on its home page
		}),
	);

	// Each user's own referral page: their link with its QR code, what it brought, what it earned. The demo
	// logs in on its home page, which sends them back here (`next`) after logging in.
	app.use(
		refkitReferrerPage(refkit, {
			path: "/account/referrals",
			getUserId: (req) => sessionUser(req, secret),
			loginUrl: "/",
			displayName: shortName,
			leaderboard: true,
		}),
	);

	app.get("/", async (req, res) => {
		const user = sessionUser(req, secret);
		if (user === null) {
			const next = typeof req.query.next === "string" ? safeRedirectPath(req.query.next) : null;
			res.send(
				page(
					"refkit demo",
					`<h1>refkit demo</h1>
<p>Log in with any name to get your own referral link. Open it in another browser (or a private window),
then log in there as someone else: the visit is credited to you, and so are their signup and purchases.</p>
<form method="post" action="/login"><label>Your name <input name="username" required pattern="[A-Za-z0-9_.\\-]{1,40}" autofocus></label>
${next === null ? "" : `<input type="hidden" name="next" value="${escapeHtml(next)}">`}<button type="submit">Log in</button></form>`,
				),
			);
			return;
		}
		const link = await refkit.linkFor(user);
		const url = `${req.protocol}://${req.get("host")}${refkit.options.mountPath}/${link.identifier}`;
		const [hits, conversions] = await Promise.all([
			refkit.listHits({ referrerUserId: user, limit: 20 }),
			refkit.listConversions({ referrerUserId: user, limit: 100 }),
		]);
		const hitRows = hits.map((hit) => {
			const who =
				hit.userId === null ? '<span class="muted">not logged in yet</span>' : escapeHtml(hit.userId);
			const how = hit.authenticated
				? "was logged in"
				: hit.userId === null
					? "anonymous"
					: "claimed at login";
			return [when(hit.createdAt), who, how];
		});
		const signups = conversions
			.filter((c) => c.goal === "signup")
			.map((c) => [when(c.createdAt), escapeHtml(c.referredUserId), delivered(c.deliveredAt)]);
		const purchases = conversions
			.filter((c) => c.goal === "purchase")
			.map((c) => [
				when(c.createdAt),
				escapeHtml(c.referredUserId),
				amount(c.value ?? 0),
				delivered(c.deliveredAt),
			]);
		const purchased =
			typeof req.query.purchase === "string" ? PURCHASE_MESSAGES[req.query.purchase] : undefined;
		const earnings = await earningsSection(refkit, user, conversions);
		const sent = stripeOutcomes.get(typeof req.query.stripe === "string" ? req.query.stripe : "");
		const stripeText = sent?.user === user ? sent.text : undefined;
		res.send(
			page(
				"refkit demo",
				`<h1>Hello, ${escapeHtml(user)}</h1>
<p>Your referral link:</p>
<p><a class="link" id="referral-link" href="${escapeHtml(url)}">${escapeHtml(url)}</a>
<button type="button" id="copy-link" data-copy="${escapeHtml(url)}" hidden>Copy</button></p>
<p class="muted">Also works on any page: <code>/?ref=${escapeHtml(link.identifier)}</code></p>
<p><a href="/account/referrals" id="referrals-page">Your referrals</a>: your link with its QR code and share buttons, its clicks and conversions, what it earned, and the leaderboard.</p>
<h2>Visits through your link</h2>
${table(["When (UTC)", "Visitor", "How"], hitRows, "No visits yet.")}
${skippedNote(refkit)}
<h2>Signups you referred</h2>
${table(["When (UTC)", "User", "Delivered"], signups, "No signups yet.")}
<h2>Purchases you referred</h2>
${table(["When (UTC)", "User", "Amount", "Delivered"], purchases, "No purchases yet.")}
${earnings}
<h2>Buy something</h2>
${purchased ? `<p class="notice">${escapeHtml(purchased)}</p>` : ""}
<form method="post" action="/purchase"><label>Amount <input name="amount" required inputmode="decimal" pattern="[0-9]+(\\.[0-9]{1,2})?" value="25"></label>
<button type="submit">Buy</button></form>
<p class="muted">Your first purchase is credited to whoever referred you, once; and each purchase is a sale, of which they earn a share.</p>
<h2>Pay with Stripe</h2>
${stripeText ? `<p class="notice" id="stripe-outcome">${escapeHtml(stripeText)}</p>` : ""}
<form method="post" action="/stripe/pay"><label>Stripe payment <input name="amount" required inputmode="decimal" pattern="[0-9]+(\\.[0-9]{1,2})?" value="49"></label>
<button type="submit">Pay with Stripe (test event)</button></form>
<p class="muted">No Stripe account needed: the demo builds the <code>invoice.paid</code> event Stripe sends for a paid invoice, with your name in its <code>metadata.userId</code>, signs it with the endpoint's secret as Stripe does, and POSTs it to its own <code>${STRIPE_WEBHOOK_PATH}</code>, which records the sale once per invoice. From a shell: <code>npm run demo:stripe-event -- --user ${escapeHtml(user)} --amount 4900</code>.</p>
${user === "admin" ? `<p><a href="/admin/refkit">Open the referral dashboard</a></p>` : `<p class="muted">Log in as <code>admin</code> to see the referral dashboard.</p>`}
<form method="post" action="/logout"><button type="submit">Log out</button></form>
<script>${COPY_SCRIPT}</script>`,
			),
		);
	});

	app.post("/login", async (req, res) => {
		const username = typeof req.body?.username === "string" ? req.body.username.trim() : "";
		if (!USERNAME.test(username)) {
			res
				.status(400)
				.send(
					page(
						"Bad name",
						`<p>A name is 1 to 40 letters, digits, ".", "_" or "-".</p><p><a href="/">Back</a></p>`,
					),
				);
			return;
		}
		// The demo keeps no user table: a name without a link is a new user, and this login is their signup.
		const signingUp = (await refkit.listLinks({ userId: username, limit: 1 })).length === 0;
		if (signingUp) {
			await refkit.linkFor(username);
			// Claim the visits this browser made before signing up, then credit the signup to their referrer.
			await refkit.claim(cookieValue(req, refkit.options.cookieName), username);
			await refkit.confirm({ userId: username, goal: "signup" });
		}
		res.cookie(SESSION_COOKIE, sessionValue(username, secret), {
			httpOnly: true,
			sameSite: "lax",
			path: "/",
		});
		// Back where the login was asked for (the referrer page sends logged-out visitors here with ?next=).
		res.redirect(303, safeRedirectPath(req.body?.next) ?? "/");
	});

	/** The logged-in user and the amount of their form, or `null` once the error page is sent. */
	function payer(req: Request, res: Response, doing: string, example: string) {
		const user = sessionUser(req, secret);
		if (user === null) {
			res.status(401).send(page("Log in first", `<p>Log in to ${doing}.</p><p><a href="/">Back</a></p>`));
			return null;
		}
		const amount = priceFrom(req.body?.amount);
		if (amount === null) {
			res
				.status(400)
				.send(
					page(
						"Bad amount",
						`<p>An amount is a positive number such as ${example} or 9.99.</p><p><a href="/">Back</a></p>`,
					),
				);
			return null;
		}
		return { user, amount };
	}

	app.post("/purchase", async (req, res) => {
		const paying = payer(req, res, "buy something", "25");
		if (paying === null) return;
		const { user, amount } = paying;
		const result = await refkit.confirm({ userId: user, goal: "purchase", value: Number(amount) });
		// Every purchase is also a sale, recorded once under its own order id (a billing system's invoice id in a
		// real application), in cents: the referrer earns the program's share of each.
		await refkit.recordSale({
			externalId: `demo-order-${randomUUID()}`,
			userId: user,
			amount: toCents(amount),
			currency: "USD",
		});
		res.redirect(303, `/?purchase=${result.status}`);
	});

	// The "Pay with Stripe (test event)" button: the event Stripe would send, delivered to this server's own
	// webhook endpoint, signed, over HTTP, exactly as Stripe delivers it.
	app.post("/stripe/pay", async (req, res) => {
		const paying = payer(req, res, "pay", "49");
		if (paying === null) return;
		const { user, amount } = paying;
		const event = paidInvoiceEvent({ userId: user, amount: toCents(amount) });
		let text: string;
		try {
			const answer = await deliverSigned(ownUrl(req, STRIPE_WEBHOOK_PATH), event, stripeSecret);
			text = await stripeOutcome(refkit, event.data.object.id, event.id, answer);
		} catch (error) {
			text = `Stripe event ${event.id} could not be delivered: ${error instanceof Error ? error.message : String(error)}`;
		}
		stripeOutcomes.set(event.id, { user, text });
		for (const oldest of stripeOutcomes.keys()) {
			if (stripeOutcomes.size <= 100) break;
			stripeOutcomes.delete(oldest);
		}
		res.redirect(303, `/?stripe=${encodeURIComponent(event.id)}`);
	});

	app.post("/logout", (_req, res) => {
		res.clearCookie(SESSION_COOKIE, { path: "/" });
		res.redirect(303, "/");
	});

	app.use((_req, res) => {
		res.status(404).send(page("Not found", `<h1>Not found</h1><p><a href="/">Home</a></p>`));
	});
	return app;
}
