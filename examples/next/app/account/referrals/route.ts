import { referrerPageHandler } from "refkit/web";
import { refkit, userFromSession } from "@/lib/refkit";

// Each user's own page: their link to copy, share and scan, its clicks, conversions and earnings
// (docs/referrer-page.md). Logged out, a visitor is sent to the login (here, the home page's form).
const page = referrerPageHandler(refkit, {
	path: "/account/referrals",
	getUserId: userFromSession,
	loginUrl: "/",
});
export async function GET(request: Request) {
	return (await page(request)) ?? new Response("Not found", { status: 404 });
}
