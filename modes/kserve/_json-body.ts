import { OpenInferenceError } from './errors.js';

/** Parses a JSON body (UTF-8, a byte-order mark skipped); a 400 saying what was expected otherwise. */
export function parseJsonBody(bytes: Buffer, what: string, expected: string): unknown {
  const start = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  try {
    return JSON.parse(bytes.toString('utf8', start)) as unknown;
  } catch (error) {
    throw new OpenInferenceError(400, `${what} is not valid JSON (${(error as Error).message}); expected ${expected}`);
  }
}
