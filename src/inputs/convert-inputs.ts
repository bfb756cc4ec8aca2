import { closest } from 'fastest-levenshtein';
import { decodeBinaryText } from './binary-value.js';
import { AiIntegrationError, InvalidInputError } from '../errors.js';
import { sniffImageFormat } from './image.js';
import { parseImageHeader } from './image-header.js';
import { checkInputDepth } from './input-depth.js';
import { setOwn } from './safe-record.js';
import type { UrlInputSettings } from '../settings-parts/url-inputs.js';
import { plural } from '../plural.js';
import { describeBounds, describeType, isBinaryType } from './schema.js';
import { defaultInputDepth } from '../settings.js';
import type { InputSpec, InputsSchema } from '../types.js';

/**
 * Where raw values come from. `text`: every value is a string (argv, form fields), so numbers,
 * booleans and JSON are parsed from text. `data`: values keep their own types (JSON, pickle).
 */
export type ValueOrigin = 'text' | 'data';

export interface ConvertOptions {
  origin: ValueOrigin;
  /** Reject inputs the schema does not list instead of passing them through unchanged. */
  strict?: boolean;
  /**
   * Deepest nesting of arrays and objects allowed in any one value, listed or passed through
   * (modes pass `context.settings.maxInputDepth`, MAX_INPUT_DEPTH; default 128).
   */
  maxDepth?: number;
  /**
   * How http(s) URLs given for binary inputs are fetched (modes pass `context.settings.urlInputs`).
   * Without it, or with `enabled: false`, a URL is refused like any other text that is not base64.
   */
  urlInputs?: UrlInputSettings;
}

const httpUrl = /^https?:\/\//i;

/**
 * The one conversion-and-validation path every mode uses: turns raw values into the inputs
 * object the inference function receives, applies defaults, and throws `InvalidInputError`
 * naming the field for a missing, mistyped, out-of-range or too deeply nested input, or an image
 * whose header sharp cannot read.
 * @example await convertInputs(schema, { steps: '20' }, { origin: 'text' }) // { steps: 20 }
 */
export async function convertInputs(schema: InputsSchema, raw: Readonly<Record<string, unknown>>, options: ConvertOptions): Promise<Record<string, unknown>> {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new AiIntegrationError('AI_ERR_MALFORMED_INPUT', `expected an object of input names to values, got ${describeType(raw)}`);
  }
  const maxDepth = options.maxDepth ?? defaultInputDepth;
  const inputs: Record<string, unknown> = {};
  for (const name of Object.keys(raw)) {
    if (Object.hasOwn(schema, name)) continue;
    if (options.strict) {
      const names = Object.keys(schema);
      const hint = names.length > 0 ? `; this model's inputs are ${names.join(', ')} (did you mean '${closest(name, names)}'?)` : '';
      throw new InvalidInputError(name, `is not an input of this model${hint}`);
    }
    checkInputDepth(name, raw[name], maxDepth);
    setOwn(inputs, name, raw[name]);
  }
  for (const [name, spec] of Object.entries(schema)) {
    const value = Object.hasOwn(raw, name) ? raw[name] : undefined;
    if (isMissing(spec, value, options.origin)) {
      if ('default' in spec && spec.default !== undefined) setOwn(inputs, name, structuredClone(spec.default));
      else if (spec.required !== false) throw new InvalidInputError(name, `is required; expected ${describeExpected(spec)}`);
      continue;
    }
    // Only a binary input given as an http(s) URL costs a fetch; every other value stays on the synchronous path.
    const fetched = isBinaryType(spec.type) && typeof value === 'string' && httpUrl.test(value) ? await fetchBinary(name, value, options.urlInputs) : value;
    const converted = convertValue(name, spec, fetched, options.origin);
    // Checked after conversion, so JSON parsed from text (argv, form fields) is measured too.
    checkInputDepth(name, converted, maxDepth);
    if (spec.type === 'image') checkImageHeader(name, converted as Buffer);
    setOwn(inputs, name, converted);
  }
  return inputs;
}

// The fetcher (and undici with it) loads on the first URL, so modes that never see one do not pay for it.
async function fetchBinary(name: string, url: string, settings: UrlInputSettings | undefined): Promise<Buffer> {
  if (settings?.enabled) return (await import('../url-inputs/fetch-url.js')).fetchUrlInput(name, url, settings);
  const why = settings ? 'URL inputs are turned off here (URL_INPUTS=false)' : 'this caller does not fetch URL inputs';
  throw new InvalidInputError(name, `is not valid base64: it is an http(s) URL, and ${why}; send the data itself as base64 or a data: URL`);
}

function isMissing(spec: InputSpec, value: unknown, origin: ValueOrigin): boolean {
  if (value === undefined || value === null) return true;
  // An empty form field or argument means "not given", except for text, where '' is a value.
  return origin === 'text' && value === '' && spec.type !== 'text';
}

/** What an input of this spec accepts, for error messages and help. */
export function describeExpected(spec: InputSpec): string {
  switch (spec.type) {
    case 'image':
      return 'an image (JPEG, PNG, WebP, GIF, TIFF or AVIF bytes)';
    case 'file':
      return 'a file (binary data)';
    case 'text':
      return 'a string';
    case 'number':
      return spec.min === undefined && spec.max === undefined ? 'a number' : `a number ${describeBounds(spec.min, spec.max)}`;
    case 'integer':
      return spec.min === undefined && spec.max === undefined ? 'an integer' : `an integer ${describeBounds(spec.min, spec.max)}`;
    case 'boolean':
      return 'true or false';
    case 'choice':
      return `one of ${spec.choices.join(', ')}`;
    case 'json':
      return 'a JSON value';
  }
}

