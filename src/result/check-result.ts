import { readImageFacts } from '../inputs/image.js';
import { plural } from '../plural.js';
import { describeType } from '../inputs/schema.js';
import { isJsonType, parseMediaType } from '../media-type.js';
import type { InferenceResult } from '../types.js';
import { describeOutput, isOutputContentType, isOutputResult, outputProblems, type OutputResult } from './output-fields.js';

/** What the checker found: `ok` only when there is no problem. */
export interface ResultReport {
  ok: boolean;
  /** Everything wrong with the result, one readable sentence each. */
  problems: string[];
  /** One line that says what the result holds, e.g. "image/jpeg, 600x400 jpeg, 14210 bytes". */
  summary: string;
  /** The result's media type, lower-cased and without parameters, once it parsed. */
  mediaType?: string;
  /** The parsed data of a JSON result, so that nobody has to parse it twice. */
  json?: unknown;
}

// The IANA top-level media types; anything else is a typo or an invention.
const knownTopLevelTypes = new Set(['application', 'audio', 'font', 'image', 'model', 'text', 'video', 'multipart', 'message']);

// What sharp calls each format, by image subtype, to catch "says JPEG, holds PNG".
const sharpFormatBySubtype: Record<string, readonly string[]> = {
  jpeg: ['jpeg'],
  jpg: ['jpeg'],
  png: ['png'],
  webp: ['webp'],
  gif: ['gif'],
  tiff: ['tiff'],
  avif: ['heif'],
  heif: ['heif'],
  'svg+xml': ['svg'],
};

/**
 * Checks a result against the ai_integration contract (the counterpart of the Python library's
 * `check_inference_output`) and reports everything wrong with it.
 * @example const report = await checkResult(await infer(inputs)); if (!report.ok) console.error(report.problems);
 */
export async function checkResult(result: unknown): Promise<ResultReport> {
  const problems: string[] = [];
  const notResult = describeNotAResult(result);
  if (notResult !== undefined) return { ok: false, problems: [notResult], summary: 'not a result object' };
  const record = result as Record<string, unknown>;
  const declaredType = record['content-type'];
  if (typeof declaredType !== 'string') problems.push(`'content-type' must be a string such as 'application/json', got ${describeType(declaredType)}`);
  if (typeof record.success !== 'boolean') problems.push(`'success' must be true or false, got ${describeType(record.success)}`);
  if (!('data' in record)) problems.push("'data' is missing (use null when there is no data)");
  if (record.success === false) {
    const error = typeof record.error === 'string' && record.error.length > 0 ? record.error : '(no error message was given)';
    problems.push(`the model reported a failure: ${error}`);
  }
  if (problems.length > 0 || typeof declaredType !== 'string') {
    return { ok: false, problems, summary: record.success === false ? 'failure' : 'malformed result' };
  }
  const data = record.data;
  if (isOutputResult(record as Pick<InferenceResult, 'data'>)) return checkOutput(record as unknown as OutputResult, declaredType);
  if (!(typeof data === 'string' || data instanceof Uint8Array)) {
    problems.push(`'data' must be a string or a Buffer when success is true, got ${describeType(data)}`);
    return { ok: false, problems, summary: 'no data' };
  }
  const facts: { mediaType?: string; json?: unknown } = {};
  const summary = await checkData(declaredType, data, problems, facts);
  return { ok: problems.length === 0, problems, summary, ...facts };
}

// The keys of a result object; an object with none of them is a value the model meant to return.
const resultKeys = ['content-type', 'data', 'success', 'error'];

/**
 * What is wrong with a value that is not a result object at all, and the line to write instead:
 * the helper that builds the result it was meant to be. A value is never taken as a result of
 * its own accord (`{ data: [...] }` could be either), so the model says which it means.
 */
