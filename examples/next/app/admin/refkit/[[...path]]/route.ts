import { dashboardHandler } from "refkit/web";
import { refkit, userFromSession } from "@/lib/refkit";

// The dashboard, for the user named "admin" only: check your application's own roles instead.
const dashboard = dashboardHandler(refkit, {
	path: "/admin/refkit",
	authorize: (request) => userFromSession(request) === "admin",
});
const serve = async (request: Request) =>
	(await dashboard(request)) ?? new Response("Not found", { status: 404 });

export { serve as GET, serve as POST };
