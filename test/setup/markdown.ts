/**
 * Reading refkit's Markdown as GitHub renders it, for the tests of the README and `docs/`: which lines are
 * prose (not inside a fenced block), the headings and the anchors GitHub gives them, and a heading's section.
 */

/** One line of a Markdown file, with whether it sits inside a fenced code block (the fences included). */
export interface MarkdownLine {
	/** 1-based. */
	number: number;
	text: string;
	fenced: boolean;
	/** Where the line starts in the file's text. */
	offset: number;
}

export function markdownLines(text: string): MarkdownLine[] {
	const lines: MarkdownLine[] = [];
	let fence: string | null = null;
	let offset = 0;
	text.split("\n").forEach((line, i) => {
		const marker = /^ {0,3}(`{3,}|~{3,})/.exec(line)?.[1];
		let fenced = fence !== null;
		if (marker !== undefined && fence === null) {
			fence = marker;
			fenced = true;
		} else if (
			marker !== undefined &&
			fence !== null &&
			marker[0] === fence[0] &&
			marker.length >= fence.length
		) {
			fence = null;
		}
		lines.push({ number: i + 1, text: line, fenced, offset });
		offset += line.length + 1;
	});
	return lines;
}

export interface Heading {
	level: number;
	text: string;
	/** The anchor GitHub links it by, without the `#`. */
	anchor: string;
	line: number;
	offset: number;
}

/**
 * GitHub's anchor for a heading's text: the text as rendered (links as their text, no backticks or tags),
 * lower case, punctuation dropped (letters, digits, `_`, `-` and spaces stay), each space a `-`.
 */
export function slug(heading: string): string {
	return heading
		.replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1")
		.replace(/<[^>]+>/g, "")
		.trim()
		.toLowerCase()
		.replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, "")
		.replace(/ /g, "-");
}

/** The file's ATX headings (`#` to `######`) outside fenced blocks, with GitHub's anchors (`-1`, `-2` for repeats). */
export function headings(text: string): Heading[] {
	const seen = new Map<string, number>();
	const found: Heading[] = [];
	for (const line of markdownLines(text)) {
		const match = /^ {0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$/.exec(line.text);
		if (line.fenced || !match?.[1] || match[2] === undefined) continue;
		const base = slug(match[2]);
		const count = seen.get(base) ?? 0;
		seen.set(base, count + 1);
		found.push({
			level: match[1].length,
			text: match[2],
			anchor: count === 0 ? base : `${base}-${count}`,
			line: line.number,
			offset: line.offset,
		});
	}
	return found;
}

/**
 * The section under the first heading whose text starts with `title`, from that heading to the next heading
 * of the same or a higher level (or the end of the file), as [start, end) offsets; null without one.
 */
export function section(text: string, title: string): [number, number] | null {
	const all = headings(text);
	const index = all.findIndex((heading) => heading.text.startsWith(title));
	const start = all[index];
	if (start === undefined) return null;
	const next = all.slice(index + 1).find((heading) => heading.level <= start.level);
	return [start.offset, next?.offset ?? text.length];
}
