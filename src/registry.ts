import { closest, distance } from 'fastest-levenshtein';
import { builtInModes } from '../modes/built-in.js';
import { AiIntegrationError } from './errors.js';
import type { LazyMode, Mode, ModeModule, ModeTraits, ProbeTarget, StartLoopOptions } from './types.js';

// Every mode, built-in ones first, by name. The built-in ones come through registerMode too; the
// registry names none of them.
const modes = new Map<string, LazyMode>();
// Modes registered as a module's URL: the supervisor, which never loads the shim, imports the
// same URLs to run them. `pending` holds those not imported yet.
const moduleUrls: string[] = [];
let pending: string[] = [];
// Modes registered as objects: they run only in the process that registered them.
const inProcessOnly = new Set<string>();
let builtInNames: ReadonlySet<string> = new Set();

/**
 * Adds a mode that `MODE=<name>` selects, next to the built-in ones: an object with its `run`,
 * one with a lazy `load` (a folder of its own), or the URL of a module whose default export is
 * one of those. Only a module's URL works under the supervisor too, which never loads the shim.
 * @example registerMode({ name: 'batch', hint: 'run a folder: docker run -v ./in:/in -e MODE=batch IMAGE', run: async (ctx) => 0 })
 * @example registerMode(new URL('./echo-mode/mode.js', import.meta.url))
 */
export function registerMode(mode: Mode | LazyMode | URL | string): void {
  if (typeof mode === 'string' || mode instanceof URL) {
    const url = String(mode);
    if (!moduleUrls.includes(url)) {
      moduleUrls.push(url);
      pending.push(url);
    }
    return;
  }
  add(mode);
  inProcessOnly.add(mode.name);
}

function add(mode: Mode | LazyMode): void {
  if (typeof mode?.name !== 'string' || !/^[a-z][a-z0-9_]*$/.test(mode.name)) {
    throw new AiIntegrationError('AI_ERR_INVALID_OPTION', `a mode name must be lower_snake_case, got ${JSON.stringify(mode?.name)}`);
  }
  const load = 'load' in mode && typeof mode.load === 'function' ? mode.load.bind(mode) : undefined;
  if (!load && typeof (mode as Mode).run !== 'function') {
    throw new AiIntegrationError('AI_ERR_INVALID_OPTION', `mode ${mode.name} has neither run(context) nor load()`);
  }
  if (modes.has(mode.name)) {
    throw new AiIntegrationError(
      'AI_ERR_INVALID_OPTION',
      `mode ${mode.name} is ${builtInNames.has(mode.name) ? 'built in and cannot be replaced' : 'registered already'}`,
    );
  }
  modes.set(mode.name, { ...mode, load: load ?? (async () => mode as ModeModule) });
}

for (const mode of builtInModes) registerMode(mode);
builtInNames = new Set(modes.keys());
inProcessOnly.clear();

/** Imports the modes registered by URL that are not imported yet; a module that is not a mode is an error naming it. */
export async function loadRegisteredModules(): Promise<void> {
  const urls = pending;
  pending = [];
  for (const url of urls) {
    let exported: unknown;
    try {
      exported = ((await import(url)) as { default?: unknown }).default;
    } catch (error) {
      throw new AiIntegrationError(
        'AI_ERR_INVALID_OPTION',
        `the mode module ${url} cannot be imported: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    if (typeof exported !== 'object' || exported === null) {
      throw new AiIntegrationError('AI_ERR_INVALID_OPTION', `the mode module ${url} has no default export describing a mode ({ name, hint, run or load })`);
    }
    add(exported as Mode | LazyMode);
  }
}

/** The URLs of the modes registered as modules, for the supervisor to register the same. */
export function registeredModuleUrls(): readonly string[] {
  return moduleUrls;
}

/** The names of modes registered as objects, which cannot run outside the process that registered them. */
export function inProcessModeNames(): readonly string[] {
  return [...inProcessOnly];
}

/** Every mode with its hint, built-in ones first (a mode registered by URL once its module is imported). */
export function listModes(): { name: string; hint: string }[] {
  return [...modes.values()].map(({ name, hint }) => ({ name, hint }));
}

/** What the runtime knows of the mode called `name` without loading its code; undefined for an unknown name. */
export function modeTraits(name: string): ModeTraits | undefined {
  return modes.get(name);
}

/** Every mode's description, built-in ones first. */
export function everyMode(): readonly ModeTraits[] {
  return [...modes.values()];
}

/** Whether the mode keeps serving after a throw (so its model is restarted in place). */
export function isServingMode(name: string): boolean {
  return modes.get(name)?.serves !== undefined;
}

/**
 * The mode name: the option, then `MODE`, then a mode that the container's single argument
 * selects (SageMaker's `serve`); undefined when none says.
 */
export function readModeName(
  options: Pick<StartLoopOptions, 'mode'>,
  env: Readonly<Record<string, string | undefined>>,
  argv: readonly string[] = [],
): string | undefined {
  const name = options.mode ?? env.MODE?.trim();
  if (name !== undefined && name !== '') return name;
  if (argv.length !== 1) return undefined;
  return [...modes.values()].find((mode) => mode.selectedBy?.includes(argv[0]!))?.name;
}

/** Loads the mode called `name`; an unknown name is an error that lists the valid ones. */
export async function loadMode(name: string): Promise<Mode> {
  await loadRegisteredModules();
  const mode = modes.get(name);
  if (!mode) throw unknownModeError(name);
  const module = await mode.load();
  const { load: _load, ...traits } = mode;
  return { ...traits, run: module.run, ...(module.reportStartupError ? { reportStartupError: module.reportStartupError } : {}) };
}

function unknownModeError(name: string): AiIntegrationError {
  const names = listModes().map((mode) => mode.name);
  const nearest = closest(name.toLowerCase(), names);
  const suggestion = distance(name.toLowerCase(), nearest) <= Math.max(2, Math.floor(nearest.length / 3)) ? ` Did you mean ${nearest}?` : '';
  return new AiIntegrationError('AI_ERR_UNKNOWN_MODE', `unknown MODE ${JSON.stringify(name)}. Valid modes: ${names.join(', ')}.${suggestion}`);
}

/** Where the mode called `name` answers readiness in `env` (the container's HEALTHCHECK); undefined when it has no listener. */
export function probeTarget(name: string, env: Readonly<Record<string, string | undefined>>): ProbeTarget | undefined {
  return modes.get(name)?.probe?.(env);
}
