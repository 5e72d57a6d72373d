import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, expect, test } from "vitest";
import { section } from "./setup/markdown.js";

/**
 * Every TypeScript block of the README and of `docs/` compiles under `strict`, against the built package, as
 * a reader would paste it into a project. A block uses what it imports, plus the stand-ins its context
 * declares for the reader's own application (their `app`, their session lookup), chosen by an HTML comment
 * before the block, `<!-- snippet: express -->`; without one, `refkit` is an instance and nothing else is
 * given. The Next.js sections (the README's and docs/nextjs.md) are checked by `test/frameworks/next.test.ts`
 * instead, against the example it builds.
 */

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const OUT = join(ROOT, ".snippets");
afterAll(() => rmSync(OUT, { recursive: true, force: true }));

const REFKIT = `import type { Refkit } from "refkit";\ndeclare const refkit: Refkit;\n`;
const CONTEXTS: Record<string, string> = {
	// A bare instance, and the reader's own objects that the examples name.
	refkit: `${REFKIT}declare const user: { id: string };
declare const newUser: { id: string };
declare const order: { totalCents: number };
declare const metrics: { increment(name: string): void };
declare const csv: { write(line: string): void };
declare const monthStart: Date;
declare const nextMonthStart: Date;
declare const req: { cookies: Record<string, string | undefined> };
`,
	user: "declare const user: { id: string };\n",
	express: `import type { Express, Request, RequestHandler } from "express";
${REFKIT}declare const app: Express;
declare const yourSessionMiddleware: RequestHandler;
declare function currentUserId(req: Request): string | null;
declare function isAdmin(req: Request): boolean;
`,
	fastify: `import type { FastifyInstance, FastifyRequest } from "fastify";
${REFKIT}declare const app: FastifyInstance;
declare function currentUserId(request: FastifyRequest): string | null;
declare function isAdmin(request: FastifyRequest): boolean;
`,
	hono: `import type { Hono } from "hono";
${REFKIT}declare const app: Hono<{ Variables: { userId: string | undefined; isAdmin: boolean } }>;
`,
	// Bun's own types are not installed here: the part of Bun.serve the examples use.
	bun: `${REFKIT}declare const Bun: {
	serve(options: {
		fetch(request: Request, server: { requestIP(request: Request): { address: string } | null }): Response | Promise<Response>;
	}): unknown;
};
declare function userFromSession(request: Request): string | null;
declare function isAdmin(request: Request): boolean;
declare function app(request: Request): Response | Promise<Response>;
`,
};

interface Snippet {
	file: string;
	line: number;
	context: string;
	code: string;
}

function snippets(path: string): Snippet[] {
	const text = readFileSync(join(ROOT, path), "utf8");
	const [nextStart, nextEnd] = section(text, "Next.js (App Router)") ?? [-1, -1];
	const found: Snippet[] = [];
	for (const match of text.matchAll(/(?:<!-- snippet: ([a-z]+) -->\n\n)?```ts\n([\s\S]*?)```/g)) {
		const at = match.index ?? 0;
		if (at > nextStart && at < nextEnd) continue;
		const line = text.slice(0, at + (match[0].indexOf("```ts") ?? 0)).split("\n").length;
		found.push({ file: path, line, context: match[1] ?? "refkit", code: match[2] ?? "" });
	}
	return found;
}

function markdownFiles(): string[] {
	const docs = existsSync(join(ROOT, "docs"))
		? readdirSync(join(ROOT, "docs"), { recursive: true, encoding: "utf8" })
				.filter((name) => name.endsWith(".md"))
				.map((name) => join("docs", name))
		: [];
	return ["README.md", ...docs];
}

test("every TypeScript block of the README and docs/ compiles under strict", async () => {
	const all = markdownFiles().flatMap(snippets);
	expect(all.length).toBeGreaterThan(15);
	rmSync(OUT, { recursive: true, force: true });
	mkdirSync(OUT, { recursive: true });
	const where = new Map<string, Snippet & { offset: number }>();
	all.forEach((snippet, i) => {
		const prelude = CONTEXTS[snippet.context];
		if (prelude === undefined) throw new Error(`${snippet.file}:${snippet.line}: unknown snippet context`);
		const name = `snippet-${i}.ts`;
		writeFileSync(join(OUT, name), `${prelude}export {};\n${snippet.code}`);
		where.set(name, { ...snippet, offset: prelude.split("\n").length });
	});
	writeFileSync(
		join(OUT, "tsconfig.json"),
		JSON.stringify({
			extends: "../tsconfig.json",
			compilerOptions: { noUnusedLocals: false, types: ["node"] },
			include: ["*.ts"],
			exclude: [],
		}),
	);
	const tsc = join(ROOT, "node_modules/typescript/bin/tsc");
	const result = await promisify(execFile)(process.execPath, [tsc, "-p", join(OUT, "tsconfig.json")], {
		cwd: ROOT,
	}).then(
		() => "",
		(error: { stdout?: string }) => error.stdout ?? String(error),
	);
	// Each error as its Markdown file and line, so that the message says which block to fix.
	const errors = result
		.split("\n")
		.filter((line) => line.includes("error TS"))
		.map((line) => {
			const match = /snippet-(\d+)\.ts\((\d+),(\d+)\): (.*)$/.exec(line);
			const snippet = match && where.get(`snippet-${match[1]}.ts`);
			if (!match || !snippet) return relative(ROOT, line);
			return `${snippet.file}:${snippet.line + Number(match[2]) - snippet.offset}: ${match[4]}`;
		});
	expect(errors).toEqual([]);
}, 120_000);
