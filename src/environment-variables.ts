import { everyMode } from './registry.js';
import { runtimeVariables } from './settings-table.js';

/**
 * Every environment variable the runtime and its built-in modes read, with what it sets;
 * docs/reference/environment.md lists the same. A mode's own (the cloud platforms', read through context.env) come from
 * its description.
 */
export const environmentVariables: Readonly<Record<string, string>> = Object.assign({}, runtimeVariables, ...everyMode().map((mode) => mode.variables ?? {}));
