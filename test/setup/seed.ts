import { randomUUID } from "node:crypto";
import Database from "better-sqlite3";
import pg from "pg";
import { createRefkit, type ReferralLink } from "../../src/index.js";
import type { DatabaseKind } from "./database-list.js";

const DAY = 24 * 60 * 60 * 1000;
/** Seeding signs no cookie; any secret of the right length will do. */
const SEED_SECRET = "refkit-seed-secret-0123456789abcdef";
const REFERRERS = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"];
const NAMES = [
	"maya",
	"liam",
	"noah",
	"olivia",
	"emma",
	"lucas",
	"zoe",
	"ethan",
	"ava",
	"leo",
	"mia",
	"jack",
];
const AGENTS = [
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
];
const REFERERS = [
	"https://news.ycombinator.com/",
	"https://twitter.com/",
	null,
	"https://mail.google.com/",
	null,
];

/** A small deterministic random generator (mulberry32), so the showcase looks the same on every run. */
function random(seed: number): () => number {
	let state = seed;
	return () => {
		state = (state + 0x6d2b79f5) | 0;
		let t = Math.imul(state ^ (state >>> 15), 1 | state);
		t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

interface SeedHit {
	id: string;
	link_id: number;
	authenticated: boolean;
	user_id: string | null;
	visitor_id: string | null;
	ip: string;
	user_agent: string;
	referer: string | null;
	created_at: string;
}

/** The columns of `refkit_hit`, in the order of {@link insertHits}'s values. */
const HIT_COLUMNS = [
	"id",
	"link_id",
	"source",
	"authenticated",
	"user_id",
	"visitor_id",
	"ip",
	"user_agent",
	"referer",
	"next",
	"confirmed_at",
	"created_at",
	"updated_at",
] as const;

async function insertHits(kind: DatabaseKind, url: string, hits: SeedHit[]): Promise<void> {
	const values = (hit: SeedHit) => [
		hit.id,
		hit.link_id,
		"link",
		kind === "sqlite" ? Number(hit.authenticated) : hit.authenticated,
		hit.user_id,
		hit.visitor_id,
		hit.ip,
		hit.user_agent,
		hit.referer,
		null,
		null,
		hit.created_at,
		hit.created_at,
	];
	if (kind === "sqlite") {
		const db = new Database(url);
		try {
			const insert = db.prepare(
				`insert into refkit_hit (${HIT_COLUMNS.join(", ")}) values (${HIT_COLUMNS.map(() => "?").join(", ")})`,
			);
			db.transaction(() => {
				for (const hit of hits) insert.run(...values(hit));
			})();
		} finally {
			db.close();
		}
		return;
	}
	const client = new pg.Client({ connectionString: url });
	await client.connect();
	try {
		for (let start = 0; start < hits.length; start += 500) {
			const batch = hits.slice(start, start + 500);
			const params = batch.flatMap(values);
			const rows = batch.map(
				(_, i) => `(${HIT_COLUMNS.map((__, j) => `$${i * HIT_COLUMNS.length + j + 1}`).join(", ")})`,
			);
			await client.query(
				`insert into refkit_hit (${HIT_COLUMNS.join(", ")}) values ${rows.join(", ")}`,
				params,
			);
		}
	} finally {
		await client.end();
	}
}

/**
 * Thirty days of a believable referral programme, for the browser tests and docs/dashboard.md's screenshots:
 * eight referrers and a campaign link, about two thousand visits with a weekly rhythm and a slow rise,
 * signups and first purchases confirmed through `refkit.confirm()`. Hits are written straight to the
 * table, since visitors cannot be sent into the past; conversions go through the public API.
 */
export async function seedShowcase(kind: DatabaseKind, url: string, now = new Date()): Promise<void> {
	const next = random(20261123);
	const refkit = createRefkit({
		database: url,
		secret: SEED_SECRET,
		onError: (error) => console.error(error),
	});
	try {
		await refkit.migrate();
		const links: { link: ReferralLink; weight: number }[] = [];
		for (const [i, owner] of REFERRERS.entries()) {
			links.push({
				link: await refkit.createLink({ identifier: `${owner}_invites`, userId: owner }),
				weight: 8 - i,
			});
		}
		links.push({
			link: await refkit.createLink({ identifier: "spring_sale", target: "/pricing" }),
			weight: 5,
		});
		const totalWeight = links.reduce((sum, entry) => sum + entry.weight, 0);
		const pick = () => {
			let roll = next() * totalWeight;
			for (const entry of links) {
				roll -= entry.weight;
				if (roll < 0) return entry.link;
			}
			return links[0]?.link as ReferralLink;
		};

		const hits: SeedHit[] = [];
		const signups: { userId: string; at: Date }[] = [];
		const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
		let people = 0;
		// Some visitors come back: a third of anonymous visits reuse an earlier visitor id.
		const visitors: string[] = [];
		const visitorId = () => {
			if (visitors.length > 0 && next() < 0.33)
				return visitors[Math.floor(next() * visitors.length)] as string;
			const id = randomUUID();
			visitors.push(id);
			return id;
		};
		for (let day = 29; day >= 0; day--) {
			const start = today - day * DAY;
			const weekday = new Date(start).getUTCDay();
			const count = Math.round(
				(40 + (29 - day) * 1.5) * (weekday === 0 || weekday === 6 ? 0.6 : 1) * (0.8 + next() * 0.4),
			);
			for (let i = 0; i < count; i++) {
				const at = new Date(start + Math.floor(next() * DAY));
				if (at > now) continue;
				const link = pick();
				const roll = next();
				const userId = roll < 0.3 ? `${NAMES[Math.floor(next() * NAMES.length)]}.${++people}` : null;
				hits.push({
					id: randomUUID(),
					link_id: link.id,
					authenticated: roll < 0.05,
					user_id: userId,
					visitor_id: roll < 0.05 ? null : visitorId(),
					ip: `203.0.113.${Math.floor(next() * 250) + 1}`,
					user_agent: AGENTS[Math.floor(next() * AGENTS.length)] as string,
					referer: REFERERS[Math.floor(next() * REFERERS.length)] ?? null,
					created_at: at.toISOString(),
				});
				if (userId !== null && next() < 0.7)
					signups.push({ userId, at: new Date(Math.min(at.getTime() + 10 * 60_000, now.getTime())) });
			}
		}
		await insertHits(kind, url, hits);
		for (const { userId, at } of signups) {
			await refkit.confirm({ userId, goal: "signup", at });
			const later = new Date(at.getTime() + Math.floor(next() * 2 * DAY));
			if (next() < 0.4 && later <= now) {
				await refkit.confirm({
					userId,
					goal: "purchase",
					value: Math.round(900 + next() * 9000) / 100,
					at: later,
				});
			}
		}
	} finally {
		await refkit.close();
	}
}
