import type { Writable } from 'node:stream';
import type { Logger } from './types.js';

/** A logger for humans that writes whole lines to `stream` (stderr), so stdout stays for results. */
export function createLogger(stream: Writable): Logger {
  const write = (prefix: string, message: string) => {
    stream.write(`${prefix}${message}${message.endsWith('\n') ? '' : '\n'}`);
  };
  return {
    info: (message) => write('', message),
    warn: (message) => write('warning: ', message),
    error: (message) => write('error: ', message),
  };
}
