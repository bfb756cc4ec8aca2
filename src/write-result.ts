import type { Writable } from 'node:stream';
import type { InferenceResult, Logger } from './types.js';

/** The result's data as bytes; JSON and text as UTF-8. */
export function resultBytes(result: InferenceResult): Buffer {
  const { data } = result;
  if (data === null) return Buffer.alloc(0);
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

function isTextual(mediaType: string): boolean {
  return mediaType.startsWith('text/') || mediaType === 'application/json' || mediaType.endsWith('+json');
}

/**
 * Writes a checked, successful result to `stdout`: JSON pretty-printed, text as is, binary data
 * as raw bytes, except to a terminal, where binary is only summarised (on the log).
 */
export function writeResult(result: InferenceResult, summary: string, stdout: Writable & { isTTY?: boolean }, log: Logger): void {
  const mediaType = result['content-type'].split(';')[0]!.trim().toLowerCase();
  if (mediaType === 'application/json' || mediaType.endsWith('+json')) {
    const text = resultBytes(result).toString('utf8');
    stdout.write(`${JSON.stringify(JSON.parse(text), null, 2)}\n`);
  } else if (isTextual(mediaType)) {
    stdout.write(resultBytes(result));
  } else if (stdout.isTTY) {
    log.info(`the binary result (${summary}) is not written to a terminal; redirect stdout or use --output PATH`);
  } else {
    stdout.write(resultBytes(result));
  }
}
