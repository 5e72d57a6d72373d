import type { NextFunction, Request, RequestHandler, Response } from "express";
import type { MaybeUserId } from "../http/request.js";
import type { Refkit } from "../refkit.js";

/** Options of {@link refkitMiddleware}. */
export interface ExpressOptions {
	/**
	 * Who is logged in. Default: `req.user?.id` (Passport and most auth middleware). It must run after the
	 * middleware that sets the user, so install refkit after your session/auth middleware.
	 */
	getUserId?: (req: Request) => MaybeUserId | Promise<MaybeUserId>;
}

function defaultUserId(req: Request): MaybeUserId {
	const user = (req as Request & { user?: { id?: unknown } }).user;
	const id = user?.id;
	return typeof id === "string" || typeof id === "number" ? id : null;
}

/**
 * refkit for Express 4 and 5, in one middleware: it serves `/ref/<identifier>`, redirects `?ref=` URLs, and
 * claims a visitor's anonymous hits when they are logged in.
 *
 * @example
 * import express from "express";
 * import { createRefkit } from "refkit";
 * import { refkitMiddleware } from "refkit/express";
 *
 * const refkit = createRefkit({ database: "./refkit.sqlite", secret: process.env.REFKIT_SECRET });
 * await refkit.migrate();
 * const app = express();
 * app.use(session(...)); // whatever sets req.user
 * app.use(refkitMiddleware(refkit, { getUserId: (req) => req.user?.id }));
 */
export function refkitMiddleware(refkit: Refkit, options: ExpressOptions = {}): RequestHandler {
	const getUserId = options.getUserId ?? defaultUserId;
	return async (req: Request, res: Response, next: NextFunction) => {
		const outcome = await refkit.handle({
			method: req.method,
			url: req.originalUrl,
			header: (name) => {
				const value = req.headers[name];
				return Array.isArray(value) ? value.join(", ") : value;
			},
			remoteAddress: req.socket.remoteAddress,
			getUserId: () => getUserId(req),
		});
		for (const cookie of outcome.setCookies) res.append("Set-Cookie", cookie);
		if (outcome.redirect === null) return next();
		res.statusCode = outcome.redirect.status;
		res.setHeader("Location", outcome.redirect.location);
		res.end();
	};
}
