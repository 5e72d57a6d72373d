import { execFileSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import type { TestProject } from "vitest/node";
import { wantedDatabases } from "./database-list.js";

declare module "vitest" {
	export interface ProvidedContext {
		/** A URL of a PostgreSQL server where the tests may create databases, or null when PostgreSQL is not tested. */
		postgresUrl: string | null;
	}
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

/**
 * Starts a throwaway PostgreSQL cluster in a temporary directory on a free port. PostgreSQL refuses to run as
 * root, so as root the cluster belongs to the `postgres` user (or `nobody`).
 */
async function startCluster(): Promise<{ url: string; stop: () => void }> {
	const bin = postgresBin();
	if (bin === null) {
		throw new Error(
			"PostgreSQL tests need a PostgreSQL server: `apt-get install postgresql` (the tests start their own throwaway cluster), " +
				"or set REFKIT_TEST_POSTGRES_URL to a server where they may create databases, " +
				"or run only the SQLite tests with DATABASES=sqlite npm test.",
		);
	}
	const dir = mkdtempSync(join(tmpdir(), "refkit-pg-"));
	const port = await freePort();
	let runAs: string[] = [];
	if (process.getuid?.() === 0) {
		const user = existsSync("/var/lib/postgresql") ? "postgres" : "nobody";
		const uid = Number(execFileSync("id", ["-u", user]).toString().trim());
		const gid = Number(execFileSync("id", ["-g", user]).toString().trim());
		chownSync(dir, uid, gid);
		runAs = ["runuser", "-u", user, "--"];
	}
	const run = (tool: string, args: string[]) => {
		const command = [...runAs, join(bin, tool), ...args];
		execFileSync(command[0] as string, command.slice(1), { stdio: "pipe" });
	};
	run("initdb", ["-D", join(dir, "data"), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"]);
	const settings = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=300`;
	run("pg_ctl", ["-D", join(dir, "data"), "-o", settings, "-l", join(dir, "server.log"), "-w", "start"]);
	return {
		url: `postgres://postgres@127.0.0.1:${port}/postgres`,
		stop: () => {
			try {
				run("pg_ctl", ["-D", join(dir, "data"), "-m", "immediate", "-w", "stop"]);
			} finally {
				rmSync(dir, { recursive: true, force: true });
			}
		},
	};
}

async function dropTestDatabases(url: string): Promise<void> {
	const client = new pg.Client({ connectionString: url });
	await client.connect();
	try {
		const { rows } = await client.query<{ datname: string }>(
			"SELECT datname FROM pg_database WHERE datname LIKE 'refkit_t_%'",
		);
		for (const { datname } of rows) await client.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
	} finally {
		await client.end();
	}
}

export default async function setup(project: TestProject) {
	if (!wantedDatabases().includes("postgres")) {
		project.provide("postgresUrl", null);
		return;
	}
	const given = process.env.REFKIT_TEST_POSTGRES_URL;
	const cluster = given ? null : await startCluster();
	const url = given ?? (cluster as { url: string }).url;
	project.provide("postgresUrl", url);
	return async () => {
		if (cluster) cluster.stop();
		else await dropTestDatabases(url);
	};
}
