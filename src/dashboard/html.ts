/**
 * HTML built only through the `html` tag, which escapes every interpolated value unless it is itself `Html`
 * made by the tag. A user id, a User-Agent or a Referer with markup in it can only ever show as text.
 */
export class Html {
	constructor(readonly value: string) {}
	toString(): string {
		return this.value;
	}
}

const ESCAPES: Record<string, string> = {
	"&": "&amp;",
	"<": "&lt;",
	">": "&gt;",
	'"': "&quot;",
	"'": "&#39;",
};

/** `value` as text that is safe in HTML content and in quoted attribute values. */
export function escapeHtml(value: string): string {
	return value.replace(/[&<>"']/g, (char) => ESCAPES[char] as string);
}

type Part = Html | string | number | boolean | null | undefined | readonly Part[];

function render(part: Part): string {
	if (part === null || part === undefined || part === false || part === true) return "";
	if (part instanceof Html) return part.value;
	if (Array.isArray(part)) return part.map(render).join("");
	return escapeHtml(String(part));
}

/** The tag: `html\`<td>${userAgent}</td>\`` escapes `userAgent`; arrays are joined; null and booleans vanish. */
export function html(strings: TemplateStringsArray, ...parts: Part[]): Html {
	let out = strings[0] ?? "";
	for (let i = 0; i < parts.length; i++) out += render(parts[i] as Part) + (strings[i + 1] ?? "");
	return new Html(out);
}

/** Markup that is trusted as it is: only for constants written in this code, never for data. */
export function raw(value: string): Html {
	return new Html(value);
}
