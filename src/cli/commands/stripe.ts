import { readFile } from "node:fs/promises";
import { type Command, InvalidArgumentError } from "commander";
import {
	EVENT_STATUSES,
	listStripeEvents,
	type StripeEventResult,
	type StripeUserResolver,
} from "../../billing/stripe-events.js";
import { coreOf } from "../../core/internal.js";
import { isRefkitError } from "../../errors.js";
import type { ProgramOptions, Refkit, RewardRule } from "../../index.js";
import type { SavedProgram } from "../../store/ledger-roles.js";
import {
	CliError,
	cell,
	errorLine,
	examples,
	type Io,
	json,
	parseLimit,
	parseNonEmpty,
	printable,
	table,
	withRefkit,
} from "../shared.js";

/**
 * `refkit stripe replay EVENT_FILE`: a Stripe event saved as JSON, applied as the application's webhook
 * endpoint (`stripeWebhooks()` of `refkit/stripe`) applies one, exactly once by its id. For the events that
 * arrived before their user was known, and wait.
 */

interface EventsOptions {
	status?: (typeof EVENT_STATUSES)[number];
	limit?: number;
	json?: boolean;
}

interface ReplayOptions {
	user?: string;
	json?: boolean;
}

/** A Stripe event as the CLI reads it: what `asStripeEvent()` lets through, and its id for the resolver. */
type StripeEvent = Parameters<StripeUserResolver>[1];

/**
 * `stripeWebhooks()` wants an endpoint's signing secret, but `apply()` checks no signature: the CLI applies a
 * file the operator trusts, so any secret serves and none is asked for.
 */
const NO_SIGNATURE = "whsec_refkit_cli_replay_checks_no_signature";

const SAVED_AS =
	"save it as Stripe shows it: the event's JSON in the dashboard, or `stripe events retrieve evt_...`";

/** The event in `file`, checked before any database is opened: one line of error for anything else. */
async function readEvent(file: string): Promise<StripeEvent> {
	let text: string;
	try {
		text = await readFile(file, "utf8");
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code;
		const why =
			code === "ENOENT" ? "no such file" : code === "EISDIR" ? "a directory" : (code ?? "unreadable");
		throw new CliError(`cannot read the event file ${printable(file)}: ${why}`);
	}
	let value: unknown;
	try {
		value = JSON.parse(text);
	} catch {
		throw new CliError(`${printable(file)} is not JSON: ${SAVED_AS}`);
	}
	const { asStripeEvent } = await import("../../billing/stripe-events.js");
	try {
		return asStripeEvent(value);
	} catch {
		throw new CliError(
			`${printable(file)} is not a Stripe event (an id, a type and data.object): ${SAVED_AS}`,
		);
	}
}

/** The `metadata.userId` of the event's object (the invoice's or the checkout session's), if it has one. */
function metadataUser(event: StripeEvent): string | null {
	const object = event.data.object as { metadata?: Record<string, unknown> | null };
	const user = object.metadata?.userId;
	return typeof user === "string" && user !== "" ? user : null;
}

/**
 * The programs as the application declared them, from the terms it saved in `refkit_program` (the CLI runs none
 * of its code): each rule as declared, in its order (which names the sale rules), and the default program.
 */
function programsOf(saved: readonly SavedProgram[]): { programs: ProgramOptions[]; defaultProgram?: string } {
	const programs = saved.map((program) => ({
		id: program.id,
		currency: program.currency,
		holdDays: program.holdDays,
		minimumPayout: program.minimumPayout,
		// Saved with each rule's name in its program, which refkit gives it again.
		rules: (program.rules as ({ name?: string } & RewardRule)[]).map(({ name: _name, ...rule }) => rule),
	}));
	return { programs, defaultProgram: saved.find((program) => program.isDefault)?.id };
}

/** `refkit/stripe`, which needs the `stripe` package, installed beside refkit by the applications that use it. */
async function loadStripe(): Promise<typeof import("../../billing/stripe.js")> {
	try {
		return await import("../../billing/stripe.js");
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code !== "ERR_MODULE_NOT_FOUND") throw error;
		throw new CliError(
			"refkit stripe replay needs the stripe package, as refkit/stripe does: npm install stripe",
		);
	}
}

/** What the event came to, a line, then a line for each waiting event it let through. */
function resultText(result: StripeEventResult, prefix = ""): string {
	const line = `${prefix}${result.eventId} (${result.type}): ${result.status}: ${result.outcome}`;
	const replayed = (result.replayed ?? []).map((r) => resultText(r, `${prefix}  then `));
	return [printable(line), ...replayed].join("\n");
}

/** Why the command exits 1 although it wrote: the event was kept, but not applied. */
function notApplied(result: StripeEventResult, user: string | null): string | null {
	const id = printable(result.eventId);
	if (result.status === "waiting") {
		return user === null && (result.type === "invoice.paid" || result.type.startsWith("checkout.session."))
			? `${id} waits for its user: pass --user <id> (the event's object has no metadata.userId)`
			: `${id} waits (see above): it is kept, and applied once what it waits for is recorded`;
	}
	if (result.status === "failed") {
		return `${id} failed (see above): it is kept; replay it once the cause is fixed`;
	}
	return null;
}

