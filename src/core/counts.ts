import type { CountedConversion, CountedHit, CountedRows, DaySummary, WeekSummary } from "../store/store.js";
import { Sketch } from "./sketch.js";

/** Conversions of a goal: not reversed, and reversed. */
export type GoalCounts = [active: number, reversed: number];

/** `YYYY-MM-DD` of a time, in UTC. */
export const dayOf = (time: Date): string => time.toISOString().slice(0, 10);

/** What counts as one visitor: a user however many browsers they used, else a visitor id. */
function visitorKey(hit: CountedHit): string | null {
	if (hit.userId !== null) return `u:${hit.userId}`;
	return hit.visitorId === null ? null : `v:${hit.visitorId}`;
}

/** Link ids up to this many are added up in an array (8 MB at most). */
const DENSE_LINK_IDS = 1 << 20;

/** Adds `by` to the count of `key` in `map`. */
export function increment<K>(map: Map<K, number>, key: K, by = 1): void {
	map.set(key, (map.get(key) ?? 0) + by);
}

/**
 * What `stats()` counts of hits and conversions, added one at a time or a day's summary at a time: the same
 * code counts a day to store it and the hits of the days that have no summary yet.
 */
export class Counts {
	hits = 0;
	/** Conversions per goal. */
	readonly goals = new Map<string, GoalCounts>();
	/** Hits per link id of the hits added one by one; see {@link Counts.linkHits}. */
	readonly #linkHits = new Map<number, number>();
	/** Hits per link of the summaries added, as stored: added up when asked for. */
	readonly #summarisedLinkHits: Uint32Array[] = [];
	/** Conversions (not reversed) per referrer. */
	readonly referrers = new Map<string, number>();
	/** Hits and conversions (reversed ones included) per day, when kept. */
	readonly days: Map<string, { hits: number; conversions: number }> | null;
	readonly visitors: Sketch;
	readonly users: Sketch;
	/** Referred users with a conversion that was not reversed. */
	readonly converted: Sketch;

	/**
	 * What the counts are for: a day's summary; a week's, with a count per day and sketches as exact as its
	 * days'; or a period's, with a count per day and sketches exact up to 65,536 keys, not to store.
	 */
	constructor(kind: "day" | "week" | "period") {
		const sketch = () =>
			kind === "period" ? Sketch.union() : kind === "week" ? Sketch.week() : new Sketch();
		this.visitors = sketch();
		this.users = sketch();
		this.converted = sketch();
		this.days = kind === "day" ? null : new Map();
	}

