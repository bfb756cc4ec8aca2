import { isUtf8 } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import { decodeBinaryBytes } from '../inputs/binary-bytes.js';

// Below these, a body is parsed as a whole: its strings cost little, and the scan would cost more.
const smallestBody = 256 * 1024;
const shortestLongString = 64 * 1024;
// A body with more strings than this before its long ones is not an image with a few fields.
const mostStringsScanned = 4096;
// A marker no client can forge: JSON escapes its NUL, and the nonce is this process's secret.
const marker = `\u0000${randomUUID()}:`;
const markerText = JSON.stringify(marker).slice(1, -1);

/** A JSON body parsed with its long strings cut out: each stands as a marker string until decoded from the body's bytes. */
export interface LiftedJson {
  /** The parsed body, a marker string where each long string was. */
  value: unknown;
  /** Whether a value is the marker of a long string. */
  isLifted(value: unknown): value is string;
  /**
   * The binary data a marker's string holds, decoded from the body's bytes (`decodeBinaryBytes`),
   * once per marker; undefined when it is not data decoded so, or was taken already.
   */
  take(value: string): Buffer | undefined;
  /** Whether every long string was taken: only then does `value` stand for the body. */
  allTaken(): boolean;
}

/**
 * Parses a large JSON body (UTF-8, a byte-order mark skipped) with its long strings cut out of
 * the text: a base64 image sent as JSON is then decoded straight from the body's bytes (`take`),
 * and neither the body's text nor the parsed string is ever made; the body and the decoded bytes
 * are held, no more (bench/large-bodies.mjs measures it).
 *
 * Undefined for a small body, one that is not UTF-8 or has no long string, or one whose cut text
 * does not parse: the caller parses the body whole, as it would have. Once a caller has used the
 * value, a long string it could not take (`take` gave undefined, or `allTaken` is false) means the
 * same: parse the body whole, which gives every answer (errors included) it gives today. A string
 * that was taken is a valid JSON string (the decoding proves it: base64, whitespace and the escapes
 * it allows, no control character), and its marker is one as well, so the cut text parses exactly
 * when the body does.
 */
export function liftLongStrings(body: Buffer): LiftedJson | undefined {
  if (body.length < smallestBody || !isUtf8(body)) return undefined;
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
  let value: unknown;
  try {
    value = JSON.parse(pieces.join(''));
  } catch {
    return undefined;
  }
  const taken = new Set<number>();
  const isLifted = (candidate: unknown): candidate is string => typeof candidate === 'string' && candidate.startsWith(marker);
  return {
    value,
    isLifted,
    take(text) {
      if (!isLifted(text)) return undefined;
      const index = Number(text.slice(marker.length));
      const run = long[index];
      if (run === undefined || taken.has(index)) return undefined;
      const bytes = decodeBinaryBytes(body.subarray(run.start, run.end));
      if (bytes !== undefined) taken.add(index);
      return bytes;
    },
    allTaken: () => taken.size === long.length,
  };
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
