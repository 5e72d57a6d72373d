import { randomInt } from "node:crypto";
import { RefkitError } from "../errors.js";

/** What a link identifier may be: 1 to 50 ASCII letters, digits or underscores (as in django-reflinks). */
export const IDENTIFIER_PATTERN = /^[A-Za-z0-9_]{1,50}$/;

/** The alphabet of generated identifiers: no 0/O, 1/l/I, so a code read aloud or typed is not mistaken. */
export const IDENTIFIER_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/** The length of generated identifiers: 57^8 ≈ 1.1e14 possibilities. */
export const GENERATED_IDENTIFIER_LENGTH = 8;

/** Whether `value` is a well-formed identifier. */
export function isValidIdentifier(value: unknown): value is string {
	return typeof value === "string" && IDENTIFIER_PATTERN.test(value);
}

/** Throws `INVALID_IDENTIFIER` unless `value` is a well-formed identifier. */
export function assertIdentifier(value: unknown): string {
	if (isValidIdentifier(value)) return value;
	const shown = typeof value === "string" ? JSON.stringify(value.slice(0, 60)) : typeof value;
	throw new RefkitError(
		"INVALID_IDENTIFIER",
		`refkit: a link identifier must be 1 to 50 letters, digits or underscores (got ${shown}).`,
	);
}

/** A random identifier of {@link GENERATED_IDENTIFIER_LENGTH} characters from {@link IDENTIFIER_ALPHABET}. */
export function generateIdentifier(): string {
	let identifier = "";
	for (let i = 0; i < GENERATED_IDENTIFIER_LENGTH; i++) {
		identifier += IDENTIFIER_ALPHABET[randomInt(IDENTIFIER_ALPHABET.length)];
	}
	return identifier;
}
