import { cookies, headers } from "next/headers";
import { refkit } from "@/lib/refkit";

export default async function Home() {
	const user = (await cookies()).get("user")?.value;
	if (!user) {
		return (
			<main>
				<h1>refkit on Next.js</h1>
				<p>Log in with any name to get your referral link.</p>
				<form method="post" action="/login">
					<label>
						Name <input name="name" required pattern="[A-Za-z0-9_.\-]{1,40}" />
					</label>{" "}
					<button type="submit">Log in</button>
				</form>
			</main>
		);
	}
	const link = await refkit.linkFor(user); // this user's link, created on first use
	const host = (await headers()).get("host") ?? "localhost:3000";
	const url = `http://${host}${refkit.options.mountPath}/${link.identifier}`;
	const hits = await refkit.listHits({ referrerUserId: user, limit: 20 });
	return (
		<main>
			<h1>Hello, {user}</h1>
			<p>
				Your referral link: <a href={url}>{url}</a>
			</p>
			<p>
				{hits.length === 0
					? "No visits yet: open your link in a private window."
					: `${hits.length} visit${hits.length === 1 ? "" : "s"} through your link.`}
			</p>
			<form method="post" action="/logout">
				<button type="submit">Log out</button>
			</form>
		</main>
	);
}
