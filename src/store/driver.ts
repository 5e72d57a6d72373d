import { RefkitError } from "../errors.js";

/**
 * A database driver imported the first time refkit needs it. Each dialect module writes its own `import()`
 * of the driver's name (a constant in a variable, with the comments that keep webpack and Turbopack from
 * bundling it) and hands it here: Node.js then resolves the driver at run time from the application's own
 * `node_modules`, and a driver the application did not install throws `MISSING_DRIVER`.
 */
export async function loadDriver<T>(
	name: string,
	database: string,
	load: () => Promise<unknown>,
): Promise<T> {
	let module: { default?: unknown };
	try {
		module = (await load()) as { default?: unknown };
	} catch (error) {
		throw new RefkitError(
			"MISSING_DRIVER",
			`refkit: ${database} needs the "${name}" package. Install it with \`npm install ${name}\`.`,
			{ cause: error },
		);
	}
	// The drivers are CommonJS: their exports are the default export.
	return (module.default ?? module) as T;
}

/** What a query of a closed refkit throws: closing is for good, and opens nothing again. */
export function closedError(): RefkitError {
	return new RefkitError("STORE_UNAVAILABLE", "refkit: this refkit was closed; create another to go on.");
}
