import type { ProgramOptions, Refkit, RefkitOptions } from "../../src/index.js";
import { createTestRefkit, type DatabaseKind } from "../setup/databases.js";

/** The program of the tests: the demo's terms, payable at once unless `holdDays` says otherwise. */
export function program(overrides: Partial<ProgramOptions> = {}): ProgramOptions {
	return {
		id: "standard",
		currency: "USD",
		holdDays: 0,
		minimumPayout: 2000,
		rules: [
			{ on: "goal", goal: "signup", referrer: 500, referred: 500 },
			{ on: "sale", percent: 20, months: 12 },
		],
		...overrides,
	};
}

/** A migrated refkit on a fresh database with `programs` (default: the one above). */
export function refkitWithPrograms(
	kind: DatabaseKind,
	programs: ProgramOptions[] = [program()],
	options: Partial<RefkitOptions> = {},
): Promise<Refkit> {
	return createTestRefkit(kind, { programs, ...options });
}

/**
 * `referred` signs up through `referrer`'s link (created if missing, under `linkProgram`): a typed code, then
 * the `signup` conversion. Returns the conversion's result.
 */
export async function referredSignup(
	refkit: Refkit,
	referrer: string,
	referred: string,
	options: { linkProgram?: string; goal?: string } = {},
) {
	const identifier = `${referrer}_link`;
	if ((await refkit.getLink(identifier)) === null) {
		await refkit.createLink({ identifier, userId: referrer, program: options.linkProgram ?? null });
	}
	const applied = await refkit.applyCode(referred, identifier, { signedUpAt: new Date() });
	if (applied.status !== "applied") throw new Error(`the code was not applied: ${applied.status}`);
	return refkit.confirm({ userId: referred, goal: options.goal ?? "signup" });
}

/** Every commission of the ledger, oldest first. */
export async function ledger(refkit: Refkit) {
	const rows = [];
	for await (const commission of refkit.exportCommissions()) rows.push(commission);
	return rows.reverse();
}