function convertValue(name: string, spec: InputSpec, raw: unknown, rawOrigin: ValueOrigin): unknown {
  let value = raw;
  let origin = rawOrigin;
  // Bytes given for a number, boolean, choice or JSON input (Python 2's str is bytes) are read as
  // the text they hold, with the rules for text sources.
  if (raw instanceof Uint8Array && !isBinaryType(spec.type) && spec.type !== 'text') {
    value = convertText(name, spec, raw);
    origin = 'text';
  }
  switch (spec.type) {
    case 'image':
    case 'file':
      return convertBinary(name, spec, value);
    case 'text':
      return convertText(name, spec, value);
    case 'number':
    case 'integer':
      return convertNumber(name, spec, value);
    case 'boolean':
      return convertBoolean(name, value);
    case 'choice':
      return convertChoice(name, spec, value);
    case 'json':
      return origin === 'text' ? parseJsonText(name, value) : value;
  }
}

function wrongType(name: string, spec: InputSpec, value: unknown): InvalidInputError {
  return new InvalidInputError(name, `expected ${describeExpected(spec)}, got ${describeType(value)}`);
}

function convertBinary(name: string, spec: InputSpec, value: unknown): Buffer {
  let data: Buffer;
  if (Buffer.isBuffer(value)) data = value;
  else if (value instanceof Uint8Array) data = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  else if (typeof value === 'string') data = decodeBinaryText(name, value);
  else throw wrongType(name, spec, value);
  if (data.length === 0) throw new InvalidInputError(name, `is empty; expected ${describeExpected(spec)}`);
  if (spec.type === 'image' && !sniffImageFormat(data)) {
    const start = data.subarray(0, 8).toString('hex');
    throw new InvalidInputError(
      name,
      `is not an image that can be decoded (${plural(data.length, 'byte')} starting ${start}, which ${data.length === 1 ? 'matches' : 'match'} no image format); expected ${describeExpected(spec)}`,
    );
  }
  return data;
}

// A signature is four bytes anyone can type; a header that parses whole, with a size, is what
// docs/reference/schema.md promises, at the cost of a header, not of decoding the pixels.
function checkImageHeader(name: string, data: Buffer): void {
  const header = parseImageHeader(data);
  if (typeof header !== 'string') return;
  const format = sniffImageFormat(data) ?? 'image';
  throw new InvalidInputError(
    name,
    `is not an image that can be decoded (${plural(data.length, 'byte')} with a ${format} signature, but its header cannot be read: ${header}); expected ${describeExpected({ type: 'image' })}`,
  );
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function convertText(name: string, spec: InputSpec, value: unknown): string {
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) {
    try {
      return utf8.decode(value);
    } catch {
      throw new InvalidInputError(
        name,
        `expected a string, got ${plural(value.length, 'byte')} that ${value.length === 1 ? 'is' : 'are'} not valid UTF-8 text`,
      );
    }
  }
  throw wrongType(name, spec, value);
}

// Only plain decimal notation: Number() would also take '0x1f', '', ' ' and 'Infinity'. No real
// number is longer than the length cap, which keeps the pattern's work small on hostile input.
const decimalNumber = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;
const longestNumberText = 400;

function convertNumber(name: string, spec: InputSpec & { type: 'number' | 'integer' }, value: unknown): number {
  let number: number;
  if (typeof value === 'number') number = value;
  else if (typeof value === 'bigint') number = Number(value);
  else if (typeof value === 'string' && value.length <= longestNumberText && decimalNumber.test(value.trim())) number = Number(value.trim());
  else throw wrongType(name, spec, value);
  if (!Number.isFinite(number)) throw wrongType(name, spec, value);
  if (spec.type === 'integer' && !Number.isSafeInteger(number)) throw wrongType(name, spec, value);
  if ((spec.min !== undefined && number < spec.min) || (spec.max !== undefined && number > spec.max)) {
    throw new InvalidInputError(name, `${number} is out of range; expected ${describeExpected(spec)}`);
  }
  return number;
}

const trueWords = new Set(['true', 'yes', 'on', '1']);
const falseWords = new Set(['false', 'no', 'off', '0']);

function convertBoolean(name: string, value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  if (value === 0 || value === 1) return value === 1;
  if (typeof value === 'string') {
    const word = value.trim().toLowerCase();
    if (trueWords.has(word)) return true;
    if (falseWords.has(word)) return false;
  }
  throw new InvalidInputError(name, `expected true or false (also yes/no, on/off, 1/0), got ${describeType(value)}`);
}

function convertChoice(name: string, spec: InputSpec & { type: 'choice' }, value: unknown): string {
  const text = typeof value === 'number' ? String(value) : value;
  if (typeof text === 'string' && spec.choices.includes(text)) return text;
  const suggestion = typeof text === 'string' ? ` (did you mean '${closest(text, [...spec.choices])}'?)` : '';
  throw new InvalidInputError(name, `expected one of ${spec.choices.join(', ')}, got ${describeType(value)}${suggestion}`);
}

function parseJsonText(name: string, value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch (error) {
    throw new InvalidInputError(name, `is not valid JSON (${(error as Error).message})`);
  }
}