function parseStatus(value: string): (typeof EVENT_STATUSES)[number] {
	if (!(EVENT_STATUSES as readonly string[]).includes(value)) {
		throw new InvalidArgumentError(`one of ${EVENT_STATUSES.join(", ")}`);
	}
	return value as (typeof EVENT_STATUSES)[number];
}

/** Adds `refkit stripe events|replay` to `program`. */
export function registerStripe(program: Command, io: Io): void {
	const stripe = program
		.command("stripe")
		.description(
			"the Stripe events refkit keeps, and replaying one, as your webhook endpoint (refkit/stripe) applies them",
		)
		.addHelpText(
			"after",
			examples("$ refkit stripe events --status waiting", "$ refkit stripe replay evt_1PQx.json --user 42"),
		);

	stripe
		.command("events")
		.description(
			"list the Stripe events refkit kept, oldest first: what each came to, and what a waiting one waits for",
		)
		.option("--status <status>", `only these: ${EVENT_STATUSES.join(", ")}`, parseStatus)
		.option("--limit <n>", "at most this many, 1 to 1000 (default 100)", parseLimit)
		.option("--json", "print them as JSON")
		.addHelpText(
			"after",
			examples(
				"$ refkit stripe events --status waiting",
				"$ refkit stripe events --status failed --json",
				"",
				"A waiting event waits for its user (replay it with --user once there is one) or for the payment it",
				"names (it is applied when that arrives).",
			),
		)
		.action(async (options: EventsOptions, command: Command) => {
			const events = await withRefkit(command, io, (refkit: Refkit) =>
				listStripeEvents(coreOf(refkit, "refkit stripe events"), options),
			);
			if (options.json) return io.out(json(events));
			if (events.length === 0)
				return io.out(`no Stripe events${options.status ? ` ${options.status}` : ""}\n`);
			io.out(
				table(
					["received", "event", "type", "status", "waits for", "attempts", "outcome"],
					events.map((e) => [
						cell(e.receivedAt),
						cell(e.eventId),
						cell(e.type),
						e.status,
						cell(e.waitingFor),
						String(e.attempts),
						cell(e.outcome),
					]),
				),
			);
		});

	stripe
		.command("replay")
		.description(
			"apply a Stripe event saved as JSON, once by its id, as your webhook endpoint would: for events that arrived before their user was known",
		)
		.argument("<event-file>", "the event as Stripe shows it (dashboard > Events, or stripe events retrieve)")
		.option(
			"--user <id>",
			"the user who paid (default: the metadata.userId of the event's invoice or checkout session)",
			parseNonEmpty,
		)
		.option("--json", "print what the event came to as JSON, with the events it let through (replayed)")
		.addHelpText(
			"after",
			examples(
				"$ refkit stripe replay evt_1PQx.json --user 42",
				"$ refkit stripe replay evt_1PQx.json --json",
				"",
				"Save the event from Stripe's dashboard (its JSON), or with the Stripe CLI:",
				"stripe events retrieve evt_1PQx > evt_1PQx.json",
				"The programs are those your application saved in the database (refkit.migrate() saves them);",
				"your application's review (its hook and its checks) does not run here. Exits 1 when the event",
				"still waits or failed.",
			),
		)
		.action(async (file: string, options: ReplayOptions, command: Command) => {
			const event = await readEvent(file);
			const saved = await withRefkit(command, io, (refkit: Refkit) =>
				coreOf(refkit, "refkit stripe replay").store.savedPrograms(),
			);
			if (saved.length === 0) {
				throw new CliError(
					"no referral programs are saved in this database: your application saves them when it runs refkit.migrate() with its programs",
				);
			}
			const { stripeWebhooks } = await loadStripe();
			const user = options.user ?? metadataUser(event);
			const result = await withRefkit(
				command,
				io,
				(refkit) =>
					stripeWebhooks(refkit, {
						secret: NO_SIGNATURE,
						// --user is this event's user; the events it lets through (refunds) need none, or name their own.
						userId: (_customer, e) => (e.id === event.id ? user : metadataUser(e)),
					}).apply(event),
				programsOf(saved),
			).catch((error: unknown) => {
				// Terms another version of refkit saved, which this one does not know.
				if (
					isRefkitError(error) &&
					error.code === "INVALID_OPTION" &&
					/options\.(programs|defaultProgram)/.test(error.message)
				) {
					throw new CliError(
						`the programs saved in the database do not suit this version of refkit: ${errorLine(error).replace(/^refkit: /, "")}`,
					);
				}
				// An object without what Stripe always sends (a hand-edited file) is kept as failed, with why.
				throw error;
			});
			io.out(options.json ? json(result) : `${resultText(result)}\n`);
			const why = notApplied(result, user);
			if (why !== null) throw new CliError(why);
		});
}
