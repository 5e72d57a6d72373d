import { createRefkit } from "refkit";

/**
 * What every example starts with, as the README's quick start shows it: settings from the environment, a
 * migrated refkit, and a link `example` to follow. Each example then installs refkit in its framework.
 */

export const port = Number(process.env.PORT ?? 3000);
const database = process.env.DATABASE_URL ?? "example.sqlite";
let secret = process.env.REFKIT_SECRET;
if (!secret) {
	if (process.env.NODE_ENV === "production") {
		console.error("NODE_ENV is production, so REFKIT_SECRET must be set: openssl rand -hex 32");
		process.exit(1);
	}
	console.warn("REFKIT_SECRET is not set; using a development secret. Never do this in production.");
	secret = "refkit-example-development-secret-change-me";
}

export const refkit = createRefkit({ database, secret });
await refkit.migrate();
if (!(await refkit.getLink("example"))) await refkit.createLink({ identifier: "example", userId: "alice" });

/** Who is logged in: here, whoever the `user` cookie names. A real application asks its session. */
export function userFromCookie(cookieHeader: string | null | undefined): string | null {
	return /(?:^|;\s*)user=([^;]+)/.exec(cookieHeader ?? "")?.[1] ?? null;
}
