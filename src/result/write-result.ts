import type { Writable } from 'node:stream';
import type { ResultReport } from './check-result.js';
import { isTextual, mediaKind } from '../media-type.js';
import type { InferenceResult, Logger } from '../types.js';
import { isOutputResult, outputJson } from './output-fields.js';

/** The result's data as bytes; JSON and text as UTF-8. */
export function resultBytes(result: Pick<InferenceResult, 'data'>): Buffer {
  if (isOutputResult(result)) return Buffer.from(JSON.stringify(outputJson(result)), 'utf8');
  const data = result.data as Buffer | Uint8Array | string | null;
  if (data === null) return Buffer.alloc(0);
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * A result's data as a JSON value, as the APIs answer it: JSON parsed (`parsed.json` when the
 * checker already parsed it), text as a string, anything else as `binary` gives its bytes.
 * @example resultValue(result, 'image/png', (bytes) => ({ b64: bytes.toString('base64') }))
 */
export function resultValue(
  result: Pick<InferenceResult, 'data'>,
  mediaType: string,
  binary: (bytes: Buffer) => unknown,
  parsed?: { json?: unknown },
): unknown {
  if (isOutputResult(result)) return outputJson(result);
  const kind = mediaKind(mediaType);
  if (kind === 'json' && parsed !== undefined && 'json' in parsed) return parsed.json;
  if (kind === 'binary') return binary(resultBytes(result));
  const text = typeof result.data === 'string' ? result.data : resultBytes(result).toString('utf8');
  return kind === 'text' ? text : (JSON.parse(text) as unknown);
}

/**
 * Writes a result the checker passed to `stdout`: JSON pretty-printed, text as is, binary data
 * as raw bytes, except to a terminal, where binary is only summarised (on the log).
 */
export function writeResult(result: InferenceResult, report: ResultReport, stdout: Writable & { isTTY?: boolean }, log: Logger): void {
  const mediaType = report.mediaType ?? '';
  if (isOutputResult(result)) {
    stdout.write(`${JSON.stringify(outputJson(result), null, 2)}\n`);
  } else if ('json' in report) {
    stdout.write(`${JSON.stringify(report.json, null, 2)}\n`);
  } else if (isTextual(mediaType)) {
    stdout.write(resultBytes(result));
  } else if (stdout.isTTY) {
    log.info(`the binary result (${report.summary}) is not written to a terminal; redirect stdout or use --output PATH`);
  } else {
    stdout.write(resultBytes(result));
  }
}
