import http from "node:http";
import { BROWSER_AGENT } from "../setup/http.js";

/** One response, read whole. */
export interface Reply {
	status: number;
	location: string | null;
	/** The `name=value` pairs of the `Set-Cookie` headers. */
	cookies: string[];
	/** The `x-worker` header: the process id of the server process that answered, where the app sets it. */
	worker: string | null;
	body: string;
}

export interface SendInit {
	method?: string;
	/** Sent as they are; a browser's User-Agent unless `user-agent` is given. */
	headers?: Record<string, string | undefined>;
	body?: string;
}

/**
 * A load client on `node:http` with keep-alive connections, at most `maxSockets` of them, as a crowd of
 * browsers behind one address would open. Redirects are never followed.
 */
export class LoadClient {
	readonly #agent: http.Agent;
	/** How long each answered request took, in milliseconds, in the order they ended. */
	readonly latencies: number[] = [];

	constructor(
		readonly base: string,
		maxSockets: number,
	) {
		this.#agent = new http.Agent({ keepAlive: true, maxSockets });
	}

	send(path: string, init: SendInit = {}): Promise<Reply> {
		const headers: Record<string, string> = { "user-agent": BROWSER_AGENT };
		for (const [name, value] of Object.entries(init.headers ?? {})) {
			if (value !== undefined) headers[name] = value;
		}
		if (init.body !== undefined) headers["content-length"] = String(Buffer.byteLength(init.body));
		const started = performance.now();
		return new Promise((resolve, reject) => {
			const request = http.request(
				`${this.base}${path}`,
				{ agent: this.#agent, method: init.method ?? "GET", headers, timeout: 60_000 },
				(response) => {
					let body = "";
					response.setEncoding("utf8");
					response.on("data", (chunk: string) => {
						body += chunk;
					});
					response.on("error", reject);
					response.on("end", () => {
						this.latencies.push(performance.now() - started);
						const worker = response.headers["x-worker"];
						resolve({
							status: response.statusCode ?? 0,
							location: response.headers.location ?? null,
							cookies: (response.headers["set-cookie"] ?? []).map((header) => header.split(";")[0] ?? ""),
							worker: typeof worker === "string" ? worker : null,
							body,
						});
					});
				},
			);
			request.on("timeout", () => request.destroy(new Error(`${path}: no answer in 60 s`)));
			request.on("error", reject);
			request.end(init.body);
		});
	}

	close(): void {
		this.#agent.destroy();
	}
}

/** The latencies' median, 99th percentile and maximum, as text: `p50 12 ms, p99 85 ms, max 140 ms`. */
export function latencySummary(latencies: readonly number[]): string {
	const sorted = [...latencies].sort((a, b) => a - b);
	const at = (q: number) =>
		Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0);
	return `p50 ${at(0.5)} ms, p99 ${at(0.99)} ms, max ${Math.round(sorted.at(-1) ?? 0)} ms`;
}

/** The `name=value` pair of cookie `name` that a reply sets, or undefined. */
export function cookiePair(reply: Reply, name: string): string | undefined {
	return reply.cookies.find((pair) => pair.startsWith(`${name}=`));
}

/**
 * Runs `task(0)` ... `task(count - 1)`, at most `concurrency` at once, in order of index. A task that throws
 * does not stop the others: its error is collected. Resolves to the elapsed time and the errors.
 */
export async function pool(
	count: number,
	concurrency: number,
	task: (index: number) => Promise<void>,
): Promise<{ elapsedMs: number; errors: unknown[] }> {
	const errors: unknown[] = [];
	let next = 0;
	const started = performance.now();
	const worker = async () => {
		while (next < count) {
			const index = next++;
			try {
				await task(index);
			} catch (error) {
				errors.push(error);
			}
		}
	};
	await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
	return { elapsedMs: performance.now() - started, errors };
}

/** Lets at most `concurrency` calls of the returned function run at once; the others wait in order. */
export function limiter(concurrency: number): <T>(work: () => Promise<T>) => Promise<T> {
	let active = 0;
	const waiting: (() => void)[] = [];
	return async (work) => {
		if (active < concurrency) active++;
		// A finished call hands its slot straight to the next waiter, so `active` never overshoots.
		else await new Promise<void>((resolve) => waiting.push(resolve));
		try {
			return await work();
		} finally {
			const wake = waiting.shift();
			if (wake) wake();
			else active--;
		}
	};
}
