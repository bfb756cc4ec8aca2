import { sniffImageFormat } from '../inputs/image.js';
import { describeType } from '../inputs/schema.js';
import { parseMediaType } from '../media-type.js';

/** A successful JSON result, as `json(value)` builds it. */
export interface JsonResult {
  'content-type': 'application/json';
  /** The value as JSON text. */
  data: string;
  success: true;
}

/** A successful image result, as `image(bytes)` builds it: the media type is the bytes' own format. */
export interface ImageResult {
  'content-type': `image/${string}`;
  data: Buffer | Uint8Array;
  success: true;
}

/** A successful binary result of a given media type, as `file(bytes, type)` builds it. */
export interface FileResult {
  'content-type': string;
  data: Buffer | Uint8Array;
  success: true;
}

/** A successful text result, as `text(string)` builds it. */
export interface TextResult {
  'content-type': `text/${string}`;
  data: string;
  success: true;
}

/** A failure the model reports (the process lives on), as `failure(message)` builds it. */
export interface FailureResult {
  'content-type': 'text/plain';
  data: null;
  success: false;
  error: string;
}

/**
 * A JSON result: `{'content-type': 'application/json', data: JSON.stringify(value), success: true}`.
 * @example return json({ label: 'cat', score: 0.93 });
 */
export function json(value: unknown): JsonResult {
  let data: string | undefined;
  try {
    data = JSON.stringify(value);
  } catch (error) {
    throw new TypeError(`json(value): the value cannot be written as JSON: ${(error as Error).message}`);
  }
  if (data === undefined)
    throw new TypeError(`json(value): ${describeType(value)} cannot be written as JSON; pass an object, an array, a string, a number, a boolean or null`);
  return { 'content-type': 'application/json', data, success: true };
}

/**
 * An image result, its media type read from the bytes (JPEG, PNG, WebP, GIF, TIFF, AVIF, HEIF,
 * BMP, SVG). Bytes in no image format are an error here, at the call, rather than a result that
 * fails its check later.
 * @example return image(await sharp(inputs.image).negate().png().toBuffer());
 */
export function image(bytes: Buffer | Uint8Array): ImageResult {
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`image(bytes): expected a Buffer of encoded image bytes, got ${describeType(bytes)}`);
  const format = sniffImageFormat(bytes);
  if (format === undefined) {
    const start = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, 8)).toString('hex');
    throw new TypeError(
      `image(bytes): the ${bytes.byteLength} bytes (starting ${start || '(empty)'}) are not an image in a known format (JPEG, PNG, WebP, GIF, TIFF, AVIF, HEIF, BMP, SVG); ` +
        "encode the pixels first (e.g. sharp(...).png().toBuffer()), or use file(bytes, 'application/octet-stream') for other data",
    );
  }
  return { 'content-type': `image/${format === 'svg' ? 'svg+xml' : format}`, data: bytes, success: true };
}

/**
 * A binary result of the given media type: audio, video, a document.
 * @example return file(wavBytes, 'audio/wav');
 */
export function file(bytes: Buffer | Uint8Array, type: string): FileResult {
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`file(bytes, type): expected a Buffer, got ${describeType(bytes)}`);
  checkMediaType('file(bytes, type)', type, 'application/pdf');
  return { 'content-type': type, data: bytes, success: true };
}

/**
 * A text result, `text/plain; charset=utf-8` unless another text type is given.
 * @example return text(`${words} words`);
 */
export function text(value: string, type: `text/${string}` = 'text/plain; charset=utf-8'): TextResult {
  if (typeof value !== 'string') throw new TypeError(`text(value): expected a string, got ${describeType(value)}; use json(value) for other values`);
  if (checkMediaType('text(value, type)', type, 'text/csv').split('/')[0] !== 'text') {
    throw new TypeError(`text(value, type): ${JSON.stringify(type)} is not a text type; use file(bytes, type) for other data`);
  }
  return { 'content-type': type, data: value, success: true };
}

/**
 * A failure the model reports, the Python library's way: the caller gets `message`, and the
 * process carries on (a throw, by contrast, restarts the model).
 * @example if (faces.length === 0) return failure('no face found in the image');
 */
export function failure(message: string | Error): FailureResult {
  const error = message instanceof Error ? message.message || message.name : message;
  if (typeof error !== 'string') throw new TypeError(`failure(message): expected a string or an Error, got ${describeType(message)}`);
  return { 'content-type': 'text/plain', data: null, success: false, error };
}

function checkMediaType(call: string, type: unknown, example: string): string {
  if (typeof type === 'string') {
    const parsed = parseMediaType(type);
    if (parsed?.includes('*')) throw new TypeError(`${call}: ${JSON.stringify(type)} is a range; name the one media type of the data, such as '${example}'`);
    if (parsed !== undefined) return parsed;
  }
  throw new TypeError(`${call}: ${typeof type === 'string' ? JSON.stringify(type) : describeType(type)} is not a media type such as '${example}'`);
}
