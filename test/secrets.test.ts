import { describe, expect, test } from "vitest";
import { createRefkit } from "../src/index.js";
import { DATABASES, freshDatabaseUrl, TEST_SECRET } from "./setup/databases.js";
import { visit, visitorCookie } from "./setup/direct.js";

const NEW_SECRET = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";

describe.each(DATABASES)("rotating the secret on %s", (kind) => {
	test("cookies signed with the older secret stay valid; new ones are signed with the newest", async () => {
		const database = await freshDatabaseUrl(kind);
		const before = createRefkit({ database, secret: TEST_SECRET });
		await before.migrate();
		await before.createLink({ identifier: "alice_link", userId: "alice" });
		const oldCookie = visitorCookie(await visit(before, "/ref/alice_link"));
		await before.close();

		const during = createRefkit({ database, secret: [NEW_SECRET, TEST_SECRET] });
		try {
			// The old cookie still identifies the visitor: the same visitor id, re-signed with the newest secret.
			const again = visitorCookie(await visit(during, "/ref/alice_link", { cookie: oldCookie }));
			const [oldId, oldSignature] = oldCookie.split("=")[1]?.split(".") ?? [];
			const [newId, newSignature] = again.split("=")[1]?.split(".") ?? [];
			expect(newId).toBe(oldId);
			expect(newSignature).not.toBe(oldSignature);
			expect(await during.claim(oldCookie.split("=")[1], "bob")).toBe(2);
		} finally {
			await during.close();
		}

		const after = createRefkit({ database, secret: NEW_SECRET });
		try {
			// Once the old secret is dropped, its cookies are strangers: a new visitor id, nothing claimed.
			const stranger = visitorCookie(await visit(after, "/ref/alice_link", { cookie: oldCookie }));
			expect(stranger.split("=")[1]?.split(".")[0]).not.toBe(oldCookie.split("=")[1]?.split(".")[0]);
			expect(await after.claim(oldCookie.split("=")[1], "carol")).toBe(0);
		} finally {
			await after.close();
		}
	});
});
