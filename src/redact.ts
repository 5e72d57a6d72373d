/**
 * Secrets that must not reach a message or a log: the password of a database URL, the path of a webhook URL
 * (Slack, Discord and Zapier hooks carry their token there) and its query.
 */

/**
 * `text` with the password of every `scheme://user:password@host` in it replaced by `***` (a password may
 * hold `@`, `/` or `:`: everything up to the last `@` of the URL goes), and every `password=` parameter's.
 */
export function redactCredentials(text: string): string {
	return text
		.replace(/\b([a-z][a-z0-9+.-]*:\/\/[^\s/:@]*):\S*@/gi, "$1:***@")
		.replace(/([?&](?:password|pass|pwd|secret|token)=)[^&\s"']*/gi, "$1***");
}

/**
 * A webhook URL as messages and stored errors show it: its origin and first path segment, the rest elided.
 * `https://hooks.slack.com/services/T0/B0/XXXX?x=1` → `https://hooks.slack.com/services/…`.
 */
export function describeWebhookUrl(url: URL): string {
	const [first = "", ...rest] = url.pathname.split("/").filter((segment) => segment !== "");
	const elided = rest.length > 0 || url.search !== "" ? "/…" : "";
	return `${url.origin}${first === "" ? "" : `/${first}`}${elided}`;
}

/** A `Location` a webhook receiver answered, as {@link describeWebhookUrl} shows it, against `base`. */
export function describeLocation(location: string, base: URL): string {
	try {
		return describeWebhookUrl(new URL(location, base));
	} catch {
		return "an unreadable location";
	}
}
