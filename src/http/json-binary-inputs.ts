import { isUtf8 } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import { decodeBinaryBytes } from '../inputs/binary-bytes.js';
import { isPlainObject, setOwn } from '../inputs/safe-record.js';
import { isBinaryType } from '../inputs/schema.js';
import type { InputsSchema } from '../types.js';

// Below these, a body is parsed as a whole: its strings cost little, and the scan would cost more.
const smallestBody = 256 * 1024;
const shortestLongString = 64 * 1024;
// A body with more strings than this before its long ones is not an image with a few fields.
const mostStringsScanned = 4096;
// A marker no client can forge: JSON escapes its NUL, and the nonce is this process's secret.
const marker = `\u0000${randomUUID()}:`;
const markerText = JSON.stringify(marker).slice(1, -1);

/**
 * Parses a native JSON body (`{"inputs": {...}}`) whose binary inputs are long base64 strings
 * (an image sent as JSON) without making a JavaScript string of them: each long string is cut
 * out of the text before it is parsed, and the input it is the value of is decoded straight from
 * the body's bytes (`decodeBinaryBytes`): the body and the decoded bytes are held, never the
 * body's text nor the parsed string (bench/large-bodies.mjs measures the difference).
 *
 * Undefined when the body is not such a body (small, not UTF-8, a long string that is not the
 * value of one of the schema's image or file inputs, or not base64 that `decodeBinaryBytes`
 * takes, or anything that does not parse); the caller then parses the body whole, which gives
 * every answer (errors included) it gives today. A cut-out string is a valid JSON string (the
 * decoding proves it: base64, whitespace and the escapes it allows, no control character), and
 * its replacement is one as well, so the cut text parses exactly when the body does.
 */
export function parseWithBinaryInputs(body: Buffer, schema: InputsSchema): Record<string, unknown> | undefined {
  if (body.length < smallestBody) return undefined;
  const binaryInputs = Object.keys(schema).filter((name) => isBinaryType(schema[name]!.type));
  if (binaryInputs.length === 0 || !isUtf8(body)) return undefined;
  const start = body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf ? 3 : 0;
  const long = longStrings(body, start);
  if (long === undefined || long.length === 0) return undefined;
  const pieces: string[] = [];
  let from = start;
  for (const [index, run] of long.entries()) {
    pieces.push(body.toString('utf8', from, run.start), markerText, String(index));
    from = run.end;
  }
  pieces.push(body.toString('utf8', from));
  let parsed: unknown;
  try {
    parsed = JSON.parse(pieces.join(''));
  } catch {
    return undefined;
  }
  if (!isPlainObject(parsed) || !Object.hasOwn(parsed, 'inputs') || !isPlainObject(parsed.inputs)) return undefined;
  const values = parsed.inputs;
  const decoded = new Set<number>();
  for (const name of binaryInputs) {
    const value = Object.hasOwn(values, name) ? values[name] : undefined;
    if (typeof value !== 'string' || !value.startsWith(marker)) continue;
    const index = Number(value.slice(marker.length));
    const run = long[index];
    if (run === undefined || decoded.has(index)) return undefined;
    const bytes = decodeBinaryBytes(body.subarray(run.start, run.end));
    if (bytes === undefined) return undefined;
    setOwn(values, name, bytes);
    decoded.add(index);
  }
  // A long string anywhere else (a text input, a key, a nested value, a repeated key) is left to the whole parse.
  return decoded.size === long.length ? parsed : undefined;
}

/**
 * The contents of the body's long strings, by byte offsets, in order; undefined when the body has
 * too many strings or one that does not end. JSON's structure is ASCII and no byte of a
 * multi-byte UTF-8 sequence is, so every '"' outside a string opens one, and the next '"' not
 * escaped by a backslash closes it.
 */
function longStrings(body: Buffer, start: number): { start: number; end: number }[] | undefined {
  const found: { start: number; end: number }[] = [];
  let scanned = 0;
  let at = start;
  for (;;) {
    const open = body.indexOf(0x22, at);
    if (open === -1) return found;
    let close = open;
    for (;;) {
      close = body.indexOf(0x22, close + 1);
      if (close === -1) return undefined;
      let backslashes = 0;
      while (body[close - 1 - backslashes] === 0x5c) backslashes++;
      if (backslashes % 2 === 0) break;
    }
    if (close - open - 1 >= shortestLongString) found.push({ start: open + 1, end: close });
    else if (++scanned > mostStringsScanned) return undefined;
    at = close + 1;
  }
}
