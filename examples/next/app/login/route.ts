// A stand-in for your login: the `user` cookie names whoever logs in. The proxy then claims the visits this
// browser made before logging in, on the next request.
export async function POST(request: Request) {
	const name = String((await request.formData()).get("name") ?? "").trim();
	const headers = new Headers({ location: "/" });
	if (/^[A-Za-z0-9_.-]{1,40}$/.test(name)) {
		headers.append("set-cookie", `user=${name}; Path=/; HttpOnly; SameSite=Lax`);
	}
	return new Response(null, { status: 303, headers });
}
