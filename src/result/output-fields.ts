import { DataUrl } from '../json-bytes.js';
import { sniffImageFormat } from '../inputs/image.js';
import { describeType } from '../inputs/schema.js';
import { isJsonType, parseMediaType } from '../media-type.js';
import type { InferenceResult, JsonValue } from '../types.js';
import type { FileResult, ImageResult } from './result-helpers.js';

/** A file in a structured output: what `image(bytes)` or `file(bytes, type)` returns. */
export type OutputFile = ImageResult | FileResult;

/** One field of a structured output: a JSON value, a file, or a list of files. */
export type OutputFieldValue = JsonValue | OutputFile | readonly OutputFile[];

/** The fields of a structured output, by name. */
export type OutputFields = { readonly [name: string]: OutputFieldValue };

/**
 * A structured output, as `output(fields)` builds it: a JSON result whose `data` is the object of
 * its fields itself (not JSON text), so that fields can hold files beside data.
 */
export interface OutputResult<F extends OutputFields = OutputFields> {
  'content-type': 'application/json';
  data: F;
  success: true;
}

/** A file field of a structured output, as `fileFields` walks them: `index` is its place in a list field. */
export interface FileField {
  name: string;
  index?: number;
  contentType: string;
  bytes: Buffer;
}

const maxDepth = 64;
// The image types whose bytes sniffImageFormat knows, to catch "says PNG, holds JPEG".
const sniffedFormats: Readonly<Record<string, readonly string[]>> = {
  'image/jpeg': ['jpeg'],
  'image/jpg': ['jpeg'],
  'image/png': ['png'],
  'image/gif': ['gif'],
  'image/webp': ['webp'],
  'image/tiff': ['tiff'],
  'image/avif': ['avif', 'heif'],
  'image/heif': ['heif', 'avif'],
  'image/heic': ['heif'],
  'image/bmp': ['bmp'],
  'image/svg+xml': ['svg'],
};

/**
 * A result that holds data and files together: an object whose fields are JSON values, files
 * (`image(bytes)`, `file(bytes, type)`) or lists of files. Every mode encodes it in its own terms
 * (JSON with a data URL per file, one KServe tensor per field, files beside JSON on the command line).
 * @example return output({ label: 'cat', score: 0.93, mask: image(png) });
 */
export function output<F extends OutputFields>(fields: F): OutputResult<F> {
  if (fields === null || typeof fields !== 'object' || Array.isArray(fields) || fields instanceof Uint8Array) {
    throw new TypeError(`output(fields): expected an object of fields such as { label: 'cat', mask: image(png) }, got ${describeType(fields)}`);
  }
  const problems = outputProblems(fields);
  if (problems.length > 0) throw new TypeError(`output(fields): ${problems.join('; ')}`);
  return { 'content-type': 'application/json', data: fields, success: true };
}

/** Whether a result is a structured output: its `data` is an object of fields rather than JSON text or bytes. */
export function isOutputResult(result: Pick<InferenceResult, 'data'>): result is OutputResult {
  const { data } = result;
  return data !== null && typeof data === 'object' && !(data instanceof Uint8Array) && !Array.isArray(data);
}

/** Whether a field value (or an item of a list field) is a file: an object with a content type and bytes. */
export function isOutputFile(value: unknown): value is OutputFile {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as { 'content-type'?: unknown })['content-type'] === 'string' &&
    (value as { data?: unknown }).data instanceof Uint8Array
  );
}

/**
 * Everything wrong with the fields of a structured output, one sentence each, naming the field;
 * empty when they are fine.
 */
export function outputProblems(fields: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const names = Object.keys(fields);
  if (names.length === 0) problems.push('a structured output needs at least one field');
  for (const name of names) {
    const value = fields[name];
    const where = `field ${JSON.stringify(name)}`;
    if (Array.isArray(value) && value.some(isOutputFile)) {
      value.forEach((item, index) => {
        const problem = isOutputFile(item) ? fileProblem(item) : `is ${describeType(item)} in a list of files; a list field holds files only, or JSON only`;
        if (problem) problems.push(`${where}[${index}] ${problem}`);
      });
      continue;
    }
    const problem = isOutputFile(value) ? fileProblem(value) : jsonProblem(value, new Set(), 0);
    if (problem) problems.push(withPath(where, problem));
  }
  return problems;
}

