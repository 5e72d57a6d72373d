import type { DialectName } from "../types.js";

/** The few places where SQLite and PostgreSQL differ, all in one file. */
export interface DialectHelpers {
	name: DialectName;
	/** A boolean as the database stores it. */
	bool(value: boolean): boolean | number;
	/** Whether `error` is a unique-constraint violation. */
	isUniqueViolation(error: unknown): boolean;
	/** Whether `error` says one of refkit's tables does not exist. */
	isMissingTable(error: unknown): boolean;
}

function field(error: unknown, key: string): unknown {
	return typeof error === "object" && error !== null ? (error as Record<string, unknown>)[key] : undefined;
}

const sqlite: DialectHelpers = {
	name: "sqlite",
	bool: (value) => (value ? 1 : 0),
	isUniqueViolation: (error) =>
		field(error, "code") === "SQLITE_CONSTRAINT_UNIQUE" ||
		field(error, "code") === "SQLITE_CONSTRAINT_PRIMARYKEY",
	isMissingTable: (error) => /no such table: refkit_/.test(String(field(error, "message"))),
};

const postgres: DialectHelpers = {
	name: "postgres",
	bool: (value) => value,
	isUniqueViolation: (error) => field(error, "code") === "23505",
	isMissingTable: (error) =>
		field(error, "code") === "42P01" && /refkit_/.test(String(field(error, "message"))),
};

export function dialectHelpers(name: DialectName): DialectHelpers {
	return name === "sqlite" ? sqlite : postgres;
}

/** A time as refkit writes it to either database. */
export function toDbTime(date: Date): string {
	return date.toISOString();
}

/** A time as read back from either database. */
export function fromDbTime(value: Date | string): Date {
	return value instanceof Date ? value : new Date(value);
}
