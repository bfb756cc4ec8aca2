import { InvalidInputError } from '../errors.js';

const dataUrlPrefix = /^data:([^,]*),/i;
// Node's base64 decoder skips characters it does not know; checking first keeps garbage from
// silently becoming a few wrong bytes. A search for one bad character stays linear on inputs of
// hundreds of megabytes, where a whole-string pattern would backtrack or overflow the stack.
const notBase64Character = /[^A-Za-z0-9+/_-]/;
const trailingPadding = /={1,2}$/;
const whitespace = /\s+/g;

/** Whether a JSON object is TensorFlow Serving's wrapper of binary data, `{"b64": "..."}` and nothing else. */
export function isB64(value: Record<string, unknown>): value is { b64: string } {
  const keys = Object.keys(value);
  return keys.length === 1 && keys[0] === 'b64' && typeof value.b64 === 'string';
}

/**
 * Decodes a binary input given as text: a `data:` URL (base64 or percent-encoded) or plain
 * base64 (standard or URL-safe alphabet). Anything else is an error naming the field.
 */
export function decodeBinaryText(field: string, text: string): Buffer {
  const dataUrl = dataUrlPrefix.exec(text);
  if (dataUrl) {
    const meta = dataUrl[1] ?? '';
    const payload = text.slice(dataUrl[0].length);
    if (/;base64$/i.test(meta)) return decodeBase64(field, payload, 'the data: URL');
    return decodePercentEncoded(payload);
  }
  return decodeBase64(field, text, 'a base64 string or a data: URL');
}

function decodeBase64(field: string, text: string, what: string): Buffer {
  return decodeCanonicalBase64(text) ?? decodeBase64Checked(field, text, what);
}

/**
 * The common case without a scan: base64 with no whitespace, at most two '=' at the end. Node's
 * decoder skips what is not in its alphabet, and every skipped character makes the output
 * shorter than the length of the text promises (for any length that base64 can have), so a
 * decoded length equal to that promise proves every character was valid. Anything else
 * (whitespace, a bad character) goes to the checked decoding, which names the problem.
 */
function decodeCanonicalBase64(text: string): Buffer | undefined {
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 0x3d /* = */) end--;
  if (end === 0 || text.length - end > 2 || end % 4 === 1) return undefined;
  const bytes = Buffer.from(text, 'base64');
  return bytes.length === Math.floor((end * 3) / 4) ? bytes : undefined;
}

function decodeBase64Checked(field: string, text: string, what: string): Buffer {
  const compact = text.replace(whitespace, '');
  if (compact.length === 0) throw new InvalidInputError(field, `is empty; expected ${what} holding the data`);
  const unpadded = compact.replace(trailingPadding, '');
  if (notBase64Character.test(unpadded) || unpadded.length % 4 === 1) {
    throw new InvalidInputError(field, `is not valid base64; expected ${what} (binary inputs in JSON are base64 or data: URLs)`);
  }
  return Buffer.from(compact, compact.includes('-') || compact.includes('_') ? 'base64url' : 'base64');
}

function decodePercentEncoded(payload: string): Buffer {
  const bytes = Buffer.from(payload, 'utf8');
  const out = Buffer.allocUnsafe(bytes.length);
  let length = 0;
  for (let index = 0; index < bytes.length; index++) {
    const byte = bytes[index]!;
    const hex = byte === 0x25 ? bytes.subarray(index + 1, index + 3).toString('latin1') : '';
    if (/^[0-9a-f]{2}$/i.test(hex)) {
      out[length++] = Number.parseInt(hex, 16);
      index += 2;
    } else {
      out[length++] = byte;
    }
  }
  return out.subarray(0, length);
}
