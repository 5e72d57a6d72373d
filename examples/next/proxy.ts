import { type NextRequest, NextResponse } from "next/server";
import { refkitHandler } from "refkit/web";
import { refkit, userFromSession } from "@/lib/refkit";

const handle = refkitHandler(refkit, { getUserId: userFromSession });

// `/ref/<identifier>`, `?ref=` on any page, and claims at login, before the page is rendered.
export async function proxy(request: NextRequest) {
	return (await handle(request, { next: () => NextResponse.next() })) ?? NextResponse.next();
}

export const config = { matcher: ["/((?!_next/|favicon.ico).*)"] };
