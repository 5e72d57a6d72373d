import { createRefkit, type Refkit } from "refkit";

// One refkit per process. Next.js bundles this module into the proxy and into each route that imports it,
// and reloads it in development: keeping the instance on globalThis makes them all share one.
const shared = globalThis as typeof globalThis & { refkit?: Refkit };

shared.refkit ??= createRefkit({
	database: process.env.DATABASE_URL ?? "./refkit.sqlite",
	secret: process.env.REFKIT_SECRET, // at least 32 characters: openssl rand -hex 32
	// The client's address is in X-Forwarded-For: Vercel sets it, and `next start` fills it in when absent.
	trustProxy: 1,
	// What a referral earns: 20 % of each sale of the referred user, reported by Stripe (app/webhooks/stripe).
	programs: [{ id: "standard", currency: "USD", rules: [{ on: "sale", percent: 20 }] }],
});
export const refkit: Refkit = shared.refkit;

/** Who is logged in: here, whoever the `user` cookie names. Your application asks its own session. */
export function userFromSession(request: Request): string | null {
	const match = /(?:^|;\s*)user=([^;]+)/.exec(request.headers.get("cookie") ?? "");
	return match?.[1] ? decodeURIComponent(match[1]) : null;
}