function fileProblem(file: OutputFile): string | undefined {
  const declared = file['content-type'];
  const mediaType = parseMediaType(declared);
  if (mediaType === undefined || mediaType.includes('*'))
    return `has the content type ${JSON.stringify(declared)}, which is not one media type such as 'image/png'`;
  if ((file as { success?: unknown }).success === false) return 'is a failure; return failure(message) for the whole output instead';
  const expected = sniffedFormats[mediaType];
  if (expected !== undefined) {
    const format = sniffImageFormat(file.data);
    if (format === undefined) return `says ${mediaType} but its ${file.data.byteLength} bytes are not an image; build it with image(bytes)`;
    if (!expected.includes(format)) return `says ${mediaType} but holds a ${format} image; build it with image(bytes)`;
  }
  return undefined;
}

// What JSON cannot hold, named, with the helper that would hold it.
function jsonProblem(value: unknown, ancestors: Set<object>, depth: number): string | undefined {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : `is ${value}, which JSON cannot hold`;
  if (value === undefined) return 'is undefined; leave the field out, or give null';
  if (value instanceof Uint8Array) return "is bytes; wrap them as image(bytes) or file(bytes, 'application/octet-stream')";
  if (typeof value !== 'object') return `is ${describeType(value)}, which JSON cannot hold`;
  if (ancestors.has(value)) return 'contains itself (a cycle), which JSON cannot hold';
  if (depth >= maxDepth) return `nests deeper than ${maxDepth} levels`;
  if (isResultLike(value)) return 'is a result object; give the value itself (json() and text() results are whole results, not fields)';
  if (!Array.isArray(value)) {
    const prototype = Object.getPrototypeOf(value) as unknown;
    if (prototype !== Object.prototype && prototype !== null) return `is ${describeType(value)}, which JSON cannot hold; give a plain object`;
  }
  ancestors.add(value);
  try {
    for (const [key, item] of Object.entries(value)) {
      const problem = isOutputFile(item)
        ? 'is a file inside a JSON value; files go at the top level of the output, or in a list field of files'
        : jsonProblem(item, ancestors, depth + 1);
      if (problem) return withPath(Array.isArray(value) ? `[${key}]` : `.${key}`, problem);
    }
  } finally {
    ancestors.delete(value);
  }
  return undefined;
}

// A problem deeper in a value starts with its path (`.raw`, `[2]`), which follows the outer path directly.
const withPath = (path: string, problem: string) => `${path}${/^[.[]/.test(problem) ? '' : ' '}${problem}`;

function isResultLike(value: object): boolean {
  const record = value as Record<string, unknown>;
  return typeof record['content-type'] === 'string' && typeof record.success === 'boolean' && 'data' in record;
}

/**
 * The file fields of a structured output, in the order of its fields (a list field's files in
 * their order): what a mode writes, streams or uploads.
 * @example for (const file of fileFields(result)) await writeFile(`${file.name}.png`, file.bytes);
 */
export function* fileFields(result: OutputResult): Generator<FileField> {
  for (const [name, value] of Object.entries(result.data)) {
    if (isOutputFile(value)) yield { name, contentType: value['content-type'], bytes: asBuffer(value.data) };
    else if (Array.isArray(value) && value.some(isOutputFile)) {
      for (const [index, item] of (value as unknown as OutputFile[]).entries())
        yield { name, index, contentType: item['content-type'], bytes: asBuffer(item.data) };
    }
  }
}

/**
 * A file field as JSON when it was not uploaded: a `data:` URL (kept as its bytes until written;
 * see DataUrl). With OUTPUT_UPLOAD_URL, the native API, Cog and the queue answer each file's
 * uploaded URL instead (`outputValue` in src/http/predict.ts, by `uploadField`).
 */
export function fileJson(file: FileField): unknown {
  return new DataUrl(file.contentType, file.bytes);
}

/**
 * A structured output as one JSON value: its fields as they are, each file as `fileJson` gives it
 * (or as `fileForm` does, the command line's path of the file it wrote).
 * @example JSON.stringify(outputJson(output({ label: 'cat', mask: image(png) }))) // {"label":"cat","mask":"data:image/png;base64,..."}
 */
