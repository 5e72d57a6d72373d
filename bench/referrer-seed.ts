/**
 * Bulk seeding for bench/referrer.ts: one busy referrer, `star`, among many ordinary ones, written by SQL the
 * database runs itself (a recursive CTE on SQLite, `generate_series` on PostgreSQL), as bench/programs-seed.ts
 * does, so that both databases get the same rows. Every time is a fixed `now` minus a number of milliseconds,
 * written as refkit writes times (ISO-8601 text on SQLite, `timestamptz` on PostgreSQL).
 *
 * - Links: `star` has three (60 %, 30 % and 10 % of their hits); each other referrer `u0`... has one; a few
 *   campaign links belong to nobody.
 * - Hits: `star`'s evenly spread over the last 90 days up to a second ago (so some today); the others' too,
 *   with popularity skewed towards the first links. 55 % anonymous, 25 % anonymous and later claimed, 20 %
 *   logged in; 5 % typed codes.
 * - Conversions (referrals): 70 % signups, then purchases by the same referred users (each after the user's
 *   signup, with a sale and, when reversed, its refund); 5 % reversed, halfway between their time and now.
 * - Commissions, one per conversion (5.00 a signup, 10 % of a sale), payable 30 days after (the program's hold),
 *   and the payouts of three runs, 50, 35 and 20 days ago: a commission payable before a run is claimed by it
 *   (paid by the first two, still `created` for the last one, its rows approved and claimed), unless held
 *   (2 %). Not claimed: pending while in their hold (and some past it, which read as payable), else approved.
 *   A reversed conversion voids its commission, or, when a payout claimed it before the reversal, adds a
 *   clawback (a negative row, approved, claimed by the next run if there is one). A payout's amount and count
 *   are its rows'; a run pays a beneficiary only a positive net.
 * - `refkit_balance` derived from the ledger as refkit keeps it (bench/programs-seed.ts's way).
 */
import { analyze, BALANCES, type Db, execSql, querySql } from "./programs-seed.js";

export const STAR = "star";
export const STAR_LINKS = ["star_a", "star_b", "star_c"] as const;
const DAY_MS = 86_400_000;
const SPAN_MS = 90 * DAY_MS;
/** The payout runs' cutoffs, in days before now: the runs claim what was payable by then. */
export const PAYOUT_RUNS_DAYS_AGO = [50, 35, 20] as const;
const HOLD_MS = 30 * DAY_MS;
const CAMPAIGNS = 20;

export interface SeedSizes {
	/** `star`'s hits, conversions (about as many commissions, plus clawbacks). */
	hits: number;
	conversions: number;
	/** The other referrers, and their hits and conversions in all. */
	referrers: number;
	otherHits: number;
	otherConversions: number;
}

/** Multipliers of the hashes below: each attribute of a row gets its own, so that they do not correlate. */
const MULTIPLIERS = [2654435761, 2246822519, 3266489917, 668265263, 374761393, 1181783497, 2869860233];

function dialect(db: Db, nowMs: number) {
	const sqlite = db === "sqlite";
	return {
		/** A SELECT of `columns` over g(n) = 1..count. */
		series: (count: number, columns: string) =>
			sqlite
				? `with recursive g(n) as (select 1 union all select n + 1 from g where n < ${count}) select ${columns} from g`
				: `select ${columns} from generate_series(1::bigint, ${count}) as g(n)`,
		/** A UUID made of a kind (0-255) and a number, the same on both databases. */
		uuid: (kind: number, n: string) =>
			sqlite
				? `printf('%08x-0000-4000-8000-%012x', ${kind}, ${n})`
				: `(lpad(to_hex(${kind}), 8, '0') || '-0000-4000-8000-' || lpad(to_hex(${n}), 12, '0'))::uuid`,
		/** The time `msAgo` milliseconds (an SQL expression) before the seed's now, as refkit stores times. */
		at: (msAgo: string) =>
			sqlite
				? `strftime('%Y-%m-%dT%H:%M:%fZ', (${nowMs} - (${msAgo})) / 1000.0, 'unixepoch')`
				: `to_timestamp(((${nowMs} - (${msAgo})) / 1000.0)::float8)`,
		text: (expression: string) => (sqlite ? `cast(${expression} as text)` : `(${expression})::text`),
		/** A pseudo-random 0..4294967290 of `n` (a multiplicative hash), one sequence per `which`. */
		hash: (n: string, which: number) => `((${n}) * ${MULTIPLIERS[which]} % 4294967291)`,
	};
}

/**
 * Seeds `sizes` into a migrated, empty database at `url`, as of `nowMs`, then lets PostgreSQL analyse it.
 * Returns the rows written per table.
 */
