/**
 * Hostile input: "None of it may cause a 500, an off-site redirect or a forged claim."
 *
 * Every HTTP test runs through each adapter on each database over a real server. Requests go over raw
 * `node:net` sockets, so the server sees the request target and header bytes exactly as written (fetch would
 * normalise dot segments, refuse raw bytes and drop some headers). The heavy property work runs once per
 * database in-process, through `refkit.handle()`.
 *
 * What the frameworks do before refkit sees a request, and so differs between adapters:
 * - Fastify's router answers 400 to a path with invalid percent-encoding before any hook runs.
 * - @hono/node-server (the Hono and Web adapters here) answers 400 to a backslash in the path, and resolves
 *   `%2e` dot segments as the WHATWG URL parser does (`/ref/%2e%2e` is `/`).
 * - Node's HTTP parser answers 400 to a control character (NUL, DEL...) in a header value or a non-ASCII
 *   byte in the request target, and 431 to headers over its 16 KiB limit, before any framework runs.
 * - An absolute-form target (`GET http://evil.example/ref/x`) is followed by Hono and Web, whose URL is
 *   parsed from it, and not by Express and Fastify, which hand refkit the target as written.
 */
import { createHmac, randomBytes, randomUUID } from "node:crypto";
import { connect, isIP } from "node:net";
import fc from "fast-check";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { createRefkit, type Refkit, type RefkitOptions, safeRedirectPath } from "../../src/index.js";
import { OPEN_REDIRECT_BYPASSES } from "../setup/bypasses.js";
import {
	createTestRefkit,
	DATABASES,
	type DatabaseKind,
	freshDatabaseUrl,
	TEST_SECRET,
} from "../setup/databases.js";
import { expectCode, runSql, visit, visitorCookie } from "../setup/direct.js";
import { ADAPTERS, type AdapterName, BROWSER_AGENT, startApp, USER_HEADER } from "../setup/http.js";

const COOKIE = "refkit_visitor";
const LINK = "abc123def";
const ORIGIN = "https://app.example";
/** How much of each visitor-supplied text a hit keeps (STORED_LENGTH in src/core/follow.ts). */
const STORED = { userAgent: 512, referer: 2048, next: 2048 };
/** The HMAC context of the visitor cookie's signature, as in src/core/visitor-cookie.ts. */
const SIGNATURE_CONTEXT = "refkit.visitor.v1:";
const OTHER_SECRET = "another-secret-".repeat(4);
/** Runs of each property over HTTP, per adapter and database, and in-process, per database. */
const HTTP_RUNS = 100;
const DIRECT_RUNS = 1000;

const MATRIX = ADAPTERS.flatMap((adapter) => DATABASES.map((kind) => [adapter, kind] as const));

// ---------------------------------------------------------------------------------------------------------
// Helpers

/** A visitor cookie signature made the way src/core/visitor-cookie.ts makes it, under any secret. */
function sign(visitorId: string, secret: string): string {
	return createHmac("sha256", secret)
		.update(SIGNATURE_CONTEXT + visitorId)
		.digest("base64url");
}

/** A Location must be a header-valid same-site path that a browser on ORIGIN resolves on ORIGIN. */
function expectOnSite(location: string | null | undefined): void {
	expect(location, "a Location header").toBeTypeOf("string");
	const value = location as string;
	expect(value, "printable ASCII").toMatch(/^[\x21-\x7e]+$/);
	expect(value.startsWith("/") && !value.startsWith("//") && !value.startsWith("/\\"), value).toBe(true);
	expect(new URL(value, `${ORIGIN}/ref/x`).origin, value).toBe(ORIGIN);
}

/** What a hit stores of a visitor-supplied text (the `bounded()` of src/core/follow.ts). */
function storedForm(value: string, max: number): string | null {
	if (value === "") return null;
	const prefix = value.slice(0, max);
	return (/[\uD800-\uDBFF]$/.test(prefix) ? prefix.slice(0, -1) : prefix).replace(/\0/g, "");
}

/**
 * Percent-encodes what cannot be written in a request target (whitespace, controls, non-ASCII, `#`) and
 * leaves everything else, `%`, `\`, `/`, `.` and `?` included, as the attacker wrote it.
 */
function rawTarget(text: string): string {
	return [...text].map((c) => (/^[\x21-\x7e]$/.test(c) && c !== "#" ? c : encodeURIComponent(c))).join("");
}

