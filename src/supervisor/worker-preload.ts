/**
 * Loaded into the model worker (`node --import`) before its shim. A shim that cannot be loaded
 * (a module not found, a syntax error) or that startLoop refuses (an invalid schema) is its
 * author's configuration error, not a model that failed to start: no retry can help. The worker
 * says so in one line and exits 3, which the supervisor does not retry.
 * The worker also ends (SIGKILL) when the supervisor does, however it ended: a model busy in a
 * loop or a native call never notices its IPC channel close.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync, writeSync } from 'node:fs';
import { relative } from 'node:path';
import { ExitCode, errorTable } from '../errors.js';
import { signalOnParentDeath } from './parent-death.js';
import { configurationErrorFileVariable } from './worker-protocol.js';

signalOnParentDeath('SIGKILL');

const moduleErrorCodes = new Set([
  'ERR_MODULE_NOT_FOUND',
  'MODULE_NOT_FOUND',
  'ERR_UNSUPPORTED_DIR_IMPORT',
  'ERR_UNKNOWN_FILE_EXTENSION',
  'ERR_PACKAGE_PATH_NOT_EXPORTED',
  'ERR_PACKAGE_IMPORT_NOT_DEFINED',
  'ERR_INVALID_MODULE_SPECIFIER',
  'ERR_REQUIRE_ESM',
  'ERR_UNSUPPORTED_ESM_URL_SCHEME',
]);

process.on('uncaughtExceptionMonitor', (error) => {
  // Once startLoop (or the shim) handles stray errors, an error is the running model's, not a load failure.
  if (process.listenerCount('uncaughtException') > 0 || process.listenerCount('unhandledRejection') > 0) return;
  const line = describeConfigurationError(error);
  if (line === undefined) return;
  writeSync(2, `error: ${line}\n`);
  // For the supervisor, whose error (and Lambda's init/error) can then say it too.
  const file = process.env[configurationErrorFileVariable];
  if (file) {
    try {
      writeFileSync(file, line);
    } catch {
      // the log has it
    }
  }
  process.exit(ExitCode.config);
});

function describeConfigurationError(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const code = (error as { code?: unknown }).code;
  // The library's own configuration errors (an invalid schema or option), as startLoop reports them run directly.
  if (typeof code === 'string' && code in errorTable && errorTable[code as keyof typeof errorTable].exitCode === ExitCode.config) return error.message;
  const shim = shimName();
  // CommonJS adds the require stack on further lines.
  if (typeof code === 'string' && moduleErrorCodes.has(code)) return `the shim ${shim} cannot be loaded: ${error.message.split('\n')[0]}`;
  // A TypeScript shim run by tsx (`ai-integration dev shim.ts`) that esbuild cannot compile.
  if (error.name === 'TransformError') return `the shim ${shim} cannot be loaded: ${error.message.replace(/\s*\n\s*/g, ' ')}`;
  if (error instanceof SyntaxError && thrownByModuleLoader(error))
    return `the shim ${shim} cannot be loaded: SyntaxError${syntaxErrorLocation(error)}: ${error.message}`;
  return undefined;
}

function shimName(): string {
  const path = process.argv[1] ?? 'shim';
  const near = relative(process.cwd(), path);
  return JSON.stringify(near.startsWith('..') ? path : near);
}

// A syntax error in code (JSON.parse of a bad file at load time) is the model's; one the module
// loader raised while compiling or linking a module is the shim's.
function thrownByModuleLoader(error: SyntaxError): boolean {
  const firstFrame = (error.stack ?? '').split('\n').find((line) => line.trimStart().startsWith('at '));
  return firstFrame !== undefined && firstFrame.includes('node:internal/modules/');
}

/** ` in /path/file.js:3`, from the stack when Node put it there, else from `node --check` of the shim. */
function syntaxErrorLocation(error: SyntaxError): string {
  const fromStack = (error.stack ?? '').split('\n', 1)[0]!.match(/^((?:file:\/\/)?\/.*:\d+)$/)?.[1];
  if (fromStack) return ` in ${fromStack.replace(/^file:\/\//, '')}`;
  const shim = process.argv[1];
  if (shim === undefined) return '';
  const check = spawnSync(process.execPath, ['--check', shim], { encoding: 'utf8', timeout: 10_000 });
  const fromCheck = check.status !== 0 ? check.stderr.split('\n', 1)[0]!.match(/^((?:file:\/\/)?\/.*:\d+)$/)?.[1] : undefined;
  return fromCheck ? ` in ${fromCheck.replace(/^file:\/\//, '')}` : ' in a module the shim imports';
}
