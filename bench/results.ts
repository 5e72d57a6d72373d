/** Writing measured tables into bench/RESULTS.md, shared by the benchmarks that keep a section there. */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL(".", import.meta.url));

/**
 * Replaces what is between `<!-- name:start -->` and `<!-- name:end -->` in bench/RESULTS.md (the markers are
 * added at the end when missing), in the repository's own format (biome pads the tables), so that `npm run
 * check` stays green after a run.
 */
export function writeResults(name: string, text: string): void {
	const resultsPath = join(here, "RESULTS.md");
	const start = `<!-- ${name}:start -->`;
	const end = `<!-- ${name}:end -->`;
	let previous = existsSync(resultsPath) ? readFileSync(resultsPath, "utf8") : "# Benchmark results\n";
	if (!previous.includes(start)) previous = `${previous.trimEnd()}\n\n${start}\n${end}\n`;
	const from = previous.indexOf(start);
	const to = previous.indexOf(end);
	writeFileSync(resultsPath, `${previous.slice(0, from)}${start}\n${text}\n${previous.slice(to)}`);
	try {
		execFileSync(join(here, "..", "node_modules", ".bin", "biome"), ["format", "--write", resultsPath], {
			stdio: "ignore",
		});
	} catch {
		console.error(
			"could not format bench/RESULTS.md with biome: run `npx biome format --write bench/RESULTS.md`",
		);
	}
}
