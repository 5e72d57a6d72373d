import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { chownSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A PgBouncer of the tests' own, in front of their PostgreSQL server. */
export interface Bouncer {
	/** `url` with PgBouncer's host and port instead of PostgreSQL's. */
	through(url: string): string;
	/** Stops PgBouncer and deletes its directory. */
	stop(): Promise<void>;
}

function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = createServer();
		server.once("error", reject);
		server.listen(0, "127.0.0.1", () => {
			const address = server.address();
			server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
		});
	});
}

function pgbouncerBin(): string | null {
	for (const dir of [...(process.env.PATH ?? "").split(":"), "/usr/sbin", "/usr/bin"]) {
		if (dir && existsSync(join(dir, "pgbouncer"))) return join(dir, "pgbouncer");
	}
	return null;
}

async function listening(port: number, child: ChildProcess, log: () => string): Promise<void> {
	const deadline = Date.now() + 10_000;
	while (Date.now() < deadline) {
		if (child.exitCode !== null) throw new Error(`pgbouncer exited (${child.exitCode}):\n${log()}`);
		const ok = await new Promise<boolean>((resolve) => {
			const socket = connect(port, "127.0.0.1");
			socket.once("connect", () => {
				socket.destroy();
				resolve(true);
			});
			socket.once("error", () => resolve(false));
		});
		if (ok) return;
		await new Promise((resolve) => setTimeout(resolve, 50));
	}
	throw new Error(`pgbouncer did not listen within 10 s:\n${log()}`);
}

/**
 * Starts PgBouncer (Debian's `pgbouncer` package) in front of the PostgreSQL server of `postgresUrl`, in
 * `mode` pooling with `poolSize` server connections per database and user: with a small pool, clients share
 * server connections, as in production. PgBouncer refuses to run as root, so as root it runs as `postgres`
 * (or `nobody`), like the tests' PostgreSQL. Throws, saying what to install, when PgBouncer is missing.
 */
export async function startPgBouncer(
	postgresUrl: string,
	{ mode = "transaction", poolSize = 2 }: { mode?: "transaction" | "session"; poolSize?: number } = {},
): Promise<Bouncer> {
	const bin = pgbouncerBin();
	if (bin === null) {
		throw new Error(
			"The PgBouncer tests need PgBouncer: `apt-get install pgbouncer` (the tests start their own), " +
				"or run only the SQLite tests with DATABASES=sqlite npm test.",
		);
	}
	const server = new URL(postgresUrl);
	const dir = mkdtempSync(join(tmpdir(), "refkit-pgbouncer-"));
	const port = await freePort();
	const user = decodeURIComponent(server.username || "postgres");
	// PgBouncer logs in to PostgreSQL with the password it has for the user here (CI's server wants one).
	const password = decodeURIComponent(server.password).replace(/"/g, '""');
	writeFileSync(join(dir, "users.txt"), `"${user}" "${password}"\n`);
	writeFileSync(
		join(dir, "pgbouncer.ini"),
		[
			"[databases]",
			`* = host=${server.hostname} port=${server.port || 5432}`,
			"[pgbouncer]",
			"listen_addr = 127.0.0.1",
			`listen_port = ${port}`,
			"unix_socket_dir =",
			"auth_type = trust",
			`auth_file = ${join(dir, "users.txt")}`,
			`pool_mode = ${mode}`,
			`default_pool_size = ${poolSize}`,
			"max_client_conn = 1000",
			// pg sends none of these, psql and others may.
			"ignore_startup_parameters = extra_float_digits,options,statement_timeout",
			`logfile = ${join(dir, "pgbouncer.log")}`,
			"",
		].join("\n"),
	);
	let runAs: string[] = [];
	if (process.getuid?.() === 0) {
		const owner = existsSync("/var/lib/postgresql") ? "postgres" : "nobody";
		const uid = Number(execFileSync("id", ["-u", owner]).toString().trim());
		const gid = Number(execFileSync("id", ["-g", owner]).toString().trim());
		chownSync(dir, uid, gid);
		runAs = ["runuser", "-u", owner, "--"];
	}
	const command = [...runAs, bin, join(dir, "pgbouncer.ini")];
	const child = spawn(command[0] as string, command.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
	let output = "";
	const collect = (chunk: Buffer) => {
		output += chunk.toString();
	};
	child.stdout?.on("data", collect);
	child.stderr?.on("data", collect);
	await listening(port, child, () => output);
	return {
		through(url: string) {
			const via = new URL(url);
			via.hostname = "127.0.0.1";
			via.port = String(port);
			return via.toString();
		},
		async stop() {
			if (child.exitCode === null && child.signalCode === null) {
				const exited = once(child, "exit");
				child.kill("SIGTERM");
				await exited;
			}
			rmSync(dir, { recursive: true, force: true });
		},
	};
}
