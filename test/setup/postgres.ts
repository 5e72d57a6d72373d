import pg from "pg";
import type { TestProject } from "vitest/node";
import { wantedDatabases } from "./database-list.js";
import { startCluster } from "./pg-cluster.js";

declare module "vitest" {
	export interface ProvidedContext {
		/** A URL of a PostgreSQL server where the tests may create databases, or null when PostgreSQL is not tested. */
		postgresUrl: string | null;
	}
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
		if (cluster) await cluster.destroy();
		else await dropTestDatabases(url);
	};
}
