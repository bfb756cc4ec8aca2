import { randomUUID } from 'node:crypto';

// While jsonBody serializes, the data URLs it meets stand aside here and a marker takes their
// place in the text. JSON.stringify is synchronous, so one module-level list cannot mix two calls.
let standingAside: DataUrl[] | undefined;
// A marker no value can forge: JSON escapes its NUL, and the nonce is this process's secret.
const marker = `\u0000${randomUUID()}`;
const markerInJson = JSON.stringify(marker);
// Printable ASCII with nothing JSON escapes: written as it is. Any other media type (a model's
// odd content type) goes through JSON.stringify like every other string.
const plainMediaType = /^[\x20-\x21\x23-\x5b\x5d-\x7e]*$/;

/**
 * Binary data as a `data:` URL, kept as its bytes until it is written. An answer that echoes an
 * uploaded image (the Python library's `POST /` does) would otherwise hold a base64 string that
 * JSON.stringify scans character by character for escapes it can never need, then that the
 * socket encodes again: for a 5 KB image, the largest cost of the whole request. Serialized by
 * anything else (JSON.stringify, a template string) it is the URL's text.
 */
export class DataUrl {
  constructor(
    readonly mediaType: string,
    readonly bytes: Buffer,
  ) {}

  get prefix(): string {
    return `data:${this.mediaType.replace(/\s+/g, '')};base64,`;
  }

  toString(): string {
    return `${this.prefix}${this.bytes.toString('base64')}`;
  }

  toJSON(): string {
    if (standingAside === undefined || !plainMediaType.test(this.mediaType)) return this.toString();
    standingAside.push(this);
    return marker;
  }
}

/**
 * A value as JSON: its text, or, when it holds DataUrl values, UTF-8 bytes with their base64
 * written from their bytes rather than scanned as text. (Plain text stays text: node:http sends
 * a string body in one write with the headers.)
 */
export function jsonBody(value: unknown): string | Buffer {
  const aside: DataUrl[] = [];
  standingAside = aside;
  let text: string;
  try {
    text = JSON.stringify(value);
  } finally {
    standingAside = undefined;
  }
  if (aside.length === 0) return text;
  // The markers appear in the text in the order toJSON was called: the order of `aside`.
  const texts: string[] = [];
  const encoded: { prefix: string; base64: string }[] = [];
  let length = 0;
  let from = 0;
  for (const url of aside) {
    const at = text.indexOf(markerInJson, from);
    const before = text.slice(from, at);
    const data = { prefix: url.prefix, base64: url.bytes.toString('base64') };
    texts.push(before);
    encoded.push(data);
    length += Buffer.byteLength(before) + data.prefix.length + data.base64.length + 2;
    from = at + markerInJson.length;
  }
  const rest = text.slice(from);
  length += Buffer.byteLength(rest);
  const bytes = Buffer.allocUnsafe(length);
  let offset = 0;
  encoded.forEach(({ prefix, base64 }, index) => {
    offset += bytes.write(texts[index]!, offset);
    // A plain media type and base64 are ASCII: one byte per character, and nothing to escape
    // but the quotes around them.
    bytes[offset++] = 0x22;
    offset += bytes.write(prefix, offset, 'latin1');
    offset += bytes.write(base64, offset, 'latin1');
    bytes[offset++] = 0x22;
  });
  bytes.write(rest, offset);
  return bytes;
}
