import { describe, expect, onTestFinished, test } from "vitest";
import { isRefkitError } from "../../src/index.js";
import type { DaySummary, NewConversion, NewHit, RefkitStore, WeekSummary } from "../../src/store/store.js";
import { expectCode } from "../setup/direct.js";

/*
 * What every store must do, verb by verb, whatever database it keeps its rows in: what each role's methods
 * return, in which order, what they do twice, and which RefkitError they throw. A store for another database
 * passes this before anything else runs on it.
 */

const T0 = Date.parse("2024-03-04T10:00:00.000Z"); // a Monday
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const at = (minutes: number) => new Date(T0 + minutes * MINUTE);

/** Hit ids that sort in the order of `n`, as UUIDv7s made one after another do. */
const hitId = (n: number) => `01900000-0000-7000-8000-${String(n).padStart(12, "0")}`;
const conversionId = (n: number) => `01900000-0000-7000-9000-${String(n).padStart(12, "0")}`;

function newHit(n: number, linkId: number, fields: Partial<NewHit> = {}): NewHit {
	return {
		id: hitId(n),
		linkId,
		source: "link",
		authenticated: false,
		userId: null,
		visitorId: `visitor-${n}`,
		ip: "127.0.0.1",
		userAgent: "a browser",
		referer: null,
		next: null,
		createdAt: at(n),
		...fields,
	};
}

function newConversion(n: number, fields: Partial<NewConversion> = {}): NewConversion {
	return {
		id: conversionId(n),
		goal: "signup",
		referredUserId: `referred-${n}`,
		referrerUserId: "referrer",
		hitId: null,
		linkId: null,
		value: null,
		createdAt: at(n),
		...fields,
	};
}

function daySummary(day: string, until: Date, linkId: number, hits: number): DaySummary {
	return {
		day,
		until,
		linkId,
		hits,
		goals: { signup: [hits, 1] },
		linkHits: linkId === 0 ? Uint32Array.from([7, hits]) : null,
		referrers: linkId === 0 ? { alice: hits } : null,
		visitors: Uint8Array.from([1, 2, hits]),
		users: Uint8Array.from([3]),
		converted: new Uint8Array(0),
	};
}

/** A summary as plain values, to compare whatever array type the driver gave back. */
function plain(summary: DaySummary | WeekSummary) {
	return {
		...summary,
		linkHits: summary.linkHits === null ? null : Array.from(summary.linkHits),
		visitors: Array.from(summary.visitors),
		users: Array.from(summary.users),
		converted: Array.from(summary.converted),
	};
}

/**
 * Holds the store `makeStore` makes to the contract of every role interface of src/store/store.ts. Each test
 * gets a fresh, empty store (not yet migrated: the suite migrates it), which it closes when it ends.
 */
