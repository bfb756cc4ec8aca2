import { AiIntegrationError, ExitCode } from './errors.js';
import { createLogger } from './logger.js';
import { createModeContext } from './mode-context.js';
import { logThrow, reportError } from './report-error.js';
import { isServingMode, listModes, loadMode, loadRegisteredModules, modeTraits, readModeName } from './registry.js';
import { resultStdout, sendModelStdoutToStderr } from './model-stdout.js';
import type { Engine, InputsSchema, Logger, Mode, StartLoopOptions } from './types.js';
import { isSupervisedWorker, serveAsWorker } from './supervisor/worker.js';

/**
 * Selects the mode, runs it with `engine`, and ends the process with the mode's exit code. Every
 * error ends here too: ours with their own exit code and a one-line message, a throw from the
 * model with its stack and the "threw" code, anything else as an internal error.
 */
export async function runMode(
  createEngine: () => Engine,
  schema: InputsSchema,
  options: StartLoopOptions,
  beforeExit: (code: number) => void | Promise<void> = () => {},
): Promise<void> {
  const env = options.env ?? process.env;
  if (isSupervisedWorker(env)) {
    // Under the supervisor, the mode runs there; this process only loads the model and infers.
    await serveAsWorker(createEngine(), schema, options);
    return;
  }
  const stderr = options.stderr ?? process.stderr;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const log = createLogger(stderr);
  if (!options.exit) exitOnStrayErrors(log);

  let code: number;
  let mode: Mode | undefined;
  let modeDefaulted = false;
  try {
    const argv = options.argv ?? process.argv.slice(2);
    // The mode first, so that an error before it runs (a bad schema or setting) can be reported
    // where the platform looks (Lambda's init/error), as well as in the log.
    const selected = readModeName(options, env, argv);
    // MODE unset runs the command line, as the Python library does, with one line rather than
    // the list of modes on every run; --help and a usage error show the list.
    if (selected === undefined) {
      modeDefaulted = true;
      log.info('MODE is not set: running command_line (--help lists its options and every mode)');
    }
    mode = await loadMode(selected ?? 'command_line');
    // A mode chosen by the option or registered by the shim is known only now; see sendModelStdoutToStderrWhenOneShot.
    if (!options.stdout && !isServingMode(mode.name)) sendModelStdoutToStderr();
    // Under the supervisor, it has filled the model's name, version and description in from the worker's shim; run directly, the shim is this script.
    const context = createModeContext(createEngine, schema, { ...options, stdout: options.stdout ?? resultStdout() }, env, argv, log, process.argv[1]);
    if (modeDefaulted) await loadRegisteredModules();
    code = await mode.run({ ...context, modes: listModes() });
  } catch (error) {
    code = reportError(error, log);
    // A mistake in the command line itself (the errors that point at --help), not in a file it names.
    if (modeDefaulted && error instanceof AiIntegrationError && error.code === 'AI_ERR_USAGE' && error.message.endsWith('(see --help)')) logModes(log);
    await mode?.reportStartupError?.(error, env, log);
  }
  // Let piped stdout drain before the process ends, so no result is cut short.
  const stdout = options.stdout ?? resultStdout();
  await new Promise<void>((resolve) => stdout.write('', () => resolve()));
  await beforeExit(code);
  exit(code);
}

/**
 * Run directly in a mode whose stdout is the result, the model's prints go to stderr (as under the
 * supervisor, which sends its worker's stdout there). Called as the package is imported, since a
 * shim loads its model before it calls startLoop: the mode is read from MODE (unset is
 * command_line) or the container's single argument; a mode known only later is handled in runMode.
 */
export function sendModelStdoutToStderrWhenOneShot(env: Readonly<Record<string, string | undefined>>, argv: readonly string[]): void {
  if (isSupervisedWorker(env)) return;
  const name = readModeName({}, env, argv) ?? 'command_line';
  if (modeTraits(name) !== undefined && !isServingMode(name)) sendModelStdoutToStderr();
}

function logModes(log: Logger): void {
  log.info('Modes (select one with -e MODE=<name>):');
  for (const mode of listModes()) log.info(`  ${mode.name.padEnd(24)} ${mode.hint}`);
}

let strayErrorHandlerInstalled = false;

// An error thrown outside any inference (a model's timer, a stream) leaves the model in an unknown
// state just like a throw inside one: report it the same way and exit to be restarted.
function exitOnStrayErrors(log: Logger): void {
  if (strayErrorHandlerInstalled) return;
  strayErrorHandlerInstalled = true;
  const handle = (error: unknown) => {
    logThrow(error, log);
    process.exit(ExitCode.inferenceThrew);
  };
  process.on('uncaughtException', handle);
  process.on('unhandledRejection', handle);
}
