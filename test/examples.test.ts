import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, test } from "vitest";
import { createRefkit } from "../src/index.js";
import { DATABASES, freshDatabaseUrl, TEST_SECRET } from "./setup/databases.js";
import { deletesCookie, location, request, responseCookie } from "./setup/http.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const TSX = fileURLToPath(new URL("../node_modules/.bin/tsx", import.meta.url));
const EXAMPLES = ["express", "fastify", "hono", "web"] as const;

const running: ChildProcess[] = [];
afterEach(async () => {
	await Promise.all(
		running.splice(0).map(async (child) => {
			if (child.exitCode !== null || child.signalCode !== null) return;
			const exited = once(child, "exit");
			child.kill("SIGTERM");
			const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
			await exited;
			clearTimeout(timer);
		}),
	);
});

/** Starts an example exactly as `npm run example:<name>` does (after the build), on a free port. */
async function startExample(name: string, databaseUrl: string): Promise<string> {
	const child = spawn(TSX, [`examples/${name}/server.ts`], {
		cwd: ROOT,
		env: { ...process.env, PORT: "0", DATABASE_URL: databaseUrl, REFKIT_SECRET: "" },
	});
	running.push(child);
	let output = "";
	return new Promise<string>((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error(`${name} did not start:\n${output}`)), 20_000);
		const collect = (chunk: Buffer) => {
			output += chunk.toString();
			const match = /listening on http:\/\/localhost:(\d+)/.exec(output);
			if (match?.[1]) {
				clearTimeout(timer);
				resolve(`http://127.0.0.1:${match[1]}`);
			}
		};
		child.stdout?.on("data", collect);
		child.stderr?.on("data", collect);
		child.once("exit", (code) => {
			clearTimeout(timer);
			reject(new Error(`${name} exited with ${code}:\n${output}`));
		});
	});
}

describe.each(EXAMPLES)("examples/%s", (name) => {
	test.each(DATABASES)("serves the example link on %s, and claims it at login", async (kind) => {
		const databaseUrl = await freshDatabaseUrl(kind);
		const base = await startExample(name, databaseUrl);

		const home = await request(`${base}/`);
		expect(home.status).toBe(200);
		expect(await home.text()).toContain("/ref/example");

		const followed = await request(`${base}/ref/example`);
		expect(followed.status).toBe(302);
		expect(location(followed)).toBe("/");
		const visitor = responseCookie(followed, "refkit_visitor")?.value;
		expect(visitor).toBeTruthy();

		const viaParam = await request(`${base}/?ref=example`);
		expect(viaParam.status).toBe(302);
		expect(location(viaParam)).toBe("/ref/example?next=%2F");

		expect((await request(`${base}/nope`)).status).toBe(404);

		const loggedIn = await request(`${base}/`, { cookie: `user=bob; refkit_visitor=${visitor}` });
		expect(loggedIn.status).toBe(200);
		expect(await loggedIn.text()).toContain("bob");
		expect(deletesCookie(loggedIn, "refkit_visitor")).toBe(true);

		const refkit = createRefkit({ database: databaseUrl, secret: TEST_SECRET });
		try {
			const hits = await refkit.listHits({ link: "example" });
			expect(hits.map((hit) => ({ userId: hit.userId, authenticated: hit.authenticated }))).toEqual([
				{ userId: "bob", authenticated: false },
			]);
		} finally {
			await refkit.close();
		}
	});
});

test.each(["examples/web/server.ts", "examples/demo/server.ts"])(
	"%s refuses to start without REFKIT_SECRET when NODE_ENV is production",
	async (server) => {
		const child = spawn(TSX, [server], {
			cwd: ROOT,
			env: { ...process.env, PORT: "0", NODE_ENV: "production", REFKIT_SECRET: "", DATABASE_URL: ":memory:" },
		});
		running.push(child);
		let output = "";
		child.stderr?.on("data", (chunk: Buffer) => {
			output += chunk.toString();
		});
		const [code] = await once(child, "exit");
		expect(code).toBe(1);
		expect(output).toMatch(/REFKIT_SECRET must be set/);
	},
);
