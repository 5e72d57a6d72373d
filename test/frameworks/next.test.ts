import { type ChildProcess, execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createRefkit, type Refkit } from "../../src/index.js";
import { TEST_SECRET } from "../setup/databases.js";
import { BROWSER_AGENT, deletesCookie, responseCookie } from "../setup/http.js";
import { section } from "../setup/markdown.js";
import { event, paidInvoice, signed, WEBHOOK_SECRET } from "../stripe/events.js";

/**
 * `examples/next`, the Next.js guide (docs/nextjs.md), installed from `npm pack` as an application would install
 * refkit, built with `next build` and served with `next start`, on the Next.js versions below. Next 16 runs
 * the example as it is (`proxy.ts`, Turbopack); Next 15 runs it with `middleware.ts`, which the guide shows
 * beside it (webpack). The example's own dependencies never enter the library's.
 */
const VERSIONS = [
	{ next: "16.5.0", entry: "proxy.ts" },
	{ next: "15.5.29", entry: "middleware.ts" },
] as const;

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const EXAMPLE = join(ROOT, "examples/next");
const run = promisify(execFile);
const work = mkdtempSync(join(tmpdir(), "refkit-next-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** refkit as npm would publish it (`npm test` has built dist already). */
let packed: Promise<string> | undefined;
function pack(): Promise<string> {
	packed ??= run("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", work], {
		cwd: ROOT,
	}).then(({ stdout }) => join(work, (JSON.parse(stdout) as { filename: string }[])[0]?.filename ?? ""));
	return packed;
}

/** The guide's `middleware.ts` for Next 15, from the example's `proxy.ts`. */
function middlewareFor15(proxy: string): string {
	const middleware = proxy
		.replace("export async function proxy(", "export async function middleware(")
		.replace("export const config = { matcher:", 'export const config = { runtime: "nodejs", matcher:');
	if (middleware === proxy) throw new Error("examples/next/proxy.ts no longer has the expected shape");
	return middleware;
}

async function freePort(): Promise<number> {
	const server = createServer().listen(0, "127.0.0.1");
	await once(server, "listening");
	const { port } = server.address() as { port: number };
	server.close();
	return port;
}

interface App {
	dir: string;
	base: string;
	database: string;
	server: ChildProcess;
	output: () => string;
}

/** Installs, builds and starts the example on one Next.js version. */
async function startApp(version: (typeof VERSIONS)[number]): Promise<App> {
	const dir = join(work, `next-${version.next}`);
	cpSync(EXAMPLE, dir, {
		recursive: true,
		filter: (source) =>
			![".next", "node_modules", "package-lock.json", "next-env.d.ts"].includes(basename(source)) &&
			!source.includes(".sqlite"),
	});
	if (version.entry === "middleware.ts") {
		writeFileSync(join(dir, "middleware.ts"), middlewareFor15(readFileSync(join(dir, "proxy.ts"), "utf8")));
		rmSync(join(dir, "proxy.ts"));
	}
	const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
	manifest.dependencies.next = version.next;
	manifest.dependencies.refkit = `file:${await pack()}`;
	writeFileSync(join(dir, "package.json"), JSON.stringify(manifest, null, "\t"));

	// better-sqlite3 compiles from source here (about 80 s). With install scripts off, the binary this
	// checkout compiled is copied in when the versions match; otherwise npm builds it.
	await run("npm", ["install", "--no-audit", "--no-fund", "--ignore-scripts", "--no-package-lock"], {
		cwd: dir,
	});
	const version_ = (path: string) => JSON.parse(readFileSync(join(path, "package.json"), "utf8")).version;
	const ours = join(ROOT, "node_modules/better-sqlite3");
	const theirs = join(dir, "node_modules/better-sqlite3");
	if (version_(ours) === version_(theirs)) {
		mkdirSync(join(theirs, "build/Release"), { recursive: true });
		cpSync(
			join(ours, "build/Release/better_sqlite3.node"),
			join(theirs, "build/Release/better_sqlite3.node"),
		);
	} else {
		await run("npm", ["rebuild", "better-sqlite3"], { cwd: dir });
	}
	const next = join(dir, "node_modules/next/dist/bin/next");
	const database = join(dir, "refkit.sqlite");
	// The build needs neither the secrets nor the database: it must not migrate (nor create) anything.
	const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: database, NEXT_TELEMETRY_DISABLED: "1" };
	delete env.REFKIT_SECRET;
	delete env.STRIPE_WEBHOOK_SECRET;
	delete env.NODE_ENV;
	await run(process.execPath, [next, "build"], { cwd: dir, env, maxBuffer: 1 << 24 });
	expect(existsSync(database), "next build created the database").toBe(false);

	const port = await freePort();
	const server = spawn(process.execPath, [next, "start", "-p", String(port)], {
		cwd: dir,
		env: { ...env, REFKIT_SECRET: TEST_SECRET, STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET },
	});
	let output = "";
	server.stdout?.on("data", (chunk: Buffer) => {
		output += chunk;
	});
	server.stderr?.on("data", (chunk: Buffer) => {
		output += chunk;
	});
	const base = `http://127.0.0.1:${port}`;
	const deadline = Date.now() + 30_000;
	for (;;) {
		if (server.exitCode !== null) throw new Error(`next start exited:\n${output}`);
		const ready = await fetch(`${base}/`).then(
			(response) => response.status === 200,
			() => false,
		);
		if (ready) break;
		if (Date.now() > deadline) throw new Error(`next start did not answer:\n${output}`);
		await new Promise((resolve) => setTimeout(resolve, 200));
	}
	return { dir, base, database, server, output: () => output };
}

