export async function POST() {
	return new Response(null, {
		status: 303,
		headers: { location: "/", "set-cookie": "user=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0" },
	});
}
