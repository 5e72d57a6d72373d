/** The demo's small HTML helpers, shared by its pages. Every value put into a page is escaped first. */

export function escapeHtml(value: string): string {
	return value.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** A time as the demo shows it, in UTC: "2026-12-07 14:03:25". */
export function when(date: Date): string {
	return date.toISOString().replace("T", " ").slice(0, 19);
}

/** An HTML table of cells that are already escaped, or a muted line when there are no rows. */
export function table(headings: string[], rows: string[][], empty: string, id?: string): string {
	if (rows.length === 0) return `<p class="muted">${empty}</p>`;
	const head = headings.map((heading) => `<th>${heading}</th>`).join("");
	const body = rows.map((cells) => `<tr>${cells.map((cell) => `<td>${cell}</td>`).join("")}</tr>`).join("");
	return `<table${id ? ` id="${id}"` : ""}><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}