/** Percent-encodes every character but letters and digits, `.` included (so no literal dot segments). */
function encodeAll(text: string): string {
	return encodeURIComponent(text).replace(
		/[^A-Za-z0-9%]/g,
		(c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
	);
}

interface RawResponse {
	status: number;
	location: string | null;
	setCookies: string[];
}

/**
 * One request (a GET unless `method` says otherwise) over a raw socket: `target` and the header values are
 * written byte for byte (a character U+0000..U+00FF is that byte), without the normalisation or validation
 * fetch would apply. A browser's User-Agent is sent unless `headers` has one.
 */
function send(
	base: string,
	target: string,
	headers: Record<string, string> = {},
	method = "GET",
): Promise<RawResponse> {
	const { port } = new URL(base);
	const all: Record<string, string> = { "user-agent": BROWSER_AGENT, ...headers };
	let head = `${method} ${target} HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\nconnection: close\r\n`;
	for (const [name, value] of Object.entries(all)) head += `${name}: ${value}\r\n`;
	return new Promise((resolve, reject) => {
		const socket = connect(Number(port), "127.0.0.1");
		const chunks: Buffer[] = [];
		const timer = setTimeout(
			() => socket.destroy(new Error(`no answer to ${method} ${target.slice(0, 80)}`)),
			10_000,
		);
		const finish = (error?: Error) => {
			clearTimeout(timer);
			const text = Buffer.concat(chunks).toString("latin1");
			const end = text.indexOf("\r\n\r\n");
			// The server may reset the connection after answering a request it refused (431 while we still write).
			if (end < 0) return reject(error ?? new Error(`no HTTP response to ${method} ${target.slice(0, 80)}`));
			const [statusLine = "", ...lines] = text.slice(0, end).split("\r\n");
			const response: RawResponse = {
				status: Number(statusLine.split(" ")[1]),
				location: null,
				setCookies: [],
			};
			for (const line of lines) {
				const colon = line.indexOf(":");
				const name = line.slice(0, colon).trim().toLowerCase();
				const value = line.slice(colon + 1).trim();
				if (name === "location") response.location = value;
				if (name === "set-cookie") response.setCookies.push(value);
			}
			resolve(response);
		};
		socket.on("data", (chunk: Buffer) => chunks.push(chunk));
		socket.on("error", finish);
		socket.on("close", () => finish());
		// Not end(): Node's HTTP server aborts a request whose client half-closes before the answer.
		socket.write(Buffer.from(`${head}\r\n`, "latin1"));
	});
}

/** The value of the visitor cookie a response sets, or undefined. */
function cookieSet(response: RawResponse): string | undefined {
	for (const header of response.setCookies) {
		const pair = header.split(";")[0] ?? "";
		if (pair.startsWith(`${COOKIE}=`)) return pair.slice(COOKIE.length + 1);
	}
	return undefined;
}

/** A unique text to find one request's hit by (`listHits({ search })` looks in the Referer). */
function marker(): string {
	return randomUUID();
}

/**
 * The hits whose user agent, referer or next contains `mark`. A 302 is sent once the hit is committed, or once
 * the visitor's wait (1.5 s) is over and the hit is still being written: on a loaded machine that can happen,
 * so an empty answer is asked again for a few seconds, unless no hit is expected.
 */
async function hitsMarked(refkit: Refkit, mark: string, { expectSome = true } = {}) {
	const until = Date.now() + 5_000;
	for (;;) {
		const hits = await refkit.listHits({ search: mark, limit: 1000 });
		if (hits.length > 0 || !expectSome || Date.now() > until) return hits;
		await new Promise((resolve) => setTimeout(resolve, 50));
	}
}

interface Opened {
	refkit: Refkit;
	url: string;
	reported: unknown[];
}

/** A migrated refkit whose absorbed errors are collected in `reported`, on `url` or a new database. */
async function openRefkit(
	kind: DatabaseKind,
	url?: string,
	options: Partial<RefkitOptions> = {},
): Promise<Opened> {
	const reported: unknown[] = [];
	const database = url ?? (await freshDatabaseUrl(kind));
	const refkit = createRefkit({
		database,
		secret: TEST_SECRET,
		onError: (error) => reported.push(error),
		...options,
	});
	await refkit.migrate();
	return { refkit, url: database, reported };
}

/** refkit's tables are all still there, and can be counted. */
async function expectTablesSurvive(kind: DatabaseKind, url: string): Promise<void> {
	for (const table of ["refkit_link", "refkit_hit", "refkit_conversion"]) {
		expect(await countRows(kind, url, table), table).toBeGreaterThanOrEqual(0);
	}
}

async function countRows(kind: DatabaseKind, url: string, table: string): Promise<number> {
	const rows = (await runSql(kind, url, `SELECT count(*) AS n FROM ${table}`)) as { n: unknown }[];
	return Number(rows[0]?.n);
}

// Open-redirect payloads: the list src/core/safe-redirect.test.ts checks, and a few more of the same families.
const BYPASSES = [
	...OPEN_REDIRECT_BYPASSES,
	"/%2e/%2fevil.example",
	"/..%2F%2Fevil.example",
	"/%5C%5Cevil.example",
	"https://app.example.evil.example",
	"//app.example%40evil.example",
];

/**
 * Why a framework may answer a nasty `/ref/<x>` before refkit sees it (see the comment at the top):
 * `encoding` (Fastify's 400), `backslash` (@hono/node-server's 400), `dots` (a router resolves the dot
 * segments or refkit sees a path with a slash: the application's 404).
 */
type Quirk = "none" | "encoding" | "backslash" | "dots";

/** Nasty identifiers, as written in the request target after `/ref/` or `?ref=`. */
const NASTY: [string, Quirk][] = [
	["..%2F..%2Fetc%2Fpasswd", "none"],
	["..%2f..%2f..%2f..%2fetc%2fpasswd%00", "none"],
	["%2e%2e%2f%2e%2e%2fetc%2fpasswd", "none"],
	["..%252F..%252Fetc%252Fpasswd", "none"],
	["..%5C..%5Cwindows%5Cwin.ini", "none"],
	[`${LINK}%2F..%2F..%2Fadmin`, "none"],
	["abc%2Fdef", "none"],
	["%2F%2Fevil.example", "none"],
	["x".repeat(10_000), "none"],
	[`${LINK}${"x".repeat(10_000)}`, "none"],
	["%F0%9F%98%80", "none"],
	[`${LINK}%E2%80%8B`, "none"], // a zero-width space after the real identifier
	["%EF%BD%81bc123def", "none"], // a full-width "a"
	[`${LINK.toUpperCase()}`, "none"], // identifiers are case-sensitive
	[`${LINK}%20`, "none"],
	[`${LINK}+`, "none"],
	[`${LINK};x=1`, "none"],
	["abc%00def", "none"],
	[`${LINK}%00`, "none"],
	["%00", "none"],
	[encodeURIComponent("' OR 1=1 --"), "none"],
	[encodeURIComponent("abc'; DROP TABLE refkit_hit; --"), "none"],
	["abc'%20OR%20'1'='1", "none"],
	["%0d%0aSet-Cookie:%20refkit_visitor=evil", "none"],
	[`${LINK}%0d%0aLocation:%20https:%2F%2Fevil.example`, "none"],
	["%", "encoding"],
	["%E0%A4%A", "encoding"],
	["%zz", "encoding"],
	["%C0%AF", "encoding"], // an overlong "/"
	["%ED%A0%80", "encoding"], // an encoded UTF-16 surrogate
	["%FF%FE", "encoding"],
	["abc\\def", "backslash"],
	["..\\..\\etc\\passwd", "backslash"],
	["../../etc/passwd", "dots"],
	["%2e%2e/%2e%2e/etc/passwd", "dots"],
];

/** The status a nasty `/ref/<x>?next=/foo` gets on `adapter`: refkit's 302, or the framework's answer. */
function expectedStatus(adapter: AdapterName, quirk: Quirk): number {
	if (quirk === "encoding" && adapter === "fastify") return 400;
	if (quirk === "backslash" && (adapter === "hono" || adapter === "web")) return 400;
	if (quirk === "dots") return 404;
	return 302;
}

// Arbitraries: any text, and text made of what open redirects and cookie forgeries are made of.
const anyText = fc.string({ unit: "binary", maxLength: 60 });
const redirectText = fc.string({
	unit: fc.constantFrom(
		"/",
		"\\",
		"%",
		"2F",
		"5C",
		"2e",
		".",
		"..",
		":",
		"@",
		"?",
		"#",
		"&",
		"\t",
		" ",
		"\n",
		"\0",
		"evil.example",
		"https:",
		"javascript:",
		"next=",
		"ref=",
		LINK,
	),
	maxLength: 16,
});
/** Header-value text as bytes: printable ASCII and the high half (what invalid UTF-8 looks like). */
const headerText = fc.string({
	unit: fc
		.oneof(
			fc.integer({ min: 0x20, max: 0x7e }),
			fc.integer({ min: 0x80, max: 0xff }),
			fc.constantFrom(0x3b, 0x3d, 0x2e, 0x22),
		)
		.map((code) => String.fromCharCode(code)),
	maxLength: 60,
});

/** Cookie headers built around a victim's visitor id: forged signatures, junk, duplicates. */
function hostileCookies(victimId: string, text: fc.Arbitrary<string>): fc.Arbitrary<string> {
	const signatureLike = fc.oneof(
		text,
		fc.constant(sign(victimId, OTHER_SECRET)),
		fc.uint8Array({ minLength: 32, maxLength: 32 }).map((bytes) => Buffer.from(bytes).toString("base64url")),
	);
	return fc.oneof(
		text,
		text.map((t) => `${COOKIE}=${t}`),
		signatureLike.map((s) => `${COOKIE}=${victimId}.${s}`),
		fc.tuple(text, signatureLike, text).map(([a, s, b]) => `${a}; ${COOKIE}=${victimId}.${s}${b}`),
		fc
			.tuple(signatureLike, signatureLike)
			.map(([a, b]) => `${COOKIE}="${victimId}.${a}"; ${COOKIE}=${victimId}.${b}`),
	);
}

// ---------------------------------------------------------------------------------------------------------
// Over HTTP, through every adapter on every database

describe.each(MATRIX)("%s on %s", (adapter, kind) => {
	/** One database per adapter and database, shared by the tests; `trusting` has trustProxy: true. */
	let main: Opened;
	let trusting: Opened;
	let base: string;
	let trustingBase: string;

	beforeAll(async () => {
		main = await openRefkit(kind);
		trusting = await openRefkit(kind, main.url, { trustProxy: true });
		await main.refkit.createLink({ identifier: LINK, userId: "referrer" });
		base = await startApp(adapter, main.refkit);
		trustingBase = await startApp(adapter, trusting.refkit);
	});

	afterEach(() => {
		// An error refkit absorbed is still a bug.
		const reported = [...main.reported.splice(0), ...trusting.reported.splice(0)];
		expect(reported).toEqual([]);
	});

	afterAll(async () => {
		await main?.refkit.close();
		await trusting?.refkit.close();
	});

	/** The real link still records and redirects. */
	async function expectRealLinkWorks(): Promise<void> {
		const mark = marker();
		const response = await send(base, `/ref/${LINK}?next=/foo`, { referer: `https://r.example/${mark}` });
		expect(response.status).toBe(302);
		expect(response.location).toBe("/foo");
		expect(await hitsMarked(main.refkit, mark)).toHaveLength(1);
	}

	describe("identifiers", () => {
		const nasty = NASTY.map(([raw, quirk]) => ({
			raw,
			quirk,
			label: raw.length > 60 ? `${raw.slice(0, 16)}... (${raw.length} characters)` : raw,
		}));
		test.each(nasty)(
			"$label in /ref/<x> and ?ref=<x>: a same-site redirect or the framework's 4xx, no hit",
			async ({ raw: nasty, quirk }) => {
				const recorded = main.refkit.counters().hitsRecorded;
				const cookie = `${COOKIE}=keep.me`;
				const followed = await send(base, `/ref/${nasty}?next=/foo`, { cookie });
				expect(followed.status).toBe(expectedStatus(adapter, quirk));
				if (followed.status === 302) expect(followed.location).toBe("/foo");
				expect(followed.setCookies).toEqual([]);

				const param = await send(base, `/foo?ref=${nasty}`, { cookie });
				expect(param.status, "an unknown ?ref= passes through").toBe(200);
				expect(param.location).toBeNull();
				expect(param.setCookies).toEqual([]);
				expect(main.refkit.counters().hitsRecorded).toBe(recorded);
			},
		);

		test("property: any identifier percent-encoded into /ref/<x> and ?ref=<x> records nothing", async () => {
			const recorded = main.refkit.counters().hitsRecorded;
			await fc.assert(
				fc.asyncProperty(
					fc.oneof(anyText, redirectText).filter((id) => id !== LINK),
					async (identifier) => {
						const followed = await send(base, `/ref/${encodeAll(identifier)}?next=/foo`);
						if (identifier === "") {
							expect(followed.status, "/ref/ is not a link: the application's 404").toBe(404);
						} else if (
							(identifier === "." || identifier === "..") &&
							(adapter === "hono" || adapter === "web")
						) {
							// The URL parser resolves "%2E%2E" as a dot segment: "/ref/" or "/", the application's pages.
							expect([200, 404]).toContain(followed.status);
						} else {
							expect(followed.status).toBe(302);
							expect(followed.location).toBe("/foo");
						}
						const param = await send(base, `/foo?ref=${encodeAll(identifier)}`);
						expect(param.status).toBe(200);
					},
				),
				{ numRuns: HTTP_RUNS, examples: [[LINK.slice(1)], [`${LINK}\0`], ["/"], ["."], [".."]] },
			);
			expect(main.refkit.counters().hitsRecorded).toBe(recorded);
		});

		test("after all that, the tables still exist and the real link still works", async () => {
			await expectTablesSurvive(kind, main.url);
			await expectRealLinkWorks();
		});
	});

	describe("next", () => {
		test("open-redirect bypasses in ?next= are stored as asked and never followed", async () => {
			const mark = marker();
			const referer = `https://r.example/${mark}`;
			for (const next of BYPASSES) {
				const encoded = await send(base, `/ref/${LINK}?next=${encodeURIComponent(next)}`, { referer });
				expect(encoded.status, next).toBe(302);
				expect(encoded.location, next).toBe("/");
				// The same, as an attacker would write it in a link: only what cannot be sent is encoded.
				const written = await send(base, `/ref/${LINK}?next=${rawTarget(next)}`, { referer });
				expect(written.status, next).toBe(302);
				expectOnSite(written.location);
			}
			const stored = (await hitsMarked(main.refkit, mark)).map((hit) => hit.next);
			expect(stored).toHaveLength(BYPASSES.length * 2);
			for (const next of BYPASSES) expect(stored).toContain(storedForm(next, STORED.next));
		});

		test("open-redirect bypasses as the path of a ?ref= URL end on the site", async () => {
			const targets = [
				// As a path, those that a request target can start with; Node refuses the others with a 400.
				...BYPASSES.filter((next) => /^[/\\]/.test(next)).map((next) => `${rawTarget(next)}?ref=${LINK}`),
				...BYPASSES.map((next) => `/foo?next=${rawTarget(next)}&ref=${LINK}`),
				`http://evil.example/foo?ref=${LINK}`,
				`https://evil.example/?ref=${LINK}`,
				`http://evil.example/ref/${LINK}?next=//evil.example`,
				`//evil.example/ref/${LINK}`,
				`/ref/${LINK}/..//evil.example`,
			];
			let throughRefkit = 0;
			for (const target of targets) {
				const response = await send(base, target);
				expect(response.status, target).not.toBe(500);
				if (response.status !== 302) {
					// The framework refused the target (400) or it is not refkit's: the application's own pages.
					expect([200, 400, 404], target).toContain(response.status);
					continue;
				}
				expectOnSite(response.location);
				const location = response.location as string;
				if (!location.startsWith(`/ref/${LINK}?next=`)) continue;
				// Follow the redirect to /ref/ as a browser would: the link must not send it off-site either. HEAD is
				// redirected exactly as GET, without recording a hit.
				const followed = await send(base, location, {}, "HEAD");
				expect(followed.status, location).toBe(302);
				expectOnSite(followed.location);
				throughRefkit++;
			}
			// Every /foo?next=...&ref= target, at least, went through refkit's redirect and the link.
			expect(throughRefkit).toBeGreaterThanOrEqual(BYPASSES.length);
		});

		test("property: whatever next, Location resolves on the site", async () => {
			await fc.assert(
				fc.asyncProperty(fc.oneof(anyText, redirectText), async (next) => {
					const response = await send(base, `/ref/${LINK}?next=${encodeURIComponent(next)}`);
					expect(response.status).toBe(302);
					expectOnSite(response.location);
					const written = await send(base, `/ref/${LINK}?next=${rawTarget(next)}`);
					expect(written.status).toBe(302);
					expectOnSite(written.location);
				}),
				{ numRuns: HTTP_RUNS },
			);
		});
	});

	describe("cookies", () => {
		/** A victim and an attacker who each followed the link anonymously. */
		async function victimAndAttacker() {
			const mark = marker();
			const victim = cookieSet(await send(base, `/ref/${LINK}`, { referer: `https://r.example/${mark}` }));
			const attacker = cookieSet(await send(base, `/ref/${LINK}`));
			const [victimId = "", victimSignature = ""] = victim?.split(".") ?? [];
			const [attackerId = "", attackerSignature = ""] = attacker?.split(".") ?? [];
			// The forgeries below are made as src/core/visitor-cookie.ts signs: check that they would be.
			expect(sign(victimId, TEST_SECRET)).toBe(victimSignature);
			expect(sign(attackerId, TEST_SECRET)).toBe(attackerSignature);
			return {
				mark,
				victim: victim as string,
				victimId,
				attacker: attacker as string,
				attackerId,
				attackerSignature,
			};
		}

		async function expectUnclaimed(mark: string): Promise<void> {
			const hits = await hitsMarked(main.refkit, mark);
			expect(hits).toHaveLength(1);
			expect(hits[0]?.userId).toBeNull();
		}

		test("oversized, malformed and forged cookies claim nothing, and /ref gives a fresh visitor", async () => {
			const { mark, victim, victimId, attacker, attackerId, attackerSignature } = await victimAndAttacker();
			const random = () => randomBytes(32).toString("base64url");
			const forged = [
				`${COOKIE}=`,
				COOKIE,
				`${COOKIE}=${victimId}`,
				`${COOKIE}=${victimId}.`,
				`${COOKIE}=${victimId}.${random()}`,
				`${COOKIE}=${victimId}.${random()}.${random()}`,
				`${COOKIE}=${victimId}...`,
				`${COOKIE}=.${victimId}.${random()}`,
				`${COOKIE}=${victimId}.${"!".repeat(43)}`,
				`${COOKIE}=${victimId}.${randomBytes(32).toString("base64")}`,
				`${COOKIE}=${victimId}.${random()}\xff\xfe`,
				`${COOKIE}=${victimId.toUpperCase()}.${random()}`,
				`${COOKIE}="${victimId}.${random()}"`,
				`${COOKIE}="${victimId}.${random()}`,
				`${COOKIE}='${victimId}.${random()}'`,
				`${COOKIE}=${victimId}.${sign(victimId, OTHER_SECRET)}`,
				`${COOKIE}=${victimId}.${attackerSignature}`,
				`${COOKIE}=${victimId}.${random()}; ${COOKIE}=${attacker}`,
				`${COOKIE}=${"A".repeat(8192)}`,
				`${COOKIE}=${victimId}.${random()}${"A".repeat(8000)}`,
				`${Array.from({ length: 400 }, (_, i) => `c${i}=${"v".repeat(16)}`).join("; ")}; ${COOKIE}=${victimId}.${random()}`,
				Array.from({ length: 100 }, () => `${COOKIE}=${victimId}.${random()}`).join("; "),
				`;;;;==; =${COOKIE}; ${COOKIE}==${victimId}.${random()}`,
				` ${COOKIE} = ${victimId}.${random()} `,
				`${COOKIE}=' OR 1=1 --`,
				`${COOKIE}=${victimId}.' OR '1'='1`,
			];
			for (const cookie of forged) {
				const page = await send(base, "/foo", { cookie, [USER_HEADER]: "mallory" });
				expect(page.status, cookie.slice(0, 80)).toBe(200);
				const loggedIn = await send(base, `/ref/${LINK}`, { cookie, [USER_HEADER]: "mallory" });
				expect(loggedIn.status, cookie.slice(0, 80)).toBe(302);
				expect(loggedIn.location).toBe("/");

				const anonymous = await send(base, `/ref/${LINK}`, { cookie });
				expect(anonymous.status).toBe(302);
				const fresh = cookieSet(anonymous) ?? "";
				const [freshId = "", freshSignature] = fresh.split(".");
				expect([victimId, attackerId], cookie.slice(0, 80)).not.toContain(freshId);
				expect(freshSignature).toBe(sign(freshId, TEST_SECRET));
				expect(await hitsMarked(main.refkit, freshId)).toHaveLength(1);
			}
			await expectUnclaimed(mark);
			// Nothing was claimed for mallory: her only hits are those she made logged in.
			const mallorys = await main.refkit.listHits({ userId: "mallory", limit: 1000 });
			expect(mallorys).toHaveLength(forged.length);
			expect(mallorys.every((hit) => hit.authenticated && hit.visitorId === null)).toBe(true);

			// The attacker's own cookie first and a forgery second: only the attacker's own hit is claimed.
			const both = await send(base, "/foo", {
				cookie: `${COOKIE}=${attacker}; ${COOKIE}=${victimId}.${random()}`,
				[USER_HEADER]: "mallory",
			});
			expect(both.status).toBe(200);
			expect((await hitsMarked(main.refkit, attackerId)).map((hit) => hit.userId)).toEqual(["mallory"]);
			await expectUnclaimed(mark);

			// The victim's own cookie does claim: the checks above could see a claim.
			await send(base, "/foo", { cookie: `${COOKIE}=${victim}`, [USER_HEADER]: "victim" });
			expect((await hitsMarked(main.refkit, mark)).map((hit) => hit.userId)).toEqual(["victim"]);
		});

		test("property: any Cookie header: no 500, no claim of the victim's hits", async () => {
			const { mark, victimId } = await victimAndAttacker();
			await fc.assert(
				fc.asyncProperty(hostileCookies(victimId, headerText), fc.boolean(), async (cookie, onLink) => {
					const response = await send(base, onLink ? `/ref/${LINK}` : "/foo", {
						cookie,
						[USER_HEADER]: "mallory",
					});
					expect(response.status).not.toBe(500);
					expect(onLink ? [302] : [200]).toContain(response.status);
					if (onLink) expect(response.location).toBe("/");
				}),
				{ numRuns: HTTP_RUNS },
			);
			await expectUnclaimed(mark);
		});
	});

	describe("headers", () => {
		test("a huge User-Agent and Referer are stored as bounded prefixes; over the limit, the server's 431", async () => {
			// Node's default maxHeaderSize is 16 KiB for the request line and all headers together.
			const mark = marker();
			const userAgent = `${BROWSER_AGENT} ${mark} ${"u".repeat(15_000)}`;
			const longAgent = await send(base, `/ref/${LINK}`, { "user-agent": userAgent });
			expect(longAgent.status).toBe(302);
			const [byAgent] = await hitsMarked(main.refkit, mark);
			expect(byAgent?.userAgent).toBe(userAgent.slice(0, STORED.userAgent));

			const refererMark = marker();
			const referer = `https://r.example/${refererMark}?${"r".repeat(15_000)}`;
			expect((await send(base, `/ref/${LINK}`, { referer })).status).toBe(302);
			const [byReferer] = await hitsMarked(main.refkit, refererMark);
			expect(byReferer?.referer).toBe(referer.slice(0, STORED.referer));

			const recorded = main.refkit.counters().hitsRecorded;
			const oversized: Record<string, string>[] = [
				{ "user-agent": `${BROWSER_AGENT} ${"u".repeat(100_000)}` },
				{ referer: `https://r.example/${"r".repeat(100_000)}` },
				{ cookie: `${COOKIE}=${"c".repeat(100_000)}` },
			];
			for (const headers of oversized) {
				const response = await send(base, `/ref/${LINK}`, headers);
				expect(response.status).toBe(431);
			}
			expect(main.refkit.counters().hitsRecorded).toBe(recorded);
		});

		test("invalid UTF-8 in User-Agent and Referer is stored; NUL and controls are refused by the server", async () => {
			const mark = marker();
			const invalid =
				"\xc3\x28\xa0\xa1\xe2\x28\xa1\xf0\x28\x8c\xbc\xff\xfe\xed\xa0\x80\xc0\xaf\xf4\x90\x80\x80";
			const userAgent = `${BROWSER_AGENT} ${invalid}`;
			const referer = `https://r.example/${mark}/${invalid}`;
			const response = await send(base, `/ref/${LINK}?next=/foo`, { "user-agent": userAgent, referer });
			expect(response.status).toBe(302);
			expect(response.location).toBe("/foo");
			const hits = await hitsMarked(main.refkit, mark);
			expect(hits).toHaveLength(1);
			// Node reads header bytes as Latin-1: each invalid byte is stored as that character.
			expect(hits[0]).toMatchObject({ userAgent, referer });

			const refused = marker();
			const controls: Record<string, string>[] = [
				{ "user-agent": `${BROWSER_AGENT}\x00`, referer: `https://r.example/${refused}` },
				{ referer: `https://r.example/${refused}\x00/` },
				{ referer: `https://r.example/${refused}\x01\x1b\x7f` },
			];
			for (const headers of controls) {
				const answer = await send(base, `/ref/${LINK}`, headers);
				expect(answer.status).toBe(400);
			}
			expect(await hitsMarked(main.refkit, refused, { expectSome: false })).toEqual([]);

			// A NUL reaches refkit percent-encoded in next: PostgreSQL refuses it in text, so it is dropped.
			const withNul = marker();
			const nul = await send(base, `/ref/${LINK}?next=/foo%00bar`, {
				referer: `https://r.example/${withNul}`,
			});
			expect(nul.status).toBe(302);
			expect(nul.location).toBe("/");
			expect((await hitsMarked(main.refkit, withNul))[0]?.next).toBe("/foobar");
			await expectRealLinkWorks();
		});

		test("a bounded next never splits a character", async () => {
			const mark = marker();
			const next = `/${"\u{1f600}".repeat(1100)}`;
			const response = await send(base, `/ref/${LINK}?next=${encodeURIComponent(next)}`, {
				referer: `https://r.example/${mark}`,
			});
			expect(response.status).toBe(302);
			expect(response.location).toBe("/");
			const stored = (await hitsMarked(main.refkit, mark))[0]?.next ?? "";
			expect(stored.length).toBeLessThanOrEqual(STORED.next);
			expect(stored.length).toBeGreaterThan(STORED.next - 2);
			expect(next.startsWith(stored), "the stored next is a prefix of the one asked").toBe(true);
		});

		test("X-Forwarded-For and friends are ignored while trustProxy is off", async () => {
			const mark = marker();
			const response = await send(base, `/ref/${LINK}`, {
				referer: `https://r.example/${mark}`,
				"x-forwarded-for": "203.0.113.9, 198.51.100.7",
				"x-real-ip": "203.0.113.9",
				forwarded: "for=203.0.113.9",
				"true-client-ip": "203.0.113.9",
				"cf-connecting-ip": "203.0.113.9",
			});
			expect(response.status).toBe(302);
			expect((await hitsMarked(main.refkit, mark))[0]?.ip).toBe("127.0.0.1");
		});

		test("a malformed X-Forwarded-For with trustProxy on stores the peer's address or a real one", async () => {
			// An entry that is no address falls back to the socket's peer (the test client, on loopback).
			const PEER = "127.0.0.1";
			const forwarded: [string, string | null | undefined][] = [
				["", "127.0.0.1"],
				[",", PEER],
				[",,,", PEER],
				[" , 203.0.113.9", PEER],
				["not-an-ip", PEER],
				["unknown", PEER],
				["_hidden", PEER],
				["203.0.113.9:443", undefined],
				["[2001:db8::1]:443", undefined],
				["[2001:db8::1]", "2001:db8::1"],
				["999.1.1.1", PEER],
				["1.2.3.4.5", PEER],
				["01.02.03.04", undefined],
				["::ffff:203.0.113.9", "203.0.113.9"],
				["::FFFF:203.0.113.9", "203.0.113.9"],
				["::ffff:cb00:7109", undefined],
				["fe80::1%eth0", undefined],
				["2001:DB8::1, 10.0.0.1", "2001:db8::1"],
				["' OR 1=1 --", PEER],
				["1.1.1.1' OR '1'='1", PEER],
				["\xff\xfe", PEER],
				["x".repeat(8000), PEER],
				[Array.from({ length: 500 }, () => "10.0.0.1").join(","), "10.0.0.1"],
			];
			for (const [value, expected] of forwarded) {
				const mark = marker();
				const response = await send(trustingBase, `/ref/${LINK}`, {
					referer: `https://r.example/${mark}`,
					"x-forwarded-for": value,
				});
				expect(response.status, value.slice(0, 40)).toBe(302);
				const [hit] = await hitsMarked(trusting.refkit, mark);
				expect(hit, value.slice(0, 40)).toBeDefined();
				const ip = hit?.ip ?? null;
				// undefined: either is fine, the peer's address or the entry's, as long as it is a real address.
				if (expected !== undefined) expect(ip, value.slice(0, 40)).toBe(expected);
				else if (ip !== null) expect(isIP(ip), ip).not.toBe(0);
			}
		});
	});

	test("SQL-looking input from a visitor is stored verbatim and the tables survive", async () => {
		const mark = marker();
		const userAgent = `${BROWSER_AGENT} '; DROP TABLE refkit_hit; --`;
		const referer = `https://r.example/${mark}?q=' OR '1'='1`;
		const next = "/foo?q='%20OR%201=1;--";
		const followed = await send(base, `/ref/${LINK}?next=${encodeURIComponent(next)}`, {
			"user-agent": userAgent,
			referer,
			cookie: `${COOKIE}=' OR 1=1 --; x=1; DROP TABLE refkit_link`,
			"x-forwarded-for": "1.1.1.1' OR 1=1 --",
		});
		expect(followed.status).toBe(302);
		expect(followed.location).toBe("/foo?q=%27%20OR%201=1;--");
		const [hit] = await hitsMarked(main.refkit, mark);
		expect(hit).toMatchObject({ userAgent, referer, next, ip: "127.0.0.1", userId: null });
		const fresh = cookieSet(followed);
		expect(fresh?.split(".")[0]).toBe(hit?.visitorId);

		// The same visitor logs in as a user whose id looks like SQL: the hit is theirs, verbatim.
		const user = "'; DROP TABLE refkit_link; --";
		const login = await send(base, "/", { cookie: `${COOKIE}=${fresh}`, [USER_HEADER]: user });
		expect(login.status).toBe(200);
		expect((await hitsMarked(main.refkit, mark))[0]?.userId).toBe(user);

		// Through ?ref=, with SQL in the page's own query, kept as the adapter received it: Hono and Web see
		// the URL as the WHATWG parser wrote it (the quote percent-encoded), Express and Fastify as sent.
		const page = `/foo?q=${encodeURIComponent("' OR 1=1 --")}`;
		const received = adapter === "hono" || adapter === "web" ? page.replaceAll("'", "%27") : page;
		const asUser = { [USER_HEADER]: "' OR '1'='1", referer: `https://r.example/${mark}` };
		const param = await send(base, `${page}&ref=${LINK}`, asUser);
		expect(param.status).toBe(302);
		expect(param.location).toBe(`/ref/${LINK}?next=${encodeURIComponent(received)}`);
		const landed = await send(base, param.location as string, asUser);
		expect(landed.location).toBe("/foo?q=%27%20OR%201%3D1%20--");
		expect((await main.refkit.listHits({ userId: "' OR '1'='1" }))[0]?.next).toBe(received);

		await expectTablesSurvive(kind, main.url);
		await expectRealLinkWorks();
	});
});

// ---------------------------------------------------------------------------------------------------------
// In-process, through refkit.handle(): the public API and the heavy property work, once per database

describe.each(DATABASES)("on %s, in-process", (kind) => {
	test("the public API refuses or stores SQL-looking values verbatim", async () => {
		const { refkit, url, reported } = await openRefkit(kind);
		try {
			const sqls = [
				"' OR 1=1 --",
				"abc'; DROP TABLE refkit_hit; --",
				'"; DROP TABLE refkit_link; --',
				"1; DELETE FROM refkit_conversion",
				"%' OR '%'='",
				"\\'; --",
				"$1",
			];
			for (const text of sqls) {
				await expectCode(refkit.createLink({ identifier: text }), "INVALID_IDENTIFIER");
				await expectCode(refkit.listHits({ link: text }), "INVALID_IDENTIFIER");
				await expectCode(refkit.confirm({ userId: "u", goal: text }), "INVALID_ARGUMENT");
				expect(await refkit.claim(text, "u")).toBe(0);
			}
			for (const [index, text] of sqls.entries()) {
				const target = `/pricing?q=${encodeURIComponent(text)}`;
				const link = await refkit.createLink({ identifier: `sql_${index}`, userId: text, target });
				expect(link).toMatchObject({ userId: text, target: safeRedirectPath(target) });
				expect(await refkit.getLink(`sql_${index}`)).toMatchObject({ userId: text });
				expect((await refkit.listLinks({ userId: text })).map((l) => l.identifier)).toEqual([`sql_${index}`]);
			}
			// Searches treat SQL and LIKE wildcards as plain text.
			expect((await refkit.listLinks({ search: "' OR 1=1 --" })).map((l) => l.identifier)).toEqual(["sql_0"]);
			expect((await refkit.listLinks({ search: "%' OR '%'='" })).map((l) => l.identifier)).toEqual(["sql_4"]);
			expect(await refkit.listLinks({ search: "' OR '1'='1" })).toEqual([]);

			// A visitor follows sql_0 and signs up as a user whose id looks like SQL; the referral converts.
			const visitor = "'); DROP TABLE refkit_conversion; --";
			const outcome = await visit(refkit, "/ref/sql_0", { userAgent: `${BROWSER_AGENT} ' OR 1=1 --` });
			expect(await refkit.claim(visitorCookie(outcome).split("=")[1], visitor)).toBe(1);
			expect(await refkit.listHits({ search: "' OR 1=1 --" })).toHaveLength(1);
			expect(await refkit.listHits({ search: "' OR '1'='1" })).toEqual([]);
			expect((await refkit.listHits({ userId: visitor }))[0]?.identifier).toBe("sql_0");
			for (const goal of ["signup", "a:b.c-d_e", "1-1--"]) {
				const result = await refkit.confirm({ userId: visitor, goal });
				expect(result).toMatchObject({ status: "converted", referrerUserId: "' OR 1=1 --" });
			}
			const conversions = await refkit.listConversions({ referredUserId: visitor });
			expect(conversions.map((c) => c.goal).sort()).toEqual(["1-1--", "a:b.c-d_e", "signup"]);
			expect((await refkit.listConversions({ referrerUserId: "' OR 1=1 --" })).length).toBe(3);

			await expectTablesSurvive(kind, url);
			expect(await countRows(kind, url, "refkit_link")).toBe(sqls.length);
			expect(await countRows(kind, url, "refkit_conversion")).toBe(3);
			expect(reported).toEqual([]);
		} finally {
			await refkit.close();
		}
	});

	test("property: any identifier, in /ref/<x> or ?ref=<x>, as written or encoded, records nothing", async () => {
		const refkit = await createTestRefkit(kind);
		await refkit.createLink({ identifier: LINK });
		await fc.assert(
			fc.asyncProperty(fc.oneof(anyText, redirectText, headerText), async (identifier) => {
				fc.pre(!identifier.includes(LINK));
				const encoded = await visit(refkit, `/ref/${encodeAll(identifier)}?next=/foo`);
				// "/ref/" alone is no link: the request passes through.
				expect(encoded.redirect?.location).toBe(identifier === "" ? undefined : "/foo");
				expect(encoded.setCookies).toEqual([]);
				for (const url of [
					`/ref/${identifier}?next=/foo`,
					`/foo?ref=${identifier}`,
					`/foo?ref=${encodeAll(identifier)}`,
				]) {
					const outcome = await visit(refkit, url);
					if (outcome.redirect !== null) expectOnSite(outcome.redirect.location);
				}
			}),
			{ numRuns: DIRECT_RUNS },
		);
		expect(refkit.counters().hitsRecorded).toBe(0);
	});

	test("property: any next, written or encoded, in /ref/<x>?next= or a ?ref= URL, lands on the site", async () => {
		const refkit = await createTestRefkit(kind);
		await refkit.createLink({ identifier: LINK, target: "/welcome" });
		// HEAD is redirected exactly as GET but records no hit, which keeps a thousand runs quick (the HTTP
		// property above records them). ?ref= only redirects a GET.
		const head = { method: "HEAD" };
		await fc.assert(
			fc.asyncProperty(fc.oneof(anyText, redirectText, headerText), async (next) => {
				for (const url of [
					`/ref/${LINK}?next=${encodeURIComponent(next)}`,
					`/ref/${LINK}?next=${next}`,
					`/ref/${LINK}?next=${rawTarget(next)}`,
				]) {
					const outcome = await visit(refkit, url, head);
					expectOnSite(outcome.redirect?.location);
				}
				for (const url of [
					`/${next}?ref=${LINK}`,
					`${rawTarget(next)}?ref=${LINK}`,
					`/foo?next=${next}&ref=${LINK}`,
				]) {
					const outcome = await visit(refkit, url);
					if (outcome.redirect === null) continue;
					expectOnSite(outcome.redirect.location);
					const followed = await visit(refkit, outcome.redirect.location, head);
					expectOnSite(followed.redirect?.location);
				}
			}),
			{ numRuns: DIRECT_RUNS / 2 },
		);
	});

	test("property: any Cookie header claims none of a victim's hits, and /ref gives a fresh visitor", async () => {
		const refkit = await createTestRefkit(kind);
		await refkit.createLink({ identifier: LINK });
		const victim = visitorCookie(await visit(refkit, `/ref/${LINK}`));
		const victimId = (victim.split("=")[1] ?? "").split(".")[0] ?? "";
		await fc.assert(
			fc.asyncProperty(hostileCookies(victimId, fc.oneof(anyText, headerText)), async (cookie) => {
				const page = await visit(refkit, "/foo", { user: "mallory", cookie });
				expect(page.redirect).toBeNull();
				const loggedIn = await visit(refkit, `/ref/${LINK}`, { user: "mallory", cookie });
				expect(loggedIn.redirect?.location).toBe("/");
				const anonymous = await visit(refkit, `/ref/${LINK}`, { cookie });
				const fresh = visitorCookie(anonymous).split("=")[1] ?? "";
				const freshId = fresh.split(".")[0] ?? "";
				expect(freshId).not.toBe(victimId);
				expect(fresh).toBe(`${freshId}.${sign(freshId, TEST_SECRET)}`);
			}),
			{ numRuns: DIRECT_RUNS / 2 },
		);
		const victims = await refkit.listHits({ search: victimId });
		expect(victims).toHaveLength(1);
		expect(victims[0]?.userId).toBeNull();
		expect(await refkit.claim(victim.split("=")[1], "victim")).toBe(1);
	});
});
