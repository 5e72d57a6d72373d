import { execFile, execFileSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

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

/** The directory holding initdb and pg_ctl: PATH first, then Debian's /usr/lib/postgresql/<version>/bin. */
function postgresBin(): string | null {
	for (const dir of (process.env.PATH ?? "").split(":")) {
		if (dir && existsSync(join(dir, "initdb")) && existsSync(join(dir, "pg_ctl"))) return dir;
	}
	const root = "/usr/lib/postgresql";
	if (!existsSync(root)) return null;
	const versions = readdirSync(root)
		.filter((v) => existsSync(join(root, v, "bin", "initdb")))
		.sort((a, b) => Number(b) - Number(a));
	return versions[0] ? join(root, versions[0], "bin") : null;
}

/** A throwaway PostgreSQL server of the tests' own. */
export interface Cluster {
	/** The superuser's URL of its `postgres` database. */
	url: string;
	/** Stops the server at once, as if it crashed (`pg_ctl stop -m immediate`); the data stays. */
	stop(): Promise<void>;
	/** Starts the stopped server again, on the same data directory and port. */
	start(): Promise<void>;
	/** Restarts the running server as an operator would (`pg_ctl restart -m fast`): sessions are ended. */
	restart(): Promise<void>;
	/** The process ids of the server: the postmaster first, then its children. */
	pids(): number[];
	/** Stops the server if it runs and deletes its directory. */
	destroy(): Promise<void>;
}

/**
 * Starts a throwaway PostgreSQL cluster in a temporary directory on a free port. PostgreSQL refuses to run as
 * root, so as root the cluster belongs to the `postgres` user (or `nobody`). Throws, saying what to install,
 * when PostgreSQL's server programs are missing. Tests run it without fsync (a crash of the machine is not
 * what they test); `durable` keeps PostgreSQL's default, for benchmarks whose commits must cost what they do.
 */
export async function startCluster(options: { durable?: boolean } = {}): Promise<Cluster> {
	const bin = postgresBin();
	if (bin === null) {
		throw new Error(
			"PostgreSQL tests need a PostgreSQL server: `apt-get install postgresql` (the tests start their own throwaway cluster), " +
				"or set REFKIT_TEST_POSTGRES_URL to a server where they may create databases, " +
				"or run only the SQLite tests with DATABASES=sqlite npm test.",
		);
	}
	const dir = mkdtempSync(join(tmpdir(), "refkit-pg-"));
	const data = join(dir, "data");
	const port = await freePort();
	let runAs: string[] = [];
	if (process.getuid?.() === 0) {
		const user = existsSync("/var/lib/postgresql") ? "postgres" : "nobody";
		const uid = Number(execFileSync("id", ["-u", user]).toString().trim());
		const gid = Number(execFileSync("id", ["-g", user]).toString().trim());
		chownSync(dir, uid, gid);
		runAs = ["runuser", "-u", user, "--"];
	}
	// Asynchronous, so that a test's own HTTP traffic goes on while the server stops or starts.
	const run = async (tool: string, args: string[]) => {
		const command = [...runAs, join(bin, tool), ...args];
		await execFileAsync(command[0] as string, command.slice(1));
	};
	const unsafe = options.durable ? "" : " -c fsync=off -c full_page_writes=off";
	const settings = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1${unsafe} -c max_connections=300`;
	const start = () =>
		run("pg_ctl", ["-D", data, "-o", settings, "-l", join(dir, "server.log"), "-w", "start"]);
	const stop = () => run("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]);
	const restart = () =>
		run("pg_ctl", ["-D", data, "-o", settings, "-l", join(dir, "server.log"), "-m", "fast", "-w", "restart"]);
	await run("initdb", ["-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"]);
	await start();
	return {
		url: `postgres://postgres@127.0.0.1:${port}/postgres`,
		stop,
		start,
		restart,
		pids: () => {
			const pidFile = join(data, "postmaster.pid");
			if (!existsSync(pidFile)) return [];
			const postmaster = Number(readFileSync(pidFile, "utf8").split("\n")[0]);
			const children: number[] = [];
			for (const entry of readdirSync("/proc")) {
				if (!/^\d+$/.test(entry)) continue;
				try {
					const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
					// "pid (command) state ppid ...": the command may hold spaces and parentheses.
					const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
					if (ppid === postmaster) children.push(Number(entry));
				} catch {
					// The process ended while the list was read.
				}
			}
			return [postmaster, ...children];
		},
		destroy: async () => {
			try {
				if (existsSync(join(data, "postmaster.pid"))) await stop();
			} finally {
				rmSync(dir, { recursive: true, force: true });
			}
		},
	};
}