export function storeConformance(name: string, makeStore: () => Promise<RefkitStore>): void {
	async function fresh(): Promise<RefkitStore> {
		const store = await makeStore();
		onTestFinished(() => store.close());
		await store.migrate();
		return store;
	}

	/** A fresh store with one link of `owner`'s (and its id). */
	async function withLink(owner: string | null = "owner"): Promise<[RefkitStore, number]> {
		const store = await fresh();
		const link = await store.insertLink({ identifier: "link_a", userId: owner, target: null }, at(0));
		return [store, link.id];
	}

	describe(`store conformance: ${name}`, () => {
		test("migrate() runs every migration once; before it, a query throws NOT_MIGRATED", async () => {
			const store = await makeStore();
			onTestFinished(() => store.close());
			await expectCode(store.findLink("nothing"), "NOT_MIGRATED");
			const first = await store.migrate();
			expect(first.length).toBeGreaterThan(0);
			expect(first.every((result) => result.status === "Success" && result.direction === "Up")).toBe(true);
			expect(await store.migrate()).toEqual([]);
		});

		describe("LinkStore", () => {
			test("insertLink returns the stored link; findLink finds it by identifier, or returns null", async () => {
				const store = await fresh();
				const link = await store.insertLink({ identifier: "Ab_1", userId: "u1", target: "/welcome" }, at(0));
				expect(link).toEqual({
					id: expect.any(Number),
					identifier: "Ab_1",
					userId: "u1",
					disabled: false,
					target: "/welcome",
					program: null,
					createdAt: at(0),
					updatedAt: at(0),
				});
				expect(await store.findLink("Ab_1")).toEqual(link);
				expect(await store.findLink("ab_1"), "identifiers are case-sensitive").toBeNull();
				expect(await store.findLink("nothing")).toBeNull();
			});

			test("insertLink of an identifier that exists throws IDENTIFIER_TAKEN", async () => {
				const store = await fresh();
				await store.insertLink({ identifier: "taken", userId: null, target: null }, at(0));
				await expectCode(
					store.insertLink({ identifier: "taken", userId: "u2", target: null }, at(1)),
					"IDENTIFIER_TAKEN",
				);
				expect(await store.countLinks()).toBe(1);
			});

			test("userLink: the oldest enabled link, else the oldest, else the one given; racing calls make one", async () => {
				const store = await fresh();
				const made = await Promise.all(
					Array.from({ length: 8 }, (_, i) =>
						store.userLink("racer", { identifier: `race_${i}`, userId: null, target: null }, at(i)),
					),
				);
				expect(new Set(made.map((link) => link.id)).size).toBe(1);
				expect(made[0]?.userId, "inserted for the user").toBe("racer");
				expect((await store.listLinks({ userId: "racer", limit: 10, offset: 0 })).length).toBe(1);

				const first = await store.insertLink({ identifier: "u_first", userId: "u", target: null }, at(1));
				const second = await store.insertLink({ identifier: "u_second", userId: "u", target: null }, at(2));
				const other = { identifier: "u_new", userId: null, target: null };
				expect((await store.userLink("u", other, at(3))).id).toBe(first.id);
				await store.setLinkDisabled("u_first", true, at(4));
				expect((await store.userLink("u", other, at(5))).id, "the oldest enabled").toBe(second.id);
				await store.setLinkDisabled("u_second", true, at(6));
				expect((await store.userLink("u", other, at(7))).id, "else the oldest").toBe(first.id);
				expect(await store.findLink("u_new")).toBeNull();
			});

			test("listLinks: newest first, filtered by user, state and text (ignoring case, LIKE characters literal)", async () => {
				const store = await fresh();
				for (const [i, identifier] of ["alpha", "Beta_x", "gamma", "betaxx"].entries()) {
					await store.insertLink({ identifier, userId: i % 2 === 0 ? "even" : null, target: null }, at(i));
				}
				await store.setLinkDisabled("gamma", true, at(9));
				const ids = (links: { identifier: string }[]) => links.map((link) => link.identifier);
				const page = { limit: 10, offset: 0 };
				expect(ids(await store.listLinks(page))).toEqual(["betaxx", "gamma", "Beta_x", "alpha"]);
				expect(ids(await store.listLinks({ limit: 2, offset: 1 }))).toEqual(["gamma", "Beta_x"]);
				expect(ids(await store.listLinks({ ...page, userId: "even" }))).toEqual(["gamma", "alpha"]);
				expect(ids(await store.listLinks({ ...page, disabled: true }))).toEqual(["gamma"]);
				expect(ids(await store.listLinks({ ...page, disabled: false }))).toEqual([
					"betaxx",
					"Beta_x",
					"alpha",
				]);
				expect(ids(await store.listLinks({ ...page, search: "BETA" }))).toEqual(["betaxx", "Beta_x"]);
				expect(ids(await store.listLinks({ ...page, search: "a_" })), "_ is no wildcard").toEqual(["Beta_x"]);
				expect(ids(await store.listLinks({ ...page, search: "%" }))).toEqual([]);
				expect(ids(await store.listLinks({ ...page, search: "EVE" })), "the user id too").toEqual([
					"gamma",
					"alpha",
				]);
			});

			test("setLinkDisabled returns the updated link, or null for an unknown identifier", async () => {
				const store = await fresh();
				await store.insertLink({ identifier: "switch", userId: null, target: null }, at(0));
				const disabled = await store.setLinkDisabled("switch", true, at(5));
				expect(disabled).toMatchObject({
					identifier: "switch",
					disabled: true,
					updatedAt: at(5),
					createdAt: at(0),
				});
				expect(await store.findLink("switch")).toEqual(disabled);
				expect((await store.setLinkDisabled("switch", false, at(6)))?.disabled).toBe(false);
				expect(await store.setLinkDisabled("nothing", true, at(7))).toBeNull();
			});

			test("countLinks counts them; linkOwners maps the links that have an owner", async () => {
				const store = await fresh();
				expect(await store.countLinks()).toBe(0);
				const owned = await store.insertLink({ identifier: "owned", userId: "u1", target: null }, at(0));
				const orphan = await store.insertLink({ identifier: "orphan", userId: null, target: null }, at(1));
				expect(await store.countLinks()).toBe(2);
				expect(await store.linkOwners([])).toEqual(new Map());
				expect(await store.linkOwners([owned.id, orphan.id, 999_999])).toEqual(new Map([[owned.id, "u1"]]));
			});
		});

		describe("HitStore", () => {
			test("insertHit and recordHit store hits; a hit inserted again is left as it was (ON CONFLICT DO NOTHING)", async () => {
				const [store, linkId] = await withLink();
				await store.insertHit(newHit(1, linkId, { next: "/first" }));
				await store.insertHit(newHit(1, linkId, { next: "/again" }));
				await store.recordHit(newHit(1, linkId, { next: "/recorded" }));
				await Promise.all([2, 3, 4].map((n) => store.recordHit(newHit(n, linkId))));
				const hits = await store.listHits({ limit: 10, offset: 0 });
				expect(hits.map((hit) => hit.id)).toEqual([hitId(4), hitId(3), hitId(2), hitId(1)]);
				expect(hits[3]).toEqual({
					...newHit(1, linkId, { next: "/first" }),
					confirmedAt: null,
					updatedAt: at(1),
					identifier: "link_a",
				});
			});

			test("recordHit rejects a hit the database refuses (its link does not exist), with a RefkitError", async () => {
				const [store, linkId] = await withLink();
				const error = await store.recordHit(newHit(1, linkId + 999)).catch((thrown: unknown) => thrown);
				expect(isRefkitError(error)).toBe(true);
				expect(await store.listHits({ limit: 10, offset: 0 })).toEqual([]);
			});

			test("claimVisitorHits gives the visitor's hits without a user to the user, once", async () => {
				const [store, linkId] = await withLink();
				await store.insertHit(newHit(1, linkId, { visitorId: "v" }));
				await store.insertHit(newHit(2, linkId, { visitorId: "v" }));
				await store.insertHit(newHit(3, linkId, { visitorId: "v", userId: "someone", authenticated: true }));
				await store.insertHit(newHit(4, linkId, { visitorId: "other" }));
				expect(await store.claimVisitorHits("v", "u1", at(10))).toBe(2);
				expect(await store.claimVisitorHits("v", "u2", at(11))).toBe(0);
				const hits = await store.listHits({ limit: 10, offset: 0, userId: "u1" });
				expect(hits.map((hit) => [hit.id, hit.updatedAt])).toEqual([
					[hitId(2), at(10)],
					[hitId(1), at(10)],
				]);
			});

			test("listHits: newest first by (created_at, id), with filters, offset and a keyset position", async () => {
				const store = await fresh();
				const mine = await store.insertLink({ identifier: "mine", userId: "ref", target: null }, at(0));
				const theirs = await store.insertLink({ identifier: "theirs", userId: null, target: null }, at(0));
				await store.insertHit(newHit(1, mine.id, { userAgent: "Needle/1.0" }));
				// Two hits at the same time: the greater id is the newer.
				await store.insertHit(newHit(3, theirs.id, { createdAt: at(2), userId: "u", authenticated: true }));
				await store.insertHit(newHit(2, mine.id, { createdAt: at(2) }));
				await store.insertHit(newHit(4, mine.id, { referer: "https://needle.example/" }));
				const ids = (hits: { id: string }[]) => hits.map((hit) => Number(hit.id.slice(-4)));
				const page = { limit: 10, offset: 0 };
				expect(ids(await store.listHits(page))).toEqual([4, 3, 2, 1]);
				expect(ids(await store.listHits({ limit: 2, offset: 1 }))).toEqual([3, 2]);
				expect(ids(await store.listHits({ ...page, identifier: "mine" }))).toEqual([4, 2, 1]);
				expect(ids(await store.listHits({ ...page, identifier: "nothing" }))).toEqual([]);
				expect(ids(await store.listHits({ ...page, referrerUserId: "ref" }))).toEqual([4, 2, 1]);
				expect(ids(await store.listHits({ ...page, userId: "u" }))).toEqual([3]);
				expect(ids(await store.listHits({ ...page, authenticated: true }))).toEqual([3]);
				expect(ids(await store.listHits({ ...page, authenticated: false }))).toEqual([4, 2, 1]);
				expect(ids(await store.listHits({ ...page, from: at(2), to: at(4) })), "from in, to out").toEqual([
					3, 2,
				]);
				expect(ids(await store.listHits({ ...page, search: "NEEDLE" }))).toEqual([4, 1]);
				expect(ids(await store.listHits({ ...page, search: "THEIRS" })), "the identifier too").toEqual([3]);
				const after = { createdAt: at(2), id: hitId(3) };
				expect(ids(await store.listHits({ ...page, after }))).toEqual([2, 1]);
				expect((await store.listHits({ ...page, identifier: "theirs" }))[0]?.identifier).toBe("theirs");
			});

			test("hasRecentHit looks by user for a logged-in visitor, else by visitor id, from `since` on", async () => {
				const [store, linkId] = await withLink();
				await store.insertHit(newHit(5, linkId, { visitorId: "v", userId: null }));
				await store.insertHit(newHit(6, linkId, { visitorId: null, userId: "u", authenticated: true }));
				expect(await store.hasRecentHit(linkId, { visitorId: "v", userId: null }, at(5))).toBe(true);
				expect(await store.hasRecentHit(linkId, { visitorId: "v", userId: null }, at(6))).toBe(false);
				expect(await store.hasRecentHit(linkId, { visitorId: "other", userId: "u" }, at(6))).toBe(true);
				expect(await store.hasRecentHit(linkId, { visitorId: "v", userId: "nobody" }, at(0))).toBe(false);
				expect(await store.hasRecentHit(linkId + 1, { visitorId: "v", userId: null }, at(0))).toBe(false);
			});

			test("insertCodeHit inserts a user's one code hit: racing calls insert exactly one", async () => {
				const [store, linkId] = await withLink();
				expect(await store.hasHitOfSource("typist", "code")).toBe(false);
				const inserted = await Promise.all(
					[1, 2, 3, 4, 5].map((n) =>
						store.insertCodeHit({ ...newHit(n, linkId, { source: "code" }), userId: "typist" }),
					),
				);
				expect(inserted.filter(Boolean)).toHaveLength(1);
				expect(await store.hasHitOfSource("typist", "code")).toBe(true);
				expect(await store.hasHitOfSource("typist", "link")).toBe(false);
				expect((await store.listHits({ limit: 10, offset: 0 }))[0]?.source).toBe("code");
			});

			test("attributableHits: the user's hits in [from, to], first or last touch, with the link's owner", async () => {
				const [store, linkId] = await withLink("referrer");
				await store.insertHit(newHit(1, linkId, { userId: "u", visitorId: "v", browserId: "v" }));
				await store.insertHit(newHit(2, linkId, { userId: "u", visitorId: "v", browserId: "b" }));
				await store.insertHit(newHit(3, linkId, { userId: "u", visitorId: null, browserId: null }));
				await store.insertHit(newHit(4, linkId, { userId: "someone else" }));
				const window = { from: at(1), to: at(3) };
				const ids = (hits: { id: string }[]) => hits.map((hit) => hit.id);
				expect(ids(await store.attributableHits("u", window, "first", 10))).toEqual([
					hitId(1),
					hitId(2),
					hitId(3),
				]);
				expect(ids(await store.attributableHits("u", window, "last", 2))).toEqual([hitId(3), hitId(2)]);
				expect(ids(await store.attributableHits("u", { from: at(2), to: at(2) }, "last", 10))).toEqual([
					hitId(2),
				]);
				const [first] = await store.attributableHits("u", window, "first", 1);
				expect(first).toMatchObject({ linkUserId: "referrer", browserId: "v", confirmedAt: null });
				const [second] = await store.attributableHits("u", { from: at(2), to: at(2) }, "first", 1);
				expect(second?.browserId).toBe("b");
			});

			test("hasHitsBefore, browserUsedBy (a browser id, or a visitor id standing for one) and visitorUsedBy", async () => {
				const [store, linkId] = await withLink();
				await store.insertHit(newHit(10, linkId, { userId: "u", visitorId: "v1", browserId: "b1" }));
				await store.insertHit(newHit(11, linkId, { userId: "u", visitorId: "v2", browserId: "v2" }));
				expect(await store.hasHitsBefore("u", at(10))).toBe(false);
				expect(await store.hasHitsBefore("u", at(11))).toBe(true);
				expect(await store.browserUsedBy("b1", "u")).toBe(true);
				expect(await store.browserUsedBy("v2", "u"), "stored as its visitor id").toBe(true);
				expect(await store.browserUsedBy("v1", "u"), "a visitor id with a browser id of its own").toBe(false);
				expect(await store.browserUsedBy("b1", "other")).toBe(false);
				expect(await store.visitorUsedBy("v1", "u")).toBe(true);
				expect(await store.visitorUsedBy("b1", "u")).toBe(false);
			});

			test("confirmHit sets confirmed_at once", async () => {
				const [store, linkId] = await withLink();
				await store.insertHit(newHit(1, linkId));
				await store.confirmHit(hitId(1), at(20));
				await store.confirmHit(hitId(1), at(30));
				const [hit] = await store.listHits({ limit: 1, offset: 0 });
				expect(hit).toMatchObject({ confirmedAt: at(20), updatedAt: at(20) });
			});
		});

		describe("ConversionStore", () => {
			test("insertConversion returns it, or null when (referred user, goal) has one; find and get read it", async () => {
				const [store, linkId] = await withLink();
				await store.insertHit(newHit(1, linkId));
				const input = newConversion(1, { hitId: hitId(1), linkId, value: 1250 });
				const conversion = await store.insertConversion(input);
				expect(conversion).toEqual({
					id: input.id,
					goal: "signup",
					referredUserId: "referred-1",
					referrerUserId: "referrer",
					hitId: hitId(1),
					linkId,
					value: 1250,
					createdAt: at(1),
					reversedAt: null,
					reversalReason: null,
					deliveredAt: null,
					reversalDeliveredAt: null,
				});
				expect(await store.insertConversion({ ...input, id: conversionId(2) })).toBeNull();
				expect(
					await store.insertConversion({ ...input, id: conversionId(3), goal: "purchase" }),
				).not.toBeNull();
				expect(await store.findConversion("referred-1", "signup")).toEqual(conversion);
				expect(await store.findConversion("referred-1", "other")).toBeNull();
				expect(await store.getConversion(input.id)).toEqual(conversion);
				expect(await store.getConversion(conversionId(99))).toBeNull();
			});

			test("reverseConversion reverses once; null when reversed already or unknown", async () => {
				const store = await fresh();
				await store.insertConversion(newConversion(1));
				const reversed = await store.reverseConversion(conversionId(1), "refund", at(9));
				expect(reversed).toMatchObject({ reversedAt: at(9), reversalReason: "refund" });
				expect(await store.reverseConversion(conversionId(1), "again", at(10))).toBeNull();
				expect((await store.getConversion(conversionId(1)))?.reversalReason).toBe("refund");
				expect(await store.reverseConversion(conversionId(99), "refund", at(9))).toBeNull();
			});

			test("listConversions: newest first by (created_at, id), with filters and a keyset position", async () => {
				const store = await fresh();
				const link = await store.insertLink({ identifier: "conv", userId: "r1", target: null }, at(0));
				await store.insertConversion(newConversion(1, { referrerUserId: "r1", linkId: link.id }));
				await store.insertConversion(newConversion(3, { createdAt: at(2), goal: "purchase" }));
				await store.insertConversion(newConversion(2, { createdAt: at(2), referrerUserId: null }));
				await store.insertConversion(newConversion(4));
				await store.reverseConversion(conversionId(4), "fraud", at(5));
				const ids = (list: { id: string }[]) => list.map((conversion) => Number(conversion.id.slice(-4)));
				const page = { limit: 10, offset: 0 };
				expect(ids(await store.listConversions(page))).toEqual([4, 3, 2, 1]);
				expect(ids(await store.listConversions({ limit: 1, offset: 2 }))).toEqual([2]);
				expect(ids(await store.listConversions({ ...page, status: "active" }))).toEqual([3, 2, 1]);
				expect(ids(await store.listConversions({ ...page, status: "reversed" }))).toEqual([4]);
				expect(ids(await store.listConversions({ ...page, goal: "purchase" }))).toEqual([3]);
				expect(ids(await store.listConversions({ ...page, identifier: "conv" }))).toEqual([1]);
				expect(ids(await store.listConversions({ ...page, referrerUserId: "r1" }))).toEqual([1]);
				expect(ids(await store.listConversions({ ...page, referredUserId: "referred-2" }))).toEqual([2]);
				expect(ids(await store.listConversions({ ...page, from: at(2), to: at(4) }))).toEqual([3, 2]);
				const after = { createdAt: at(2), id: conversionId(3) };
				expect(ids(await store.listConversions({ ...page, after }))).toEqual([2, 1]);
			});
		});

		describe("DeliveryStore", () => {
			test("takeDueDeliveries leases what is due, oldest first; a leased one is taken again only after its lease", async () => {
				const store = await fresh();
				await store.insertConversion(newConversion(2));
				await store.insertConversion(newConversion(1));
				await store.insertConversion(newConversion(9));
				const taken = await store.takeDueDeliveries(at(5), at(15), 10);
				expect(taken.map(({ conversion, attempt }) => [conversion.id, attempt])).toEqual([
					[conversionId(1), 1],
					[conversionId(2), 1],
				]);
				const later = await store.takeDueDeliveries(at(10), at(20), 10);
				expect(
					later.map(({ conversion }) => conversion.id),
					"the others are leased",
				).toEqual([conversionId(9)]);
				const again = await store.takeDueDeliveries(at(15), at(25), 10);
				expect(again.map(({ conversion, attempt }) => [conversion.id, attempt])).toEqual([
					[conversionId(1), 2],
					[conversionId(2), 2],
				]);
			});

			test("markDeliveryFailed makes it due at the retry time; markDelivered ends it, or makes a reversal due", async () => {
				const store = await fresh();
				await store.insertConversion(newConversion(1));
				await store.insertConversion(newConversion(2));
				await store.takeDueDeliveries(at(3), at(100), 10);
				await store.markDeliveryFailed(conversionId(1), "502 Bad Gateway", at(4));
				expect((await store.takeDueDeliveries(at(4), at(100), 10)).map((due) => due.attempt)).toEqual([2]);
				await store.markDelivered(conversionId(1), "conversion", at(5));
				expect((await store.getConversion(conversionId(1)))?.deliveredAt).toEqual(at(5));
				expect(
					await store.takeDueDeliveries(at(200), at(300), 10).then((due) => due.map((d) => d.conversion.id)),
				).toEqual([conversionId(2)]);
				await store.reverseConversion(conversionId(1), "refund", at(6));
				const [reversal] = await store.takeDueDeliveries(at(300), at(400), 10);
				expect(reversal).toMatchObject({
					attempt: 1,
					conversion: { id: conversionId(1), reversedAt: at(6) },
				});
				await store.markDelivered(conversionId(1), "reversal", at(7));
				expect((await store.getConversion(conversionId(1)))?.reversalDeliveredAt).toEqual(at(7));
				expect(await store.takeDueDeliveries(at(1000), at(2000), 10)).toHaveLength(1);
			});
		});

		describe("SummaryStore", () => {
			const day = "2024-03-04";
			const noon = new Date(`${day}T12:00:00.000Z`);

			test("a day summary is stored when nothing of the day changed meanwhile; summaries() reads it, never a marker", async () => {
				const store = await fresh();
				expect(await store.summaries([day], undefined)).toEqual([]);
				const start = await store.startDaySummary(day, noon);
				expect(start.stored).toEqual([]);
				expect(start.marker).toBeLessThan(0);
				expect(await store.summaries([day], undefined), "the marker is not a summary").toEqual([]);
				const made = [daySummary(day, noon, 0, 3), daySummary(day, noon, 7, 3)];
				expect(await store.finishDaySummary(day, start.marker, made)).toBe(true);
				expect((await store.summaries([day], undefined)).map(plain)).toEqual([plain(made[0] as DaySummary)]);
				const both = await store.summaries([day, "2024-03-05"], 7);
				expect(both.sort((a, b) => a.linkId - b.linkId).map(plain)).toEqual(made.map(plain));
				const again = await store.startDaySummary(day, new Date(`${day}T13:00:00.000Z`));
				expect(again.stored.sort((a, b) => a.linkId - b.linkId).map(plain)).toEqual(made.map(plain));
			});

			test("a hit of the day written while it is summarised forgets the marker: nothing is stored", async () => {
				const [store, linkId] = await withLink();
				const start = await store.startDaySummary(day, noon);
				await store.insertHit(newHit(1, linkId)); // 10:01, before noon
				expect(await store.finishDaySummary(day, start.marker, [daySummary(day, noon, 0, 1)])).toBe(false);
				expect(await store.summaries([day], undefined)).toEqual([]);
				const later = await store.startDaySummary(day, noon);
				await store.insertHit(newHit(2, linkId, { createdAt: new Date(`${day}T13:00:00.000Z`) }));
				expect(
					await store.finishDaySummary(day, later.marker, [daySummary(day, noon, 0, 1)]),
					"after until",
				).toBe(true);
			});

			test("dayRows reads the hits, then the conversions, of [from, to) in (created_at, id) order", async () => {
				const [store, linkId] = await withLink();
				for (const n of [3, 1, 2]) await store.insertHit(newHit(n, linkId, { userId: `u${n}` }));
				await store.insertHit(newHit(4, linkId, { createdAt: at(1) }));
				await store.insertHit(newHit(9, linkId));
				await store.insertConversion(newConversion(2, { linkId, referrerUserId: "r" }));
				await store.insertConversion(newConversion(5, { createdAt: at(12) }));
				await store.reverseConversion(conversionId(2), "refund", at(6));
				const pages = [];
				for await (const rows of store.dayRows({ from: at(1), to: at(9) })) pages.push(rows);
				const hits = pages.flatMap((rows) => rows.hits);
				const conversions = pages.flatMap((rows) => rows.conversions);
				expect(pages.findIndex((rows) => rows.conversions.length > 0)).toBe(pages.length - 1);
				expect(hits.map((hit) => hit.userId)).toEqual(["u1", null, "u2", "u3"]);
				expect(hits[0]).toEqual({ day, linkId, userId: "u1", visitorId: "visitor-1" });
				expect(conversions).toEqual([
					{ day, linkId, goal: "signup", referredUserId: "referred-2", referrerUserId: "r", reversed: true },
				]);
			});

			test("countedRows reads the period's hits and conversions, `to` included, for all links or one", async () => {
				const store = await fresh();
				const a = await store.insertLink({ identifier: "a", userId: null, target: null }, at(0));
				const b = await store.insertLink({ identifier: "b", userId: null, target: null }, at(0));
				await store.insertHit(newHit(1, a.id));
				await store.insertHit(newHit(2, b.id));
				await store.insertHit(newHit(3, a.id));
				await store.insertConversion(newConversion(2, { linkId: b.id }));
				const all = await store.countedRows({ from: at(1), to: at(2) });
				expect(all.hits.map((hit) => hit.visitorId).sort()).toEqual(["visitor-1", "visitor-2"]);
				expect(all.conversions).toHaveLength(1);
				const one = await store.countedRows({ linkId: a.id, from: at(0), to: at(3) });
				expect(one.hits.map((hit) => hit.visitorId).sort()).toEqual(["visitor-1", "visitor-3"]);
				expect(one.conversions).toEqual([]);
			});

			test("summarizeWeek stores what `summarize` makes of the week's stored day summaries, in day order", async () => {
				const store = await fresh();
				const days = Array.from({ length: 7 }, (_, i) => new Date(T0 + i * DAY).toISOString().slice(0, 10));
				for (const [i, d] of days.slice(0, 3).entries()) {
					const { marker } = await store.startDaySummary(d, new Date(Date.parse(d) + DAY));
					await store.finishDaySummary(d, marker, [daySummary(d, new Date(Date.parse(d) + DAY), 0, i + 1)]);
				}
				const seen: string[][] = [];
				expect(
					await store.summarizeWeek(days, (summaries) => {
						seen.push(summaries.map((summary) => summary.day));
						return null;
					}),
				).toBeNull();
				expect(seen).toEqual([days.slice(0, 3)]);
				expect(await store.weekSummaries(days[0] as string, days[0] as string)).toEqual([]);
				const week: WeekSummary = {
					week: days[0] as string,
					hits: 6,
					goals: { signup: [6, 3] },
					daily: { [days[0] as string]: [1, 2] },
					linkHits: Uint32Array.from([7, 6]),
					referrers: { alice: 6 },
					visitors: Uint8Array.from([9]),
					users: new Uint8Array(0),
					converted: Uint8Array.from([4, 5]),
				};
				expect(await store.summarizeWeek(days, () => week)).toEqual(week);
				expect(await store.summarizeWeek(days, () => ({ ...week, hits: 7 })), "replaces it").not.toBeNull();
				const stored = await store.weekSummaries("2024-01-01", "2024-12-30");
				expect(stored.map(plain)).toEqual([plain({ ...week, hits: 7 })]);
			});
		});

		describe("PrivacyStore", () => {
			test("pruneHits deletes old hits never confirmed nor credited, oldest first, `limit` at a time", async () => {
				const [store, linkId] = await withLink();
				for (const n of [1, 2, 3, 4, 5, 6]) await store.insertHit(newHit(n, linkId));
				await store.confirmHit(hitId(2), at(7));
				await store.insertConversion(newConversion(1, { hitId: hitId(3), linkId }));
				expect(await store.countPrunableHits(at(6))).toBe(3);
				expect(await store.pruneHits(at(6), 2)).toBe(2);
				const left = (await store.listHits({ limit: 10, offset: 0 })).map((hit) => hit.id);
				expect(left).toEqual([hitId(6), hitId(5), hitId(3), hitId(2)]);
				expect(await store.pruneHits(at(6), 2)).toBe(1);
				expect(await store.pruneHits(at(6), 2)).toBe(0);
				expect(await store.countPrunableHits(at(6))).toBe(0);
			});

			test("readPersonData gathers a person's rows, oldest first; the erasure verbs remove them", async () => {
				const store = await fresh();
				const own = await store.insertLink({ identifier: "persons", userId: "p", target: null }, at(0));
				const other = await store.insertLink({ identifier: "others", userId: "r", target: null }, at(0));
				await store.insertHit(newHit(2, other.id, { userId: "p", visitorId: "pv", browserId: "pb" }));
				await store.insertHit(newHit(1, other.id, { userId: "p", visitorId: "pv", browserId: "pv" }));
				await store.insertHit(newHit(3, other.id, { userId: null, visitorId: "pv", browserId: "pb" }));
				await store.insertHit(newHit(4, own.id, { userId: "x", visitorId: "xv", browserId: "pb" }));
				await store.insertConversion(newConversion(1, { referredUserId: "p", hitId: hitId(1) }));
				await store.insertConversion(newConversion(2, { referrerUserId: "p" }));
				await store.reverseConversion(conversionId(1), "refund for p", at(5));

				const data = await store.readPersonData("p");
				expect(data.visitorIds).toEqual(["pv"]);
				expect(data.browserIds).toEqual(["pb"]);
				expect(data.links.map((link) => link.identifier)).toEqual(["persons"]);
				expect(data.hits.map((hit) => [hit.id, hit.identifier])).toEqual([
					[hitId(1), "others"],
					[hitId(2), "others"],
				]);
				expect(data.hitsAsVisitor.map((hit) => hit.id)).toEqual([hitId(3)]);
				expect(data.conversionsAsReferred.map((c) => c.id)).toEqual([conversionId(1)]);
				expect(data.conversionsAsReferrer.map((c) => c.id)).toEqual([conversionId(2)]);

				await store.transaction(async (tx) => {
					expect(await tx.eraseHitsOf("p", at(9))).toEqual({ deleted: 2, anonymised: 1 });
					expect(await tx.detachLinksOf("p", at(9), () => "renamed")).toEqual(["persons"]);
					expect(await tx.pseudonymiseConversionsOf("p", "pseudonym", at(9))).toBe(2);
				});
				const hits = await store.listHits({ limit: 10, offset: 0 });
				expect(hits.map((hit) => hit.id)).toEqual([hitId(4), hitId(1)]);
				expect(hits[1]).toMatchObject({ userId: null, visitorId: null, ip: null, userAgent: null });
				expect(await store.browserUsedBy("pb", "x"), "their browser ids are gone from every hit").toBe(false);
				expect(await store.findLink("renamed")).toMatchObject({ userId: null, disabled: true });
				const referred = await store.getConversion(conversionId(1));
				expect(referred).toMatchObject({ referredUserId: "pseudonym", reversalReason: "erased" });
				expect((await store.getConversion(conversionId(2)))?.referrerUserId).toBeNull();
				expect(await store.readPersonData("p")).toEqual({
					visitorIds: [],
					browserIds: [],
					links: [],
					hits: [],
					hitsAsVisitor: [],
					conversionsAsReferred: [],
					conversionsAsReferrer: [],
				});
			});
		});

		describe("transaction()", () => {
			test("commits the work's writes, and the reward transaction's, together", async () => {
				const [store, linkId] = await withLink();
				const result = await store.transaction(async (tx, reward) => {
					expect(tx.dialect).toBe(store.dialect);
					await tx.insertHit(newHit(1, linkId));
					await reward.updateTable("refkit_link").set({ target: "/rewarded" }).execute();
					return "done";
				});
				expect(result).toBe("done");
				expect(await store.listHits({ limit: 10, offset: 0 })).toHaveLength(1);
				expect((await store.findLink("link_a"))?.target).toBe("/rewarded");
			});

			test("the work's own error passes through unchanged, and nothing it wrote is kept", async () => {
				const [store, linkId] = await withLink();
				const thrown = new Error("the reward failed");
				const error = await store
					.transaction(async (tx, reward) => {
						await tx.insertConversion(newConversion(1, { linkId }));
						await reward.updateTable("refkit_link").set({ target: "/rewarded" }).execute();
						throw thrown;
					})
					.catch((caught: unknown) => caught);
				expect(error).toBe(thrown);
				expect(await store.getConversion(conversionId(1))).toBeNull();
				expect((await store.findLink("link_a"))?.target).toBeNull();
			});

			test("a RefkitError of a verb inside it passes through as it is", async () => {
				const store = await fresh();
				await store.insertLink({ identifier: "taken", userId: null, target: null }, at(0));
				await expectCode(
					store.transaction((tx) =>
						tx.insertLink({ identifier: "taken", userId: null, target: null }, at(1)),
					),
					"IDENTIFIER_TAKEN",
				);
			});
		});
	});
}
