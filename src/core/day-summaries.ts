import type { DaySummary, SummaryStore, WeekSummary } from "../store/store.js";
import { DaySummaries, summarizeWeek } from "./counts.js";

const DAY = 24 * 60 * 60 * 1000;

/** When a day (`YYYY-MM-DD`) starts, in UTC, as milliseconds since the epoch. */
function dayStart(day: string): number {
	return Date.parse(`${day}T00:00:00.000Z`);
}

/**
 * Summarises `day` (`YYYY-MM-DD`, UTC) up to `until` (excluded), for all links and for each link. The day's
 * stored summaries are extended when they end no later than `until` (only the hits and conversions after them
 * are read), else made anew from the whole day's. The store keeps them unless the day changed while they
 * were made (see src/store/summaries.ts: then the next call summarises the day again); they are returned
 * either way, counting the day as it was read.
 */
export async function summarizeDay(store: SummaryStore, day: string, until: Date): Promise<DaySummary[]> {
	const { stored, marker } = await store.startDaySummary(day, until);
	const covered = stored.find((summary) => summary.linkId === 0)?.until;
	const extend = covered !== undefined && covered.getTime() <= until.getTime();
	const summarizer = new DaySummaries(day, until, extend ? stored : []);
	const period = { from: extend ? covered : new Date(dayStart(day)), to: until };
	for await (const rows of store.dayRows(period)) summarizer.add(rows);
	const summaries = summarizer.summaries();
	await store.finishDaySummary(day, marker, summaries);
	return summaries;
}

/**
 * The summary of the week whose seven `days` (Monday first) have these stored all-links summaries, or `null`
 * unless all seven are there and whole (each covering its day to the next midnight): a week's summary is
 * made once, from whole days only.
 */
export function weekFromDays(days: string[], summaries: DaySummary[]): WeekSummary | null {
	const whole = (summary: DaySummary) => summary.until.getTime() === dayStart(summary.day) + DAY;
	if (summaries.length !== days.length || !summaries.every(whole)) return null;
	return summarizeWeek(days[0] as string, summaries);
}
