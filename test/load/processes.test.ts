import { describe, expect, test } from "vitest";
import { createRefkit } from "../../src/index.js";
import { DATABASES, freshDatabaseUrl, TEST_SECRET } from "../setup/databases.js";
import { runSql } from "../setup/direct.js";
import { cookiePair, LoadClient, latencySummary, limiter, pool, type Reply } from "./client.js";
import { startAppServer } from "./server.js";
import { CONCURRENCY, FOLLOWS, perSecond, report, TIMEOUT } from "./sizes.js";

const LEDGER =
	"create table reward_ledger (conversion_id text not null, referred text, referrer text, goal text, cents integer)";
/** The link owners; user u is referred by REFERRERS[u % 10]. */
const REFERRERS = Array.from({ length: 10 }, (_, r) => ({ user: `referrer${r}`, identifier: `link_${r}` }));
/** Each referred user follows links ten times: six from browser A, three from browser B, one logged in. */
const FOLLOWS_PER_USER = 10;
const USERS = FOLLOWS / FOLLOWS_PER_USER;
/** The follows, and ten logins and confirmations. */
const REQUESTS_PER_USER = FOLLOWS_PER_USER + 10;

interface Outcomes {
	/** The `next` of every follow that was redirected. */
	followed: Set<string>;
	/** How many confirmations answered `converted`, by `<user> <goal>`. */
	converted: Map<string, number>;
	/** Everything that went wrong, as text. */
	wrong: string[];
	/** The process ids that answered. */
	workers: Set<string>;
}

/**
 * One referred user, `u`, against the app: follows from two browsers, then, all at once, one more follow,
 * two signups (claiming browser A's hits), a login from browser B (the middleware's claim), three purchases
 * and a follow while logged in, each request going to whichever worker takes it. Then both browsers log in
 * again, and one more signup and purchase are confirmed, which must find the goal converted (by now or before).
 */
async function referredUser(client: LoadClient, limit: ReturnType<typeof limiter>, u: number, out: Outcomes) {
	const user = `user${u}`;
	const { identifier } = REFERRERS[u % REFERRERS.length] as (typeof REFERRERS)[number];
	const send = async (path: string, init: Parameters<LoadClient["send"]>[1] = {}): Promise<Reply> => {
		const reply = await limit(() => client.send(path, init));
		if (reply.worker) out.workers.add(reply.worker);
		return reply;
	};
	const follow = async (tag: string, headers: Record<string, string | undefined> = {}) => {
		const next = `/p/${u}/${tag}`;
		const reply = await send(`/ref/${identifier}?next=${encodeURIComponent(next)}`, { headers });
		if (reply.status === 302 && reply.location === next) out.followed.add(next);
		else out.wrong.push(`follow ${next}: ${reply.status} to ${reply.location}`);
		return reply;
	};
	const loggedIn = (cookie?: string) => ({ "x-test-user": user, cookie });
	const confirm = async (goal: "signup" | "purchase", cookie?: string) => {
		const reply = await send(`/${goal}`, { method: "POST", headers: loggedIn(cookie) });
		if (reply.status !== 200) {
			out.wrong.push(`${user} ${goal}: ${reply.status} ${reply.body.slice(0, 300)}`);
			return null;
		}
		const { status } = JSON.parse(reply.body) as { status: string };
		if (status === "converted") {
			out.converted.set(`${user} ${goal}`, (out.converted.get(`${user} ${goal}`) ?? 0) + 1);
		}
		return status;
	};
	const page = async (cookie: string) => {
		const reply = await send("/", { headers: loggedIn(cookie) });
		if (reply.status !== 200) out.wrong.push(`${user} GET /: ${reply.status}`);
	};

	const browserA = cookiePair(await follow("a0"), "refkit_visitor");
	const browserB = cookiePair(await follow("b0"), "refkit_visitor");
	if (!browserA || !browserB) {
		out.wrong.push(`${user}: no visitor cookie`);
		return;
	}
	await Promise.all([
		...[1, 2, 3, 4].map((k) => follow(`a${k}`, { cookie: browserA })),
		...[1, 2].map((k) => follow(`b${k}`, { cookie: browserB })),
	]);
	const [statuses] = await Promise.all([
		Promise.all([
			confirm("signup", browserA),
			confirm("signup", browserA),
			confirm("purchase"),
			confirm("purchase"),
			confirm("purchase"),
		]),
		follow("a5", { cookie: browserA }), // before or after the claim: claimed now, or at the next login
		page(browserB),
		follow("u0", loggedIn()),
	]);
	// A purchase confirmed before any hit was the user's has no referral yet; a later one converts.
	for (const status of statuses) {
		if (status !== "converted" && status !== "already-converted" && status !== "no-referral") {
			out.wrong.push(`${user}: a racing confirm() answered ${status}`);
		}
	}
	await Promise.all([page(browserA), page(browserB)]);
	for (const goal of ["signup", "purchase"] as const) {
		const status = await confirm(goal);
		if (status !== "converted" && status !== "already-converted") {
			out.wrong.push(`${user} ${goal} after the claims: ${status}`);
		}
	}
}

