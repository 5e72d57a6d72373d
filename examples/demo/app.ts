import { createHmac, timingSafeEqual } from "node:crypto";
import express, { type Request } from "express";
import type { Refkit } from "refkit";
import { refkitMiddleware } from "refkit/express";

/**
 * The demo application: log in by name, get your referral link, share it. A real application has its own
 * sessions; the demo's is a signed `demo_user` cookie so that it needs nothing else.
 */

const SESSION_COOKIE = "demo_user";
const USERNAME = /^[A-Za-z0-9_.-]{1,40}$/;

function escapeHtml(value: string): string {
	return value.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

function sessionValue(username: string, secret: string): string {
	const signature = createHmac("sha256", secret).update(`demo-session:${username}`).digest("base64url");
	return `${username}.${signature}`;
}

function sessionUser(req: Request, secret: string): string | null {
	const cookie = (req.headers.cookie ?? "")
		.split(";")
		.map((pair) => pair.trim())
		.find((pair) => pair.startsWith(`${SESSION_COOKIE}=`));
	const value = cookie?.slice(SESSION_COOKIE.length + 1) ?? "";
	const username = value.slice(0, value.lastIndexOf("."));
	if (!USERNAME.test(username)) return null;
	const expected = Buffer.from(sessionValue(username, secret));
	const given = Buffer.from(value);
	return given.length === expected.length && timingSafeEqual(given, expected) ? username : null;
}

function page(title: string, body: string): string {
	return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 44rem; margin: 3rem auto; padding: 0 1rem; color: #1f2933; }
  h1 { font-size: 1.6rem; } code, .link { font-family: ui-monospace, monospace; background: #f0f4f8; padding: .15rem .4rem; border-radius: 4px; }
  .link { display: inline-block; font-size: 1.1rem; padding: .5rem .75rem; }
  table { border-collapse: collapse; width: 100%; margin-top: 1rem; } th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid #d9e2ec; }
  form { margin: 1rem 0; } input, button { font: inherit; padding: .4rem .6rem; } button { cursor: pointer; }
  .muted { color: #627d98; }
</style></head><body>${body}</body></html>`;
}

/** The demo's Express application, with refkit installed exactly as the README's quick start shows. */
export function createDemoApp(refkit: Refkit, secret: string): express.Express {
	const app = express();
	app.use(express.urlencoded({ extended: false }));
	app.use(refkitMiddleware(refkit, { getUserId: (req) => sessionUser(req, secret) }));

	app.get("/", async (req, res) => {
		const user = sessionUser(req, secret);
		if (user === null) {
			res.send(
				page(
					"refkit demo",
					`<h1>refkit demo</h1>
<p>Log in with any name to get your own referral link. Open it in another browser (or a private window),
then log in there as someone else: the visit is credited to you.</p>
<form method="post" action="/login"><label>Your name <input name="username" required pattern="[A-Za-z0-9_.\\-]{1,40}" autofocus></label>
<button type="submit">Log in</button></form>`,
				),
			);
			return;
		}
		let [link] = await refkit.listLinks({ userId: user, limit: 1 });
		link ??= await refkit.createLink({ userId: user });
		const url = `${req.protocol}://${req.get("host")}${refkit.options.mountPath}/${link.identifier}`;
		const hits = await refkit.listHits({ link: link.identifier, limit: 20 });
		const rows = hits
			.map((hit) => {
				const when = hit.createdAt.toISOString().replace("T", " ").slice(0, 19);
				const who =
					hit.userId === null ? '<span class="muted">not logged in yet</span>' : escapeHtml(hit.userId);
				const how = hit.authenticated
					? "was logged in"
					: hit.userId === null
						? "anonymous"
						: "claimed at login";
				return `<tr><td>${when}</td><td>${who}</td><td>${how}</td></tr>`;
			})
			.join("");
		res.send(
			page(
				"refkit demo",
				`<h1>Hello, ${escapeHtml(user)}</h1>
<p>Your referral link:</p><p><span class="link">${escapeHtml(url)}</span></p>
<p class="muted">Also works on any page: <code>/?ref=${escapeHtml(link.identifier)}</code></p>
<h2>Visits through your link</h2>
${hits.length === 0 ? "<p class=muted>No visits yet.</p>" : `<table><thead><tr><th>When (UTC)</th><th>Visitor</th><th>How</th></tr></thead><tbody>${rows}</tbody></table>`}
<form method="post" action="/logout"><button type="submit">Log out</button></form>`,
			),
		);
	});

	app.post("/login", (req, res) => {
		const username = typeof req.body?.username === "string" ? req.body.username.trim() : "";
		if (!USERNAME.test(username)) {
			res
				.status(400)
				.send(
					page(
						"Bad name",
						`<p>A name is 1 to 40 letters, digits, ".", "_" or "-".</p><p><a href="/">Back</a></p>`,
					),
				);
			return;
		}
		res.cookie(SESSION_COOKIE, sessionValue(username, secret), {
			httpOnly: true,
			sameSite: "lax",
			path: "/",
		});
		res.redirect(303, "/");
	});

	app.post("/logout", (_req, res) => {
		res.clearCookie(SESSION_COOKIE, { path: "/" });
		res.redirect(303, "/");
	});

	app.use((_req, res) => {
		res.status(404).send(page("Not found", `<h1>Not found</h1><p><a href="/">Home</a></p>`));
	});
	return app;
}
