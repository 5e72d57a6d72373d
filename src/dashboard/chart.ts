import { type Html, html } from "./html.js";

let chartCount = 0;

/** A round upper bound for the y axis: 1, 2 or 5 times a power of ten, at least `max`. */
function niceMax(max: number): number {
	if (max <= 0) return 1;
	const power = 10 ** Math.floor(Math.log10(max));
	for (const step of [1, 2, 5, 10]) if (step * power >= max) return step * power;
	return 10 * power;
}

/** `2026-11-23` → `Nov 23`. */
export function shortDate(date: string): string {
	const [, month, day] = date.split("-");
	const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
	return `${months[Number(month) - 1] ?? month} ${Number(day)}`;
}

/**
 * The words and formats of a chart, for a page in another language than the dashboard's English: each one
 * optional, the dashboard's by default.
 */
export interface ChartLabels {
	/** The x axis's title; default "Day (UTC)". */
	axis?: string;
	/** A `YYYY-MM-DD` day for the axis and the bars' titles; default `shortDate` ("Nov 23"). */
	date?: (date: string) => string;
	/** A count, on the y axis and in the bars' titles; default in `en-US` on the axis ("1,234"), plain in titles. */
	number?: (value: number) => string;
	/** The chart's description for screen readers, from its numbers (days already formatted by `date`). */
	description?: (input: { total: number; unit: string; from: string; to: string; max: number }) => string;
}

const DEFAULT_LABELS: Required<ChartLabels> = {
	axis: "Day (UTC)",
	date: shortDate,
	number: (value) => value.toLocaleString("en-US"),
	description: ({ total, unit, from, to, max }) =>
		`${total} ${unit} from ${from} to ${to}; the most in one day: ${max}.`,
};

/**
 * A server-rendered SVG bar chart of a daily series: titled, with axis labels, a `<title>` per bar for
 * pointer users, and an accessible name and description for screen readers (which also get the same
 * numbers as a table next to it). `labels` translates its words (the dashboard's English by default).
 */
export function barChart(
	input: {
		title: string;
		unit: string;
		points: readonly { date: string; value: number }[];
		color: string;
	},
	labels: ChartLabels = {},
): Html {
	const words = { ...DEFAULT_LABELS, ...labels };
	const id = `chart-${++chartCount}`;
	const width = 640;
	const height = 200;
	const left = 56;
	const bottom = 36;
	const top = 12;
	const plotWidth = width - left - 8;
	const plotHeight = height - top - bottom;
	const max = niceMax(Math.max(0, ...input.points.map((point) => point.value)));
	const slot = plotWidth / Math.max(1, input.points.length);
	const barWidth = Math.max(1, slot * 0.7);
	const total = input.points.reduce((sum, point) => sum + point.value, 0);
	const first = input.points[0]?.date;
	const last = input.points.at(-1)?.date;
	const bars = input.points.map((point, i) => {
		const barHeight = (point.value / max) * plotHeight;
		const x = left + i * slot + (slot - barWidth) / 2;
		return html`<rect x="${x.toFixed(1)}" y="${(top + plotHeight - barHeight).toFixed(1)}" width="${barWidth.toFixed(1)}" height="${barHeight.toFixed(1)}" fill="${input.color}" rx="1"><title>${words.date(point.date)}: ${labels.number ? labels.number(point.value) : point.value} ${input.unit}</title></rect>`;
	});
	// Counts are whole: a middle tick only where it is a whole number (never 0.5 of a hit).
	const ticks = (max % 2 === 0 ? [0, max / 2, max] : [0, max]).map((value) => {
		const y = top + plotHeight - (value / max) * plotHeight;
		return html`<line x1="${left}" x2="${width - 8}" y1="${y}" y2="${y}" stroke="#d9e2ec" stroke-width="1"/><text class="tick" x="${left - 6}" y="${y + 4}" text-anchor="end">${words.number(value)}</text>`;
	});
	const dateLabels = [0, Math.floor((input.points.length - 1) / 2), input.points.length - 1]
		.filter((i, index, all) => i >= 0 && all.indexOf(i) === index)
		.map((i, index, all) => {
			const point = input.points[i];
			// The first and last labels align with the plot's edges, so that no larger text runs off it.
			const [x, anchor] =
				all.length > 1 && index === 0
					? [left + i * slot, "start"]
					: all.length > 1 && index === all.length - 1
						? [left + (i + 1) * slot, "end"]
						: [left + i * slot + slot / 2, "middle"];
			return point
				? html`<text x="${x.toFixed(1)}" y="${top + plotHeight + 16}" text-anchor="${anchor}">${words.date(point.date)}</text>`
				: null;
		});
	return html`<figure class="chart">
<svg viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="${id}-title ${id}-desc" preserveAspectRatio="xMidYMid meet">
<title id="${id}-title">${input.title}</title>
<desc id="${id}-desc">${words.description({
		total,
		unit: input.unit,
		from: first ? words.date(first) : "",
		to: last ? words.date(last) : "",
		max: Math.max(0, ...input.points.map((point) => point.value)),
	})}</desc>
<g class="axis">${ticks}</g>
<g>${bars}</g>
<g class="axis">${dateLabels}<text x="${left + plotWidth / 2}" y="${height - 4}" text-anchor="middle" class="axis-title x-title">${words.axis}</text>
<text transform="rotate(-90)" x="${-(top + plotHeight / 2)}" y="13" text-anchor="middle" class="axis-title y-title">${input.unit}</text></g>
</svg>
<figcaption>${input.title}</figcaption>
</figure>`;
}
