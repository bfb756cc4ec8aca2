import type { Writable } from 'node:stream';
import type * as PinoModule from 'pino';
import type { LogFormat } from './settings-parts/access.js';
import { readSetting } from './settings-table.js';
import { requireOnFirstUse } from './require-on-first-use.js';
import type { Logger } from './types.js';

// Only LOG_FORMAT=json needs pino (30 ms to load): text lines are written here.
const loadPino = requireOnFirstUse<typeof PinoModule>('pino');

/**
 * The runtime's log on `stream` (stderr), so stdout stays for results: lines for humans, or,
 * with LOG_FORMAT=json, JSON lines (pino's) that log collectors parse. One format per process:
 * the access log follows the same variable.
 */
export function createLogger(stream: Writable, env: Readonly<Record<string, string | undefined>> = process.env): Logger {
  let format: LogFormat;
  try {
    format = readSetting(env, 'LOG_FORMAT');
  } catch (error) {
    // The logger must exist to say what is wrong; the settings reader refuses the value later.
    const logger = createTextLogger(stream);
    logger.warn(`${(error as Error).message}; logging text`);
    return logger;
  }
  return format === 'json' ? createJsonLogger(stream) : createTextLogger(stream);
}

function createTextLogger(stream: Writable): Logger {
  const write = (prefix: string, message: string) => {
    stream.write(`${prefix}${message}${message.endsWith('\n') ? '' : '\n'}`);
  };
  return {
    info: (message) => write('', message),
    warn: (message) => write('warning: ', message),
    error: (message) => write('error: ', message),
  };
}

function createJsonLogger(stream: Writable): Logger {
  const { pino } = loadPino();
  // pino's options for every JSON line of this process: the level as a word, an ISO time, the pid
  // (the access log writes the same shape itself, src/http/access-log.ts).
  const jsonLineOptions = {
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  // Written straight to the stream (synchronous for stderr on a pipe or file), so a line is out
  // before the process exits on an error.
  const logger = pino(jsonLineOptions, stream);
  const clean = (message: string) => (message.endsWith('\n') ? message.slice(0, -1) : message);
  return {
    info: (message) => logger.info(clean(message)),
    warn: (message) => logger.warn(clean(message)),
    error: (message) => logger.error(clean(message)),
  };
}
