import { randomUUID } from "node:crypto";
import Database from "better-sqlite3";
import pg from "pg";
import { expect } from "vitest";
import { isRefkitError, type Outcome, type Refkit, type RefkitErrorCode } from "../../src/index.js";
import type { DatabaseKind } from "./databases.js";
import { BROWSER_AGENT } from "./http.js";

/** Awaits `promise`, expecting a RefkitError with `code`; returns its message. */
export async function expectCode(promise: Promise<unknown>, code: RefkitErrorCode): Promise<string> {
	try {
		await promise;
	} catch (error) {
		if (isRefkitError(error, code)) return error.message;
		throw error;
	}
	throw new Error(`expected ${code}`);
}

/**
 * One request through `refkit.handle()`, as an adapter makes it: a browser by default, anonymous unless
 * `user` is given, with `cookie` as the visitor cookie pair (`refkit_visitor=...`).
 */
export function visit(
	refkit: Refkit,
	url: string,
	init: { user?: string | null; cookie?: string | undefined; userAgent?: string; method?: string } = {},
): Promise<Outcome> {
	const headers: Record<string, string | undefined> = {
		"user-agent": init.userAgent ?? BROWSER_AGENT,
		cookie: init.cookie,
	};
	return refkit.handle({
		method: init.method ?? "GET",
		url,
		header: (name) => headers[name],
		remoteAddress: "127.0.0.1",
		getUserId: () => init.user ?? null,
	});
}

/** The `name=value` pair of the visitor cookie an outcome sets. */
export function visitorCookie(outcome: Outcome, name = "refkit_visitor"): string {
	const pair = outcome.setCookies
		.map((header) => header.split(";")[0] ?? "")
		.find((p) => p.startsWith(`${name}=`));
	expect(pair, "the outcome sets the visitor cookie").toBeDefined();
	return pair as string;
}

/**
 * Runs SQL on the database at `url` through a connection of its own, as the application's code would.
 * Parameters are written `$1`, `$2`... in order.
 */
export async function runSql(
	kind: DatabaseKind,
	url: string,
	text: string,
	params: unknown[] = [],
): Promise<unknown[]> {
	if (kind === "sqlite") {
		const db = new Database(url);
		try {
			const statement = db.prepare(text.replace(/\$\d+/g, "?"));
			if (statement.reader) return statement.all(...params);
			statement.run(...params);
			return [];
		} finally {
			db.close();
		}
	}
	const client = new pg.Client({ connectionString: url });
	await client.connect();
	try {
		return (await client.query(text, params)).rows;
	} finally {
		await client.end();
	}
}

/** A row of `refkit_hit` for {@link insertRows}: an anonymous visitor's hit on `linkId` at `at` (ISO-8601). */
export function anonymousHitRow(kind: DatabaseKind, linkId: number, visitorId: string, at: string) {
	return {
		id: randomUUID(),
		link_id: linkId,
		authenticated: kind === "sqlite" ? 0 : false,
		visitor_id: visitorId,
		created_at: at,
		updated_at: at,
	};
}

/** Inserts rows into `table` through a connection of the test's own, in one multi-row INSERT. */
export async function insertRows(
	kind: DatabaseKind,
	url: string,
	table: string,
	rows: Record<string, unknown>[],
) {
	const columns = Object.keys(rows[0] ?? {});
	let n = 0;
	const values = rows.map(() => `(${columns.map(() => `$${++n}`).join(", ")})`).join(", ");
	await runSql(
		kind,
		url,
		`insert into ${table} (${columns.join(", ")}) values ${values}`,
		rows.flatMap((row) => columns.map((column) => row[column])),
	);
}
