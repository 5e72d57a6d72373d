import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

interface Reflection {
	name: string;
	kind: number;
	comment?: { summary?: { text: string }[]; blockTags?: { tag: string }[] };
	signatures?: Reflection[];
	children?: Reflection[];
}

/** TypeDoc's kinds: modules, and the exports that are called or constructed (which need an example). */
const MODULE = 2;
const CALLABLE = new Set([64 /* function */, 128 /* class */]);

test("npm run docs builds the API reference; every export has a summary, every function an example", () => {
	const out = mkdtempSync(join(tmpdir(), "refkit-docs-"));
	// The same configuration as `npm run docs` (typedoc.json), which fails on any undocumented export.
	execFileSync(
		process.execPath,
		[
			join(ROOT, "node_modules/typedoc/bin/typedoc"),
			"--out",
			join(out, "html"),
			"--json",
			join(out, "api.json"),
		],
		{
			cwd: ROOT,
			stdio: "pipe",
		},
	);
	expect(readFileSync(join(out, "html", "index.html"), "utf8")).toContain("refkit");
	const project = JSON.parse(readFileSync(join(out, "api.json"), "utf8")) as Reflection;
	const missing: string[] = [];
	const visit = (reflection: Reflection, path: string) => {
		for (const child of reflection.children ?? []) {
			const name = `${path}${child.name}`;
			if (child.kind === MODULE) {
				visit(child, `${name}: `);
				continue;
			}
			const comment = child.comment ?? child.signatures?.[0]?.comment;
			if (!comment?.summary?.some((part) => part.text.trim() !== "")) missing.push(`${name} has no summary`);
			if (CALLABLE.has(child.kind) && !comment?.blockTags?.some((tag) => tag.tag === "@example")) {
				missing.push(`${name} has no @example`);
			}
		}
	};
	visit(project, "");
	expect(missing).toEqual([]);
}, 120_000);
