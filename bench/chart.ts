/** One bar: a case's requests/s as a share of its baseline's, and the least share its target asks for. */
export interface Bar {
	label: string;
	ratio: number;
	target: number | null;
}

const xmlText = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** A horizontal bar chart of the ratios, as a standalone SVG: bars in green where the target is met. */
export function chart(bars: Bar[]): string {
	// About 6.5 px per character of a 12 px sans-serif label.
	const labelWidth = 20 + Math.ceil(Math.max(0, ...bars.map((b) => b.label.length)) * 6.5);
	const plot = 420;
	const row = 22;
	const top = 34;
	const max = Math.max(1.1, ...bars.map((b) => b.ratio));
	const x = (ratio: number) => labelWidth + (ratio / max) * plot;
	const height = top + bars.length * row + 30;
	const width = labelWidth + plot + 70;
	const grid = [0, 0.25, 0.5, 0.75, 1]
		.filter((g) => g <= max)
		.map(
			(g) =>
				`<line x1="${x(g)}" y1="${top - 6}" x2="${x(g)}" y2="${top + bars.length * row}" stroke="#ddd"/><text x="${x(g)}" y="${top + bars.length * row + 16}" text-anchor="middle">${g * 100}%</text>`,
		)
		.join("");
	const body = bars
		.map((b, i) => {
			const y = top + i * row;
			const met = b.target === null || b.ratio >= b.target;
			const colour = b.target === null ? "#7a8ca3" : met ? "#2e8b57" : "#c0392b";
			const target =
				b.target === null
					? ""
					: `<line x1="${x(b.target)}" y1="${y + 1}" x2="${x(b.target)}" y2="${y + row - 3}" stroke="#000" stroke-width="2"/>`;
			return `<text x="${labelWidth - 8}" y="${y + 15}" text-anchor="end">${xmlText(b.label)}</text><rect x="${labelWidth}" y="${y + 3}" width="${Math.max(1, x(b.ratio) - labelWidth)}" height="${row - 8}" fill="${colour}"/>${target}<text x="${x(b.ratio) + 4}" y="${y + 15}">${(b.ratio * 100).toFixed(0)}%</text>`;
		})
		.join("");
	return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12"><title>refkit benchmark: requests/s as a share of each baseline</title><rect width="100%" height="100%" fill="#fff"/><text x="10" y="18" font-weight="bold">requests/s as a share of the baseline measured in the same run (black tick: the target)</text>${grid}${body}</svg>\n`;
}