/** A request as a browser makes it, without following redirects. */
function get(url: string, init: { cookie?: string; agent?: string; headers?: Record<string, string> } = {}) {
	return fetch(url, {
		redirect: "manual",
		headers: {
			"user-agent": init.agent ?? BROWSER_AGENT,
			...(init.cookie ? { cookie: init.cookie } : {}),
			...init.headers,
		},
	});
}

describe.each(VERSIONS)("examples/next on Next.js $next ($entry)", (version) => {
	let app: App;
	let refkit: Refkit;
	let identifier: string;

	beforeAll(async () => {
		app = await startApp(version);
		refkit = createRefkit({ database: app.database, secret: TEST_SECRET });
	}, 600_000);
	afterAll(async () => {
		await refkit?.close();
		if (app?.server.exitCode === null) {
			const exited = once(app.server, "exit");
			app.server.kill("SIGTERM");
			await exited;
		}
	});

	test("migrated at start (instrumentation.ts), and a user's link is made once however many pages race", async () => {
		const pages = await Promise.all(
			Array.from({ length: 6 }, () => get(`${app.base}/`, { cookie: "user=alice" })),
		);
		const links = await Promise.all(
			pages.map(async (page) => /\/ref\/([A-Za-z0-9_]+)/.exec(await page.text())?.[1]),
		);
		identifier = links[0] as string;
		expect(identifier).toMatch(/^[A-Za-z0-9_]{8}$/);
		expect(new Set(links)).toEqual(new Set([identifier]));
		expect((await refkit.listLinks({ userId: "alice" })).map((link) => link.identifier)).toEqual([
			identifier,
		]);
	});

	test("following a link redirects to next and records the hit with the client's IP", async () => {
		const followed = await get(`${app.base}/ref/${identifier}?next=/pricing%3Fplan%3Dpro`);
		expect(followed.status).toBe(302);
		expect(followed.headers.get("location")).toBe("/pricing?plan=pro");
		expect(responseCookie(followed, "refkit_visitor")?.value).toMatch(/\./);
		// Behind Vercel, X-Forwarded-For holds the client's address (`trustProxy: 1` in lib/refkit.ts).
		await get(`${app.base}/ref/${identifier}`, { headers: { "x-forwarded-for": "203.0.113.7" } });
		const hits = await refkit.listHits({ link: identifier });
		expect(hits.map((hit) => [hit.ip, hit.next])).toEqual([
			["203.0.113.7", null],
			["127.0.0.1", "/pricing?plan=pro"],
		]);
	});

	test("?ref= on any page goes through the link and keeps the rest of the query", async () => {
		const response = await get(`${app.base}/blog/post?ref=${identifier}&utm_source=news`);
		expect(response.status).toBe(302);
		expect(response.headers.get("location")).toBe(
			`/ref/${identifier}?next=${encodeURIComponent("/blog/post?utm_source=news")}`,
		);
	});

	test("an unknown link and a bot are redirected and record nothing", async () => {
		const before = (await refkit.listHits({ link: identifier })).length;
		const unknown = await get(`${app.base}/ref/nope?next=/docs`);
		expect([unknown.status, unknown.headers.get("location")]).toEqual([302, "/docs"]);
		const bot = await get(`${app.base}/ref/${identifier}`, { agent: "curl/8.5.0" });
		expect([bot.status, bot.headers.get("location")]).toEqual([302, "/"]);
		expect(responseCookie(bot, "refkit_visitor")).toBeUndefined();
		expect(await refkit.listHits({ link: identifier })).toHaveLength(before);
	});

	test("logging in claims the visits this browser made, and the cookie is deleted", async () => {
		const followed = await get(`${app.base}/ref/${identifier}`);
		const visitor = responseCookie(followed, "refkit_visitor")?.value as string;
		const login = await fetch(`${app.base}/login`, {
			method: "POST",
			redirect: "manual",
			headers: { "user-agent": BROWSER_AGENT, cookie: `refkit_visitor=${visitor}` },
			body: new URLSearchParams({ name: "bob" }),
		});
		expect([login.status, login.headers.get("location")]).toEqual([303, "/"]);
		expect(responseCookie(login, "user")?.value).toBe("bob");
		const home = await get(`${app.base}/`, { cookie: `user=bob; refkit_visitor=${visitor}` });
		expect(home.status).toBe(200);
		expect(deletesCookie(home, "refkit_visitor")).toBe(true);
		const claimed = await refkit.listHits({ link: identifier, search: visitor.split(".")[0] });
		expect(claimed.map((hit) => hit.userId)).toEqual(["bob"]);
		expect(await refkit.confirm({ userId: "bob", goal: "signup" })).toMatchObject({
			status: "converted",
			referrerUserId: "alice",
		});
	});

	test("the dashboard answers the admin and refuses everyone else", async () => {
		const admin = await get(`${app.base}/admin/refkit`, { cookie: "user=admin" });
		expect(admin.status).toBe(200);
		expect(await admin.text()).toContain("· refkit</title>");
		const links = await get(`${app.base}/admin/refkit/links?search=${identifier}`, { cookie: "user=admin" });
		expect(await links.text()).toContain(identifier);
		expect((await get(`${app.base}/admin/refkit`, { cookie: "user=bob" })).status).toBe(403);
		expect((await get(`${app.base}/admin/refkit`)).status).toBe(403);
	});

	test("the referrer page shows a user their own link, and sends a logged-out visitor to the login", async () => {
		const page = await get(`${app.base}/account/referrals`, { cookie: "user=alice" });
		expect(page.status).toBe(200);
		expect(page.headers.get("cache-control")).toBe("private, no-store");
		const html = await page.text();
		expect(html).toContain(`/ref/${identifier}`);
		expect(html).toContain('class="refkit-qr-code"');
		const json = await get(`${app.base}/account/referrals`, {
			cookie: "user=alice",
			headers: { accept: "application/json" },
		});
		expect(await json.json()).toMatchObject({ userId: "alice", links: [{ identifier }] });
		const out = await get(`${app.base}/account/referrals`);
		expect(out.status).toBe(303);
		expect(out.headers.get("location")).toBe("/?next=%2Faccount%2Freferrals");
	});

	test("Stripe's webhooks: each event once, a bad signature refused, a referred user's payment a sale", async () => {
		const post = async (value: unknown, secret = WEBHOOK_SECRET) => {
			const { body, signature } = signed(value, secret);
			const response = await fetch(`${app.base}/webhooks/stripe`, {
				method: "POST",
				headers: { "content-type": "application/json", "stripe-signature": signature },
				body,
			});
			const text = await response.text(); // Next.js answers a route's uncaught error with an empty 500
			return { status: response.status, body: text.startsWith("{") ? JSON.parse(text) : text };
		};
		// A POST-only route handler is dynamic: nothing of it was rendered at build time.
		const prerendered = JSON.parse(readFileSync(join(app.dir, ".next/prerender-manifest.json"), "utf8"));
		expect(Object.keys(prerendered.routes)).not.toContain("/webhooks/stripe");

		// alice was referred by nobody: her payment is received, and records no sale.
		const alicePaid = event(
			"invoice.paid",
			paidInvoice({ customer: "cus_alice", amount: 4900, userId: "alice" }),
		);
		expect(await post(alicePaid)).toEqual({
			status: 200,
			body: { received: true, status: "applied", outcome: "alice was not referred: no sale to record" },
		});
		expect(await post(alicePaid)).toMatchObject({
			status: 200,
			body: { received: true, status: "duplicate" },
		});
		const forged = event("invoice.paid", paidInvoice({ amount: 4900, userId: "alice" }));
		expect(await post(forged, "whsec_not_the_endpoints_secret_0123456789")).toMatchObject({
			status: 400,
			body: { received: false },
		});

		// carol follows alice's link, comes back logged in (the proxy claims her visit) and signs up: her payment
		// is a sale, 20 % of it alice's.
		const followed = await get(`${app.base}/ref/${identifier}`);
		const visitor = responseCookie(followed, "refkit_visitor")?.value as string;
		const home = await get(`${app.base}/`, { cookie: `user=carol; refkit_visitor=${visitor}` });
		expect(deletesCookie(home, "refkit_visitor")).toBe(true);
		expect(await refkit.confirm({ userId: "carol", goal: "signup" })).toMatchObject({
			status: "converted",
			referrerUserId: "alice",
		});
		const carolPaid = event(
			"invoice.paid",
			paidInvoice({ id: "in_carol", customer: "cus_carol", amount: 4900, userId: "carol" }),
		);
		expect(await post(carolPaid)).toEqual({
			status: 200,
			body: { received: true, status: "applied", outcome: "recorded sale in_carol of 4900 USD by carol" },
		});
		const sales = await refkit.listSales();
		expect(sales.map((sale) => [sale.externalId, sale.userId, sale.referrerUserId, sale.amount])).toEqual([
			["in_carol", "carol", "alice", 4900],
		]);
		const commissions = await refkit.listCommissions({ sourceId: sales[0]?.id });
		expect(commissions.map((c) => [c.userId, c.amount, c.currency, c.status])).toEqual([
			["alice", 980, "USD", "pending"],
		]);
	});

	test("nothing refkit did reached the server's error log", () => {
		expect(app.output()).not.toMatch(/Error|TypeError|refkit:/);
	});
});

/** The TypeScript blocks of a Markdown file's Next.js section. */
function nextBlocks(path: string): string[] {
	const text = readFileSync(join(ROOT, path), "utf8");
	const [start, end] = section(text, "Next.js (App Router)") ?? [0, 0];
	return [...text.slice(start, end).matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1] ?? "");
}

test("the Next.js guide is exactly what examples/next runs, and the README's quick start is part of it", () => {
	const file = (path: string) => readFileSync(join(EXAMPLE, path), "utf8");
	const files = [
		file("lib/refkit.ts"),
		file("instrumentation.ts"),
		file("proxy.ts"),
		middlewareFor15(file("proxy.ts")),
		file("app/admin/refkit/[[...path]]/route.ts"),
		file("app/webhooks/stripe/route.ts"),
		file("app/account/referrals/route.ts"),
	];
	expect(nextBlocks("docs/nextjs.md")).toEqual(files);
	const readme = nextBlocks("README.md");
	expect(readme.length).toBeGreaterThan(0);
	for (const block of readme) expect(files).toContain(block);
});