describe.each(DATABASES)("several processes on one %s database", (kind) => {
	const workers = kind === "postgres" ? 4 : 2;
	test(
		`${workers} processes, ${USERS} users: ${FOLLOWS} follows, claims and confirms racing across them, ` +
			"no hit lost, each claimed by its user, one conversion and one reward per user and goal",
		async () => {
			const url = await freshDatabaseUrl(kind);
			await runSql(kind, url, LEDGER);
			const setup = createRefkit({ database: url, secret: TEST_SECRET });
			await setup.migrate();
			for (const { user, identifier } of REFERRERS) await setup.createLink({ identifier, userId: user });
			await setup.close();

			const server = await startAppServer(url, workers);
			const client = new LoadClient(server.base, CONCURRENCY);
			const out: Outcomes = { followed: new Set(), converted: new Map(), wrong: [], workers: new Set() };
			const limit = limiter(CONCURRENCY);
			const { elapsedMs, errors } = await pool(USERS, CONCURRENCY, (u) =>
				referredUser(client, limit, u, out),
			);
			client.close();
			const requests = USERS * REQUESTS_PER_USER;
			report(
				`${kind}, ${workers} processes: ${USERS} users, ${requests} requests (${FOLLOWS} follows) at ` +
					`concurrency ${CONCURRENCY} in ${(elapsedMs / 1000).toFixed(1)} s, ${perSecond(requests, elapsedMs)} requests/s ` +
					`(${latencySummary(client.latencies)})`,
			);
			// What the server reported (an error refkit absorbed, a failed route, a dead worker) says the most.
			expect(server.problems()).toEqual([]);
			expect(errors.slice(0, 3)).toEqual([]);
			expect(out.wrong.slice(0, 5)).toEqual([]);
			expect(out.workers.size, "every process answered").toBe(workers);
			expect(out.followed.size).toBe(FOLLOWS);

			// No hit lost, none twice, each of the user who made it (claimed, or made logged in).
			const hits = (await runSql(
				kind,
				url,
				"select h.id, h.next, h.user_id, h.visitor_id, h.authenticated, l.identifier from refkit_hit h join refkit_link l on l.id = h.link_id",
			)) as {
				id: string;
				next: string;
				user_id: string | null;
				visitor_id: string | null;
				authenticated: boolean | number;
				identifier: string;
			}[];
			expect(hits).toHaveLength(FOLLOWS);
			expect(new Set(hits.map((hit) => hit.next))).toEqual(out.followed);
			const visitorsOf = new Map<string, Set<string | null>>();
			const hitUser = new Map<string, string | null>();
			for (const hit of hits) {
				const [, u, tag] = /^\/p\/(\d+)\/([abu])\d$/.exec(hit.next) ?? [];
				const user = `user${u}`;
				hitUser.set(hit.id, hit.user_id);
				expect(hit, hit.next).toMatchObject({
					user_id: user,
					identifier: REFERRERS[Number(u) % REFERRERS.length]?.identifier,
					authenticated: tag === "u" ? (kind === "sqlite" ? 1 : true) : kind === "sqlite" ? 0 : false,
				});
				const key = `${user} ${tag}`;
				visitorsOf.set(key, (visitorsOf.get(key) ?? new Set()).add(hit.visitor_id));
			}
			// One visitor id per browser, none shared between browsers or users.
			expect([...visitorsOf.values()].every((ids) => ids.size === 1)).toBe(true);
			const browsers = [...visitorsOf].filter(([key]) => !key.endsWith(" u")).map(([, ids]) => [...ids][0]);
			expect(new Set(browsers).size).toBe(USERS * 2);

			// Exactly one conversion per user and goal, credited to the user's referrer through one of their hits.
			const conversions = (await runSql(
				kind,
				url,
				"select id, goal, referred_user_id, referrer_user_id, hit_id from refkit_conversion",
			)) as {
				id: string;
				goal: string;
				referred_user_id: string;
				referrer_user_id: string;
				hit_id: string;
			}[];
			expect(conversions).toHaveLength(USERS * 2);
			expect(new Set(conversions.map((c) => `${c.referred_user_id} ${c.goal}`)).size).toBe(USERS * 2);
			for (const c of conversions) {
				const u = Number(c.referred_user_id.slice("user".length));
				expect(c.referrer_user_id).toBe(REFERRERS[u % REFERRERS.length]?.user);
				expect(hitUser.get(c.hit_id), "the credited hit is the user's").toBe(c.referred_user_id);
			}
			// Each answered `converted` once, and each reward was paid once, in its conversion's transaction.
			expect(out.converted.size).toBe(USERS * 2);
			expect([...out.converted.values()].every((count) => count === 1)).toBe(true);
			const ledger = (await runSql(
				kind,
				url,
				"select conversion_id, referred, referrer, goal, cents from reward_ledger",
			)) as { conversion_id: string; referred: string; referrer: string; goal: string; cents: number }[];
			expect(ledger).toHaveLength(USERS * 2);
			expect(ledger.map((row) => row.conversion_id).sort()).toEqual(conversions.map((c) => c.id).sort());
			expect(
				ledger.every((row) =>
					conversions.some(
						(c) =>
							c.id === row.conversion_id &&
							c.referrer_user_id === row.referrer &&
							c.referred_user_id === row.referred &&
							c.goal === row.goal,
					),
				),
			).toBe(true);
		},
		TIMEOUT,
	);
});
