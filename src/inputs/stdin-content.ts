import { sniffImageFormat } from './image.js';
import { plural } from '../plural.js';

/** What bytes given to a mode look like: the kinds that some mode reads, and the rest. */
export type ContentKind = 'empty' | 'json' | 'image' | 'pickle' | 'text' | 'binary';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
const formatNames: Readonly<Record<string, string>> = { webp: 'WebP', heif: 'HEIF', svg: 'SVG' };
// Control characters other than tab, newline, carriage return and form feed: text never has them.
const controlCharacter = /[\x00-\x08\x0b\x0e-\x1f\x7f]/;

/**
 * Names what stdin holds when it is not what the mode reads (JSON text, an image by its
 * signature, a pickle, plain text, empty), so that the error can point to the mode that reads it.
 * @example describeContent(Buffer.from('{"image": "..."}')) // { kind: 'json', description: 'a JSON object with the key "image"' }
 */
export function describeContent(bytes: Uint8Array): { kind: ContentKind; description: string } {
  if (bytes.length === 0) return { kind: 'empty', description: 'empty' };
  const image = imageFormat(bytes);
  if (image) return { kind: 'image', description: `a ${formatNames[image] ?? image.toUpperCase()} image (${plural(bytes.length, 'byte')})` };
  if (bytes[0] === 0x80 && bytes.length > 1 && bytes[1]! <= 5) return { kind: 'pickle', description: `a Python pickle (protocol ${bytes[1]})` };
  let text: string | undefined;
  try {
    text = utf8.decode(bytes);
  } catch {
    text = undefined;
  }
  if (text === undefined || controlCharacter.test(text)) {
    return { kind: 'binary', description: `binary data (${plural(bytes.length, 'byte')} starting ${Buffer.from(bytes.subarray(0, 8)).toString('hex')})` };
  }
  const trimmed = text.trim();
  if (trimmed === '') return { kind: 'empty', description: 'only whitespace' };
  const json = parseJson(trimmed);
  if (json.ok) return { kind: 'json', description: describeJson(json.value) };
  return { kind: 'text', description: `plain text (${excerpt(trimmed)})` };
}

function imageFormat(bytes: Uint8Array): string | undefined {
  const format = sniffImageFormat(bytes);
  // Two letters make a BMP signature ("BM..."); its header's reserved bytes, always zero, tell an image from text.
  if (format === 'bmp' && !(bytes.length >= 26 && bytes[6] === 0 && bytes[7] === 0 && bytes[8] === 0 && bytes[9] === 0)) return undefined;
  return format;
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

function describeJson(value: unknown): string {
  if (Array.isArray(value)) return `a JSON array (${plural(value.length, 'item')})`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value);
    if (keys.length === 0) return 'an empty JSON object';
    const shown = keys
      .slice(0, 5)
      .map((key) => JSON.stringify(key))
      .join(', ');
    return `a JSON object with the ${keys.length === 1 ? 'key' : 'keys'} ${shown}${keys.length > 5 ? ', ...' : ''}`;
  }
  return `JSON text (${typeof value === 'string' ? `the string ${excerpt(value)}` : String(value)})`;
}

function excerpt(text: string): string {
  const line = text.length > 40 ? `${text.slice(0, 37)}...` : text;
  return JSON.stringify(line);
}
