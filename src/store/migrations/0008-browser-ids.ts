import type { Kysely, Migration } from "kysely";

/**
 * `refkit_hit.browser_id`: the id of the browser a hit came from, from a signed cookie that, unlike the
 * visitor cookie, outlives logging in and out, and is recorded on logged-in hits too. `null` when the
 * browser id is the hit's visitor id (an anonymous browser is named by its visitor id until it has a
 * browser cookie), which most hits are. A hit from a browser its link's owner has used is a self-referral
 * (see `confirm()`). No index: it is only looked up together with a user id, through the index on
 * `user_id`. Adding a nullable column rewrites no row.
 */
export function m0008BrowserIds(): Migration {
	return {
		async up(db: Kysely<unknown>) {
			await db.schema.alterTable("refkit_hit").addColumn("browser_id", "text").execute();
		},
		async down(db: Kysely<unknown>) {
			await db.schema.alterTable("refkit_hit").dropColumn("browser_id").execute();
		},
	};
}
