// Runs once when the server starts (`next start`, `next dev`), never during `next build`.
export async function register() {
	if (process.env.NEXT_RUNTIME === "nodejs") {
		const { refkit } = await import("./lib/refkit");
		await refkit.migrate();
	}
}