	#day(day: string): { hits: number; conversions: number } {
		let counts = this.days?.get(day);
		if (counts === undefined) {
			counts = { hits: 0, conversions: 0 };
			this.days?.set(day, counts);
		}
		return counts;
	}

	addHit(hit: CountedHit): void {
		this.hits++;
		increment(this.#linkHits, hit.linkId);
		if (this.days !== null) this.#day(hit.day).hits++;
		const visitor = visitorKey(hit);
		if (visitor !== null) this.visitors.add(visitor);
		if (hit.userId !== null) this.users.add(hit.userId);
	}

	addConversion(conversion: CountedConversion): void {
		this.#addGoal(conversion.goal, conversion.reversed ? [0, 1] : [1, 0]);
		if (this.days !== null) this.#day(conversion.day).conversions++;
		if (conversion.reversed) return;
		this.converted.add(conversion.referredUserId);
		if (conversion.referrerUserId !== null) increment(this.referrers, conversion.referrerUserId);
	}

	addSummary(summary: DaySummary | WeekSummary): void {
		this.hits += summary.hits;
		let conversions = 0;
		for (const [goal, counts] of Object.entries(summary.goals)) {
			this.#addGoal(goal, counts);
			conversions += counts[0] + counts[1];
		}
		if (this.days !== null) {
			const daily: Record<string, [number, number]> =
				"week" in summary ? summary.daily : { [summary.day]: [summary.hits, conversions] };
			for (const date in daily) {
				const [hits, converted] = daily[date] as [number, number];
				const day = this.#day(date);
				day.hits += hits;
				day.conversions += converted;
			}
		}
		if (summary.linkHits !== null) this.#summarisedLinkHits.push(summary.linkHits);
		const { referrers } = summary;
		for (const key in referrers) increment(this.referrers, key, referrers[key]);
		this.visitors.merge(Sketch.from(summary.visitors));
		this.users.merge(Sketch.from(summary.users));
		this.converted.merge(Sketch.from(summary.converted));
	}

	/** These counts as the summary of `day` up to `until`, for all links (`linkId` 0) or for one link. */
	toSummary(day: string, until: Date, linkId: number): DaySummary {
		const all = linkId === 0;
		return {
			day,
			until,
			linkId,
			hits: this.hits,
			goals: Object.fromEntries(this.goals),
			linkHits: all ? Uint32Array.from([...this.linkHits].flat()) : null,
			referrers: all ? Object.fromEntries(this.referrers) : null,
			visitors: this.visitors.toBytes(),
			users: this.users.toBytes(),
			converted: this.converted.toBytes(),
		};
	}

	/** These counts as the summary of the week (for all links) starting on `week`. */
	toWeekSummary(week: string): WeekSummary {
		const daily: WeekSummary["daily"] = {};
		for (const [day, counts] of this.days ?? []) daily[day] = [counts.hits, counts.conversions];
		return {
			week,
			hits: this.hits,
			goals: Object.fromEntries(this.goals),
			daily,
			linkHits: Uint32Array.from([...this.linkHits].flat()),
			referrers: Object.fromEntries(this.referrers),
			visitors: this.visitors.toBytes(),
			users: this.users.toBytes(),
			converted: this.converted.toBytes(),
		};
	}

	/**
	 * Hits per link id. A period's days hold up to a few thousand links each: they are added up in an array
	 * indexed by link id when the ids are small enough (ids grow from 1), which is ten times quicker than a map.
	 */
	get linkHits(): Map<number, number> {
		const sums = new Map(this.#linkHits);
		addLinkHits(this.#summarisedLinkHits, sums);
		return sums;
	}

	#addGoal(goal: string, [active, reversed]: GoalCounts): void {
		const counts = this.goals.get(goal);
		if (counts === undefined) this.goals.set(goal, [active, reversed]);
		else {
			counts[0] += active;
			counts[1] += reversed;
		}
	}
}

/**
 * The summaries of one day's hits and conversions up to `until`: one for all links (`linkId` 0), and one for
 * each link with hits or conversions. `previous`: the day's summaries up to an earlier time, which the rows
 * added (the hits and conversions since) extend; empty when the rows added are all of them. Rows are added a
 * page at a time: what this holds grows with the day's links, not its hits.
 */
export class DaySummaries {
	readonly #all = new Counts("day");
	readonly #links = new Map<number, Counts>();

	constructor(
		readonly day: string,
		readonly until: Date,
		previous: DaySummary[],
	) {
		for (const summary of previous)
			(summary.linkId === 0 ? this.#all : this.#of(summary.linkId)).addSummary(summary);
	}

	#of(linkId: number): Counts {
		let counts = this.#links.get(linkId);
		if (counts === undefined) {
			counts = new Counts("day");
			this.#links.set(linkId, counts);
		}
		return counts;
	}

	add({ hits, conversions }: CountedRows): void {
		for (const hit of hits) {
			this.#all.addHit(hit);
			this.#of(hit.linkId).addHit(hit);
		}
		for (const conversion of conversions) {
			this.#all.addConversion(conversion);
			if (conversion.linkId !== null) this.#of(conversion.linkId).addConversion(conversion);
		}
	}

	summaries(): DaySummary[] {
		return [
			this.#all.toSummary(this.day, this.until, 0),
			...[...this.#links].map(([linkId, counts]) => counts.toSummary(this.day, this.until, linkId)),
		];
	}
}

/** The summary of the week starting on `week` (for all links), from its seven days' all-links summaries. */
export function summarizeWeek(week: string, days: DaySummary[]): WeekSummary {
	const counts = new Counts("week");
	for (const day of days) counts.addSummary(day);
	return counts.toWeekSummary(week);
}

/**
 * Adds (link id, hits) pairs, as day summaries keep them, into `sums`: in an array indexed by link id when
 * the ids are small enough (they grow from 1), which is ten times quicker than a map.
 */
export function addLinkHits(parts: readonly Uint32Array[], sums: Map<number, number>): void {
	let largest = 0;
	for (const part of parts)
		for (let i = 0; i < part.length; i += 2) largest = Math.max(largest, part[i] as number);
	if (largest > DENSE_LINK_IDS) {
		for (const part of parts)
			for (let i = 0; i + 1 < part.length; i += 2) increment(sums, part[i] as number, part[i + 1]);
		return;
	}
	const dense = new Float64Array(largest + 1);
	for (const part of parts) {
		for (let i = 0; i + 1 < part.length; i += 2) {
			const linkId = part[i] as number;
			dense[linkId] = (dense[linkId] as number) + (part[i + 1] as number);
		}
	}
	dense.forEach((hits, linkId) => {
		if (hits > 0) increment(sums, linkId, hits);
	});
}
