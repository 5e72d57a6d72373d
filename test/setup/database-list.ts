/** The databases every database-backed test runs on. `DATABASES=sqlite` (or `postgres`) narrows the run. */
export type DatabaseKind = "sqlite" | "postgres";

export function wantedDatabases(): DatabaseKind[] {
	const all: DatabaseKind[] = ["sqlite", "postgres"];
	const wanted = process.env.DATABASES?.split(",").map((name) => name.trim());
	if (!wanted || wanted.length === 0 || wanted[0] === "") return all;
	const unknown = wanted.filter((name) => !all.includes(name as DatabaseKind));
	if (unknown.length > 0)
		throw new Error(`DATABASES may list sqlite and postgres, not ${unknown.join(", ")}`);
	return all.filter((name) => wanted.includes(name));
}