export async function seedReferrers(
	db: Db,
	url: string,
	sizes: SeedSizes,
	nowMs: number,
): Promise<Record<string, number>> {
	const d = dialect(db, nowMs);
	const R = sizes.referrers;
	const visitors = Math.max(1000, Math.round((sizes.hits + sizes.otherHits) * 0.4));
	const linkTime = d.at(String(200 * DAY_MS));
	// Link ids follow the order of insertion in a new database: star's 1 to 3, u<k>'s 4 + k, then campaigns.
	const otherLink = (b: string) => `3 + (${b})`;
	const links = [
		`insert into refkit_link (identifier, user_id, disabled, target, created_at, updated_at) values ${STAR_LINKS.map(
			(identifier) =>
				`('${identifier}', '${STAR}', ${db === "sqlite" ? 0 : "false"}, null, ${linkTime}, ${linkTime})`,
		).join(", ")}`,
		`insert into refkit_link (identifier, user_id, disabled, target, created_at, updated_at) ${d.series(
			R + CAMPAIGNS,
			`case when n <= ${R} then 'u' || ${d.text("n - 1")} || '_link' else 'campaign_' || ${d.text(`n - ${R}`)} end,
			 case when n <= ${R} then 'u' || ${d.text("n - 1")} else null end, ${db === "sqlite" ? 0 : "false"}, null, ${linkTime}, ${linkTime}`,
		)}`,
	];

	const hitColumns =
		"insert into refkit_hit (id, link_id, source, authenticated, user_id, visitor_id, ip, user_agent, referer, next, confirmed_at, created_at, updated_at)";
	/** Hits numbered 1..count of kind `kind`, `msAgo` and `link` SQL expressions of n, referred users `prefix`<k>. */
	const hits = (kind: number, count: number, msAgo: string, link: string, prefix: string, users: number) => {
		// The attributes' hashes of row n of each kind differ: star's and the others' n-th hits are unrelated.
		const m = `(n + ${kind * 1_000_003})`;
		const who = `${d.hash(m, 1)} % 100`;
		return `${hitColumns} ${d.series(
			count,
			`${d.uuid(kind, "n")}, ${link}, case when ${d.hash(m, 4)} % 20 = 0 then 'code' else 'link' end,
			 (${who} >= 80),
			 case when ${who} >= 55 then '${prefix}' || ${d.text(`${d.hash(m, 2)} % ${users}`)} else null end,
			 case when ${who} < 80 then 'v' || ${d.text(`${d.hash(m, 3)} % ${visitors}`)} else null end,
			 '10.' || ${d.text(`${d.hash(m, 3)} % 256`)} || '.' || ${d.text(`${d.hash(m, 4)} % 256`)} || '.7',
			 case ${d.hash(m, 5)} % 3
			   when 0 then 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36'
			   when 1 then 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1'
			   else 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0' end,
			 case ${d.hash(m, 6)} % 4 when 0 then 'https://twitter.com/' when 1 then 'https://www.google.com/' else null end,
			 null, null, ${d.at(msAgo)}, ${d.at(msAgo)}`,
		)}`;
	};
	const starShare = (n: string) => `${d.hash(n, 0)} % 100`;
	const starLink = (n: string) =>
		`case when ${starShare(n)} < 60 then 1 when ${starShare(n)} < 90 then 2 else 3 end`;
	// The others' links: skewed towards the first (u²), campaigns last.
	const skew = `${d.hash("n", 0)} % 1000`;
	const otherHitLink = `4 + (${skew}) * (${skew}) * ${R + CAMPAIGNS} / 1000000`;

	/**
	 * Conversions numbered 1..count into bench_conv: signups of users k = 1..S (S = 70 %), then purchases of
	 * users k = 1..count - S. `referrer(k)`, `beneficiary(k)`, `link(k)` and `signupMsAgo(k)` are SQL of k.
	 */
	const conversions = (
		kind: number,
		offset: number,
		count: number,
		prefix: string,
		beneficiary: (k: string) => string,
		link: (k: string) => string,
		signupMsAgo: (k: string) => string,
	) => {
		const S = Math.floor(count * 0.7);
		const k = `(case when n <= ${S} then n else n - ${S} end)`;
		const signupAgo = signupMsAgo(k);
		const msAgo = `case when n <= ${S} then ${signupAgo} else (${signupAgo}) * (5 + ${d.hash("n", 2)} % 90) / 100 end`;
		return `insert into bench_conv (n, id, goal, referred, b, link_id, ms_ago, reversed, signup_id, sale_amount, h) ${d.series(
			count,
			`n + ${offset}, ${d.uuid(kind, "n")}, case when n <= ${S} then 'signup' else 'purchase' end,
			 '${prefix}' || ${d.text(k)}, ${beneficiary(k)}, ${link(k)}, ${msAgo},
			 (${d.hash("n", 3)} % 100 < 5), ${d.uuid(kind, k)},
			 case when n <= ${S} then null else 1000 + ${d.hash("n", 4)} % 20000 end, ${d.hash("n", 5)} % 100`,
		)}`;
	};
	const user = (b: string) => `case when ${b} = 0 then '${STAR}' else 'u' || ${d.text(`${b} - 1`)} end`;
	const bool = db === "sqlite" ? "integer" : "boolean";
	const big = db === "sqlite" ? "integer" : "bigint";
	const uuid = db === "sqlite" ? "text" : "uuid";
	const cutoff = (slot: string) =>
		`case ${slot} ${PAYOUT_RUNS_DAYS_AGO.map((days, i) => `when ${i + 1} then ${days * DAY_MS}`).join(" ")} end`;
	const slotOf = (payableMsAgo: string) =>
		`case ${PAYOUT_RUNS_DAYS_AGO.map((days, i) => `when ${payableMsAgo} >= ${days * DAY_MS} then ${i + 1}`).join(" ")} else null end`;

	const statements = [
		...links,
		hits(
			10,
			sizes.hits,
			`1000 + (n - 1) * ${SPAN_MS - 1000} / ${sizes.hits}`,
			starLink("n"),
			"s",
			Math.max(100, Math.round(sizes.hits * 0.15)),
		),
		hits(
			11,
			sizes.otherHits,
			`500 + (n - 1) * ${SPAN_MS - 1000} / ${Math.max(1, sizes.otherHits)}`,
			otherHitLink,
			"r",
			Math.max(100, Math.round(sizes.otherHits * 0.15)),
		),
		`create temp table bench_conv (n ${big} primary key, id ${uuid} not null, goal text not null, referred text not null,
			b ${big} not null, link_id integer, ms_ago ${big} not null, reversed ${bool} not null, signup_id ${uuid} not null,
			sale_amount ${big}, h ${big} not null)`,
		conversions(
			20,
			0,
			sizes.conversions,
			"s",
			() => "0",
			starLink,
			(k) =>
				`60000 + (${Math.floor(sizes.conversions * 0.7)} - ${k}) * ${SPAN_MS - 60_000} / ${Math.max(1, Math.floor(sizes.conversions * 0.7))}`,
		),
		conversions(
			21,
			sizes.conversions,
			sizes.otherConversions,
			"o",
			(k) => `1 + ${d.hash(k, 6)} % ${R}`,
			(k) => otherLink(`1 + ${d.hash(k, 6)} % ${R}`),
			(k) => `60000 + ${d.hash(k, 1)} % 1000000 * ${Math.floor((SPAN_MS - 60_000) / 1_000_000)}`,
		),
		`insert into refkit_conversion (id, goal, referred_user_id, referrer_user_id, hit_id, link_id, value, created_at,
			updated_at, reversed_at, reversal_reason, delivered_at, reversal_delivered_at, next_delivery_at, delivery_attempts)
		 select id, goal, referred, ${user("b")}, null, link_id, sale_amount / 100.0, ${d.at("ms_ago")},
			${d.at("case when reversed then ms_ago / 2 else ms_ago end")},
			case when reversed then ${d.at("ms_ago / 2")} else null end, case when reversed then 'refund' else null end,
			${d.at("ms_ago")}, case when reversed then ${d.at("ms_ago / 2")} else null end, null, 1
		 from bench_conv order by n`,
		`insert into refkit_sale (id, external_id, user_id, referrer_user_id, conversion_id, program, amount, currency,
			refunded, sequence, created_at, recorded_at)
		 select ${d.uuid(30, "n")}, 'inv_' || ${d.text("n")}, referred, ${user("b")}, signup_id, 'bench', sale_amount, 'USD',
			case when reversed then sale_amount else 0 end, 1, ${d.at("ms_ago")}, ${d.at("ms_ago")}
		 from bench_conv where goal = 'purchase' order by n`,
		`insert into refkit_refund (id, external_id, sale_id, amount, reason, created_at)
		 select ${d.uuid(31, "n")}, 're_' || ${d.text("n")}, ${d.uuid(30, "n")}, sale_amount, 'refund', ${d.at("ms_ago / 2")}
		 from bench_conv where goal = 'purchase' and reversed order by n`,
		// Each conversion's commission: payable 30 days after it, claimed by the first run after that (slot).
		`create temp table bench_comm as select c.*, ${slotOf(`c.ms_ago - ${HOLD_MS}`)} as slot from bench_conv c`,
		`create temp table bench_row (n ${big} not null, id ${uuid} not null, b ${big} not null, rule text not null,
			source_type text not null, source_id ${uuid} not null, referral_id ${uuid} not null, amount ${big} not null,
			status text not null, payable_ms_ago ${big} not null, created_ms_ago ${big} not null, clawback_of ${uuid},
			slot integer)`,
		`insert into bench_row select n, ${d.uuid(40, "n")}, b, case when goal = 'signup' then 'signup' else 'sale' end,
			case when goal = 'signup' then 'conversion' else 'sale' end,
			case when goal = 'signup' then id else ${d.uuid(30, "n")} end, signup_id,
			case when goal = 'signup' then 500 else sale_amount / 10 end,
			case when reversed and (slot is null or ms_ago / 2 > ${cutoff("slot")}) then 'voided'
			     when not reversed and h < 2 then 'held'
			     when slot is not null then 'claimed'
			     when ms_ago < ${HOLD_MS} then 'pending'
			     when h < 6 then 'pending'
			     else 'approved' end,
			ms_ago - ${HOLD_MS}, ms_ago, null,
			case when not reversed and h < 2 then null else slot end
		 from bench_comm`,
		// The clawbacks of reversed conversions whose commission a run claimed first.
		`insert into bench_row select c.n, ${d.uuid(41, "c.n")}, c.b, r.rule, r.source_type, r.source_id, r.referral_id,
			-r.amount, case when (${slotOf("c.ms_ago / 2")}) is null then 'approved' else 'claimed' end,
			c.ms_ago / 2, c.ms_ago / 2, r.id, ${slotOf("c.ms_ago / 2")}
		 from bench_comm c join bench_row r on r.n = c.n
		 where c.reversed and r.status = 'claimed'`,
		`create temp table bench_payout as select b, slot, sum(amount) as amount, count(*) as commissions
		 from bench_row where status = 'claimed' group by b, slot having sum(amount) > 0`,
		`insert into refkit_payout (id, run_id, beneficiary_user_id, currency, amount, commissions, cutoff, status,
			reference, failure_reason, created_at, paid_at, failed_at)
		 select ${d.uuid(50, "b * 4 + slot")}, ${d.uuid(51, "slot")}, ${user("b")}, 'USD', amount, commissions,
			${d.at(cutoff("slot"))}, case when slot < 3 then 'paid' else 'created' end,
			case when slot < 3 then 'tr_' || ${d.text("b * 4 + slot")} else null end, null, ${d.at(cutoff("slot"))},
			case when slot < 3 then ${d.at(`${cutoff("slot")} - ${2 * DAY_MS}`)} else null end, null
		 from bench_payout order by b, slot`,
		`insert into refkit_commission (id, program, rule, terms, beneficiary_user_id, role, source_type, source_id,
			referral_id, amount, currency, status, payable_at, held_reason, void_reason, clawback_of, replaces, payout_id,
			created_at, updated_at)
		 select r.id, 'bench', r.rule, '{}', ${user("r.b")}, 'referrer', r.source_type, r.source_id, r.referral_id,
			r.amount, 'USD',
			case when r.status <> 'claimed' then r.status when p.b is null or r.slot = 3 then 'approved' else 'paid' end,
			${d.at("r.payable_ms_ago")}, case when r.status = 'held' then 'review' else null end,
			case when r.status = 'voided' then 'refund' else null end, r.clawback_of, null,
			case when r.status = 'claimed' and p.b is not null then ${d.uuid(50, "r.b * 4 + r.slot")} else null end,
			${d.at("r.created_ms_ago")}, ${d.at("r.created_ms_ago")}
		 from bench_row r left join bench_payout p on p.b = r.b and p.slot = r.slot
		 order by r.clawback_of is not null, r.n`,
		BALANCES,
		"drop table bench_row",
		"drop table bench_comm",
		"drop table bench_conv",
		"drop table bench_payout",
	];
	await execSql(db, url, statements);
	await analyze(db, url);
	const counts: Record<string, number> = {};
	for (const table of [
		"refkit_link",
		"refkit_hit",
		"refkit_conversion",
		"refkit_sale",
		"refkit_refund",
		"refkit_commission",
		"refkit_payout",
		"refkit_balance",
	]) {
		const [row] = await querySql(db, url, `select count(*) as n from ${table}`);
		counts[table] = Number(row?.n);
	}
	const [first] = await querySql(db, url, "select identifier from refkit_link where id = 1");
	if (first?.identifier !== STAR_LINKS[0]) throw new Error(`link 1 is ${JSON.stringify(first)}, not star's`);
	return counts;
}
