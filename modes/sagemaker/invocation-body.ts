import { isUtf8 } from 'node:buffer';
import { AiIntegrationError } from '../../src/errors.js';
import { describeType, isBinaryType } from '../../src/inputs/schema.js';
import { isPlainObject } from '../../src/inputs/safe-record.js';
import type { InputSpec, InputsSchema } from '../../src/types.js';

/** The JSON Lines media types: one inputs object per line in, one result per line out. */
export const jsonLinesTypes: readonly string[] = ['application/jsonlines', 'application/x-jsonlines'];

/** Raw bodies that are the bytes of the model's one binary input (`image/*` too). */
export const rawBinaryTypes: readonly string[] = ['application/octet-stream', 'application/x-image'];

/** Whether a body of this media type is the raw bytes of one input. */
export const isRawBinaryType = (mediaType: string) => mediaType.startsWith('image/') || rawBinaryTypes.includes(mediaType);

const malformed = (message: string) => new AiIntegrationError('AI_ERR_MALFORMED_INPUT', message);

/**
 * The inputs object of an `application/json` body: the object itself, binary inputs as base64 or
 * data: URLs (the schema's conversion decodes them). The native API's envelope, `{"inputs": {...}}`
 * alone, is taken too when the schema has no input named `inputs`, so a client of the native API
 * works unchanged.
 */
export function parseJsonInputs(bytes: Buffer, schema: InputsSchema): Record<string, unknown> {
  const text = utf8Text(bytes, 'the request body');
  if (text.trim() === '') throw malformed('the request body is empty; expected a JSON object of inputs');
  let body: unknown;
  try {
    body = JSON.parse(text) as unknown;
  } catch (error) {
    // Batch transform joins a mini-batch's lines with newlines; it is JSON Lines, not JSON.
    const lines = text.trim().includes('\n') ? '; for one inputs object per line, send Content-Type application/jsonlines' : '';
    throw malformed(`the request body is not valid JSON (${(error as Error).message})${lines}`);
  }
  if (Array.isArray(body))
    throw malformed('expected a JSON object of inputs, got an array; send several inputs objects as application/jsonlines, one per line');
  return inputsOf(body, schema, 'the request body');
}

/**
 * The inputs objects of an `application/jsonlines` body, one per line, in order. Trailing blank
 * lines are ignored (a file's last newline); any other line that is not a JSON object is a 400
 * naming it, counted from 1.
 */
export function parseJsonLines(bytes: Buffer, schema: InputsSchema): Record<string, unknown>[] {
  const lines: Buffer[] = [];
  for (let start = 0; start <= bytes.length; ) {
    let end = bytes.indexOf(0x0a, start);
    if (end === -1) end = bytes.length;
    lines.push(bytes.subarray(start, end > start && bytes[end - 1] === 0x0d ? end - 1 : end));
    start = end + 1;
  }
  if (lines[0]?.[0] === 0xef && lines[0][1] === 0xbb && lines[0][2] === 0xbf) lines[0] = lines[0].subarray(3);
  while (lines.length > 0 && lines.at(-1)!.toString('latin1').trim() === '') lines.pop();
  if (lines.length === 0) throw malformed('the JSON Lines body has no records; send one inputs object per line');
  return lines.map((line, index) => {
    const where = `line ${index + 1}`;
    const text = utf8Text(line, where);
    if (text.trim() === '') throw malformed(`${where} is empty; send one inputs object per line (only blank lines at the end are ignored)`);
    let value: unknown;
    try {
      value = JSON.parse(text) as unknown;
    } catch (error) {
      throw malformed(`${where} is not valid JSON (${(error as Error).message}); send one inputs object per line`);
    }
    return inputsOf(value, schema, where);
  });
}

/** The model's only `image` or `file` input, which a raw body is; undefined when it has none or several. */
export function soleBinaryInput(schema: InputsSchema): string | undefined {
  const binary = Object.entries(schema).filter(([, spec]) => isBinaryType(spec.type));
  return binary.length === 1 ? binary[0]![0] : undefined;
}

/** The schema's inputs as a list for messages: `image (image), prompt (text)`. */
export function describeInputs(schema: InputsSchema): string {
  const entries = Object.entries(schema);
  return entries.length === 0 ? 'none' : entries.map(([name, spec]: [string, InputSpec]) => `${name} (${spec.type})`).join(', ');
}

function utf8Text(bytes: Buffer, what: string): string {
  // Decoding would replace bad bytes with U+FFFD; a model must never see that silently.
  if (!isUtf8(bytes)) throw malformed(`${what} is not valid UTF-8; send JSON as UTF-8, and binary inputs as base64`);
  const text = bytes.toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

function inputsOf(value: unknown, schema: InputsSchema, where: string): Record<string, unknown> {
  if (!isPlainObject(value)) throw malformed(`${where} is ${describeType(value)}; expected a JSON object of inputs (${describeInputs(schema)})`);
  const keys = Object.keys(value);
  if (keys.length === 1 && keys[0] === 'inputs' && isPlainObject(value.inputs) && !Object.hasOwn(schema, 'inputs')) return value.inputs;
  return value;
}