export function outputJson(result: OutputResult, fileForm: (file: FileField) => unknown = fileJson): Record<string, unknown> {
  const files = fileFields(result);
  let next = files.next();
  const value: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(result.data)) {
    const isList = Array.isArray(field) && field.some(isOutputFile);
    if (!isOutputFile(field) && !isList) {
      Object.defineProperty(value, name, { value: field, enumerable: true, writable: true, configurable: true });
      continue;
    }
    const forms: unknown[] = [];
    while (!next.done && next.value.name === name) {
      forms.push(fileForm(next.value));
      next = files.next();
    }
    Object.defineProperty(value, name, { value: isList ? forms : forms[0], enumerable: true, writable: true, configurable: true });
  }
  return value;
}

/** The name a file field is uploaded under (OUTPUT_UPLOAD_URL, `<field>.<ext>`): `mask`, `frames-0` for a list's first. */
export function uploadField(file: Pick<FileField, 'name' | 'index'>): string {
  return file.index === undefined ? file.name : `${file.name}-${file.index}`;
}

/** The kind of each field, for a summary: `label: json, mask: image/png`. */
export function describeOutput(result: OutputResult): string {
  const parts = Object.entries(result.data).map(([name, value]) => {
    if (isOutputFile(value)) return `${name}: ${parseMediaType(value['content-type']) ?? value['content-type']} (${value.data.byteLength} bytes)`;
    if (Array.isArray(value) && value.some(isOutputFile)) return `${name}: ${value.length} files`;
    return `${name}: ${value === null ? 'null' : Array.isArray(value) ? 'list' : typeof value}`;
  });
  return `structured output { ${parts.join(', ')} }`;
}

/** Whether a structured output's content type is JSON, as it must be. */
export function isOutputContentType(declaredType: string): boolean {
  const mediaType = parseMediaType(declaredType);
  return mediaType !== undefined && isJsonType(mediaType);
}

/**
 * Makes the bytes of a structured output's files Buffers, in place: structured clone (the
 * supervisor's IPC) delivers Uint8Arrays, and the modes expect Buffers. Any other result is left.
 */
export function fileBuffersInPlace(result: Pick<InferenceResult, 'data'>): void {
  if (!isOutputResult(result)) return;
  for (const value of Object.values(result.data)) {
    for (const file of Array.isArray(value) ? value : [value]) {
      if (isOutputFile(file) && !Buffer.isBuffer(file.data)) (file as { data: Uint8Array }).data = asBuffer(file.data);
    }
  }
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

// Common file name extensions by media type: what the command line names the files it writes.
const extensions: Readonly<Record<string, string>> = {
  'image/jpeg': 'jpg',
  'image/svg+xml': 'svg',
  'image/x-icon': 'ico',
  'audio/mpeg': 'mp3',
  'audio/wav': 'wav',
  'audio/x-wav': 'wav',
  'audio/wave': 'wav',
  'audio/ogg': 'ogg',
  'video/quicktime': 'mov',
  'text/plain': 'txt',
  'text/markdown': 'md',
  'application/octet-stream': 'bin',
  'application/x-npy': 'npy',
};

/**
 * The file name extension of a media type: the common one where it differs from the subtype
 * (`jpg`, `mp3`, `txt`), else the subtype when it is a plain word (`png`, `pdf`, `wav`), else `bin`.
 * @example fileExtension('image/jpeg') // 'jpg'
 */
export function fileExtension(declaredType: string): string {
  const mediaType = parseMediaType(declaredType) ?? '';
  const known = extensions[mediaType];
  if (known) return known;
  const subtype = mediaType.split('/')[1] ?? '';
  return /^[a-z0-9]{1,8}$/.test(subtype) ? subtype : 'bin';
}

/** The file name of a file field: `mask.png`, `frames-0.png` for a list's first. */
export function fileFieldName(file: FileField): string {
  const safe = file.name.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^\.+/, '_') || 'field';
  return `${safe}${file.index === undefined ? '' : `-${file.index}`}.${fileExtension(file.contentType)}`;
}
