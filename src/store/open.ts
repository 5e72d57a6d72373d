import { Kysely } from "kysely";
import { RefkitError } from "../errors.js";
import { redactCredentials } from "../redact.js";
import type { OpenedDatabase } from "./dialect.js";
import { DIALECTS } from "./dialects.js";
import type { Database } from "./schema.js";

export type { OpenedDatabase } from "./dialect.js";

/**
 * Where refkit keeps its data:
 * - a `postgres://` or `postgresql://` URL;
 * - a SQLite file path, optionally prefixed `sqlite:` or `file:` (`:memory:` for a throwaway database);
 * - your application's own Kysely instance (SQLite or PostgreSQL), which refkit uses and never closes.
 */
// biome-ignore lint/suspicious/noExplicitAny: an application's Kysely instance has its own table types.
export type DatabaseOption = string | Kysely<any>;

function isKysely(value: unknown): value is Kysely<unknown> {
	// instanceof fails when the application's Kysely is another copy of the package.
	return (
		value instanceof Kysely ||
		(typeof value === "object" &&
			value !== null &&
			typeof (value as Kysely<unknown>).getExecutor === "function" &&
			typeof (value as Kysely<unknown>).selectFrom === "function")
	);
}

/** Opens (or adopts) the database refkit will use. Never queries it. */
export function openDatabase(database: DatabaseOption, onPoolError: (error: Error) => void): OpenedDatabase {
	if (isKysely(database)) {
		const dialect = DIALECTS.find((candidate) => candidate.owns(database));
		if (dialect === undefined) {
			const name = database.getExecutor().adapter.constructor.name;
			throw new RefkitError(
				"INVALID_OPTION",
				`refkit: options.database is a Kysely instance for a dialect refkit does not support (${name}). Use SQLite or PostgreSQL.`,
			);
		}
		return { db: database as Kysely<Database>, dialect: dialect.name, owned: false };
	}
	if (typeof database !== "string") {
		throw new RefkitError(
			"INVALID_OPTION",
			"refkit: options.database must be a postgres:// URL, a SQLite file path or a Kysely instance.",
		);
	}
	for (const dialect of DIALECTS) {
		const target = dialect.target(database);
		if (target !== null) return dialect.open(target, onPoolError);
	}
	throw new RefkitError(
		"INVALID_OPTION",
		`refkit: cannot use the database ${JSON.stringify(redactCredentials(database))}. Give a postgres:// or postgresql:// URL, or a SQLite file path such as ./refkit.sqlite.`,
	);
}