function describeNotAResult(result: unknown): string | undefined {
  const expected = "the result must be an object { 'content-type', data, success, error? }";
  if (result === undefined) {
    return `${expected}, got undefined: did the function forget to return? End it with a result, e.g. \`return json({ label: 'cat', score: 0.93 })\` (import { json } from 'ai-integration')`;
  }
  if (typeof result === 'string')
    return `${expected}, got ${describeType(result)}; for text write \`return text(value)\` (import { text } from 'ai-integration')`;
  if (result instanceof Uint8Array) {
    return `${expected}, got ${describeType(result)}; for an image write \`return image(bytes)\`, for other bytes \`return file(bytes, 'application/octet-stream')\` (import { image, file } from 'ai-integration')`;
  }
  if (typeof result === 'function') return `${expected}, got a function; did the function return another function instead of calling it?`;
  if (result === null || typeof result !== 'object' || Array.isArray(result)) {
    return `${expected}, got ${describeType(result)}; to return it as JSON write \`return json(value)\` (import { json } from 'ai-integration')`;
  }
  const keys = Object.keys(result);
  if (keys.length === 0 || keys.some((key) => resultKeys.includes(key))) return undefined;
  const shown = `{ ${keys.slice(0, 4).join(', ')}${keys.length > 4 ? ', ...' : ''} }`;
  return `${expected}, got the plain object ${shown}; to return it as JSON write \`return json(${shown})\` (import { json } from 'ai-integration')`;
}

// A structured output: JSON whose data is the object of its fields (output(fields) builds it).
function checkOutput(result: OutputResult, declaredType: string): ResultReport {
  if (!isOutputContentType(declaredType)) {
    return {
      ok: false,
      problems: [
        `'data' is an object of fields, which only a structured output holds, but 'content-type' is ${JSON.stringify(declaredType)}; build it with output(fields)`,
      ],
      summary: 'malformed result',
    };
  }
  const problems = outputProblems(result.data);
  return { ok: problems.length === 0, problems, summary: describeOutput(result), mediaType: 'application/json' };
}

async function checkData(declaredType: string, data: string | Uint8Array, problems: string[], facts: { mediaType?: string; json?: unknown }): Promise<string> {
  const size = typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
  const mediaType = parseMediaType(declaredType);
  if (mediaType === undefined) {
    problems.push(`'content-type' ${JSON.stringify(declaredType)} is not a valid media type such as 'image/jpeg'`);
    return plural(size, 'byte');
  }
  facts.mediaType = mediaType;
  const [topLevel = '', subtype = ''] = mediaType.split('/');
  if (!knownTopLevelTypes.has(topLevel)) {
    problems.push(`unknown content type ${JSON.stringify(declaredType)}; expected e.g. application/json, image/jpeg, text/plain`);
    return plural(size, 'byte');
  }
  if (isJsonType(mediaType)) {
    try {
      facts.json = JSON.parse(typeof data === 'string' ? data : Buffer.from(data).toString('utf8')) as unknown;
      return `${mediaType}, ${plural(size, 'byte')} of valid JSON`;
    } catch (error) {
      problems.push(`the content type is ${mediaType} but data is not valid JSON (${(error as Error).message})`);
      return `${mediaType}, ${plural(size, 'byte')}`;
    }
  }
  if (topLevel === 'image') return checkImage(mediaType, subtype, data, size, problems);
  if (topLevel === 'text' && typeof data !== 'string') {
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(data);
    } catch {
      problems.push(`the content type is ${mediaType} but data is not valid UTF-8 text`);
    }
  }
  return `${mediaType}, ${plural(size, 'byte')}`;
}

async function checkImage(mediaType: string, subtype: string, data: string | Uint8Array, size: number, problems: string[]): Promise<string> {
  if (typeof data === 'string') {
    problems.push(`the content type is ${mediaType} but data is a string; image data must be a Buffer of encoded image bytes`);
    return `${mediaType}, ${plural(size, 'character')}`;
  }
  const facts = await readImageFacts(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  if (!facts) {
    problems.push(`the content type is ${mediaType} but data (${plural(size, 'byte')}) is not an image that can be decoded`);
    return `${mediaType}, ${plural(size, 'byte')}`;
  }
  const expectedFormats = sharpFormatBySubtype[subtype];
  if (expectedFormats && !expectedFormats.includes(facts.format)) {
    problems.push(`the content type is ${mediaType} but data is a ${facts.format} image`);
  }
  return `${mediaType}, ${facts.width}x${facts.height} ${facts.format}, ${plural(size, 'byte')}`;
}
