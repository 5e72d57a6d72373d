import type { DialectName } from "../types.js";
import type { Dialect } from "./dialect.js";
import { postgres } from "./dialects/postgres.js";
import { sqlite } from "./dialects/sqlite.js";

/** The databases refkit supports, each a module of src/store/dialects/. */
export const DIALECTS: readonly Dialect[] = [sqlite, postgres];

/** The dialect of this name. */
export function dialectNamed(name: DialectName): Dialect {
	const found = DIALECTS.find((dialect) => dialect.name === name);
	if (found === undefined) throw new Error(`refkit: no dialect is named ${JSON.stringify(name)}`);
	return found;
}
