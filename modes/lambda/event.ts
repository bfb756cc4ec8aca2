import { isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import type { ValueOrigin } from '../../src/inputs/convert-inputs.js';
import { AiIntegrationError } from '../../src/errors.js';
import { isJsonType } from '../../src/media-type.js';
import { readMultipart } from '../../src/http/request-body.js';
import { describeType, isBinaryType } from '../../src/inputs/schema.js';
import { isPlainObject, setOwn } from '../../src/inputs/safe-record.js';
import type { InputsSchema, ModeContext } from '../../src/types.js';

/** An HTTP request that reached the function through API Gateway or a function URL. */
export interface ProxyRequest {
  /** The payload format: '1.0' (REST APIs, and HTTP APIs or ALB with the 1.0 format), '2.0' (HTTP APIs, function URLs). */
  format: '1.0' | '2.0';
  method: string;
  /** Header names in lower case. */
  headers: Record<string, string>;
  query: Record<string, string>;
  /** The body as sent: decoded from base64 when the gateway flagged it, not yet from its Content-Encoding. */
  body: Buffer;
}

/** The raw inputs of a request, and whether its values are text (form fields, query) or typed data (JSON). */
export interface RawInputs {
  raw: Record<string, unknown>;
  origin: ValueOrigin;
}

type Json = Record<string, unknown>;

/**
 * Which kind of event this is: an HTTP API (2.0) or function URL event has `version: "2.0"` and
 * `requestContext.http`; a REST API (1.0) or ALB event has `httpMethod` and `requestContext`.
 * Anything else is a plain event: the inputs object itself.
 */
export function proxyFormatOf(event: unknown): '1.0' | '2.0' | undefined {
  if (!isPlainObject(event) || !isPlainObject(event.requestContext)) return undefined;
  if (event.version === '2.0' && isPlainObject(event.requestContext.http) && typeof event.requestContext.http.method === 'string') return '2.0';
  if (typeof event.httpMethod === 'string') return '1.0';
  return undefined;
}

/**
 * The request a proxy event carries, its body decoded from base64 when `isBase64Encoded` says so
 * and checked against `maxInputBytes` (413).
 */
export function readProxyRequest(event: Json, format: '1.0' | '2.0', maxInputBytes: number): ProxyRequest {
  const context = event.requestContext as Json;
  const method = (format === '2.0' ? (context.http as Json).method : event.httpMethod) as string;
  const headers: Record<string, string> = {};
  // A 1.0 event may carry only multiValueHeaders (an ALB with multi-value headers on); the last value wins, as in `headers`.
  if (isPlainObject(event.multiValueHeaders)) {
    for (const [name, values] of Object.entries(event.multiValueHeaders)) {
      if (Array.isArray(values) && values.length > 0) headers[name.toLowerCase()] = String(values.at(-1));
    }
  }
  if (isPlainObject(event.headers))
    for (const [name, value] of Object.entries(event.headers)) if (typeof value === 'string') headers[name.toLowerCase()] = value;
  const query: Record<string, string> = {};
  if (isPlainObject(event.queryStringParameters))
    for (const [name, value] of Object.entries(event.queryStringParameters)) if (typeof value === 'string') setOwn(query, name, value);
  const text = typeof event.body === 'string' ? event.body : '';
  if (event.body !== undefined && event.body !== null && typeof event.body !== 'string') {
    throw new AiIntegrationError('AI_ERR_MALFORMED_INPUT', `the event's body must be a string (as API Gateway sends it), got ${describeType(event.body)}`);
  }
  // Base64 is 4 characters for 3 bytes: a body that long cannot fit, whatever it holds.
  const most = event.isBase64Encoded === true ? Math.ceil(maxInputBytes / 3) * 4 : maxInputBytes;
  if (text.length > most) throw tooLarge(maxInputBytes);
  const body = event.isBase64Encoded === true ? Buffer.from(text, 'base64') : Buffer.from(text, 'utf8');
  if (body.length > maxInputBytes) throw tooLarge(maxInputBytes);
  return { format, method: method.toUpperCase(), headers, query, body };
}

const tooLarge = (limit: number) =>
  new AiIntegrationError('AI_ERR_INPUT_TOO_LARGE', `the request body is larger than ${limit} bytes (the limit; raise it with MAX_INPUT_BYTES)`);

/** The inputs of a plain event: the inputs object itself, or `{"inputs": {...}}` as the native API takes it. */
export function plainInputs(event: unknown, schema: InputsSchema): RawInputs {
  if (!isPlainObject(event)) {
    throw new AiIntegrationError(
      'AI_ERR_MALFORMED_INPUT',
      `the event must be an inputs object such as {"image": "<base64>"} (or {"inputs": {...}}), got ${describeType(event)}`,
    );
  }
  return { raw: unwrapInputs(event, schema), origin: 'data' };
}

// The native API's envelope, {"inputs": {...}}, unless the model has an input called "inputs".
function unwrapInputs(body: Json, schema: InputsSchema): Json {
  return isPlainObject(body.inputs) && !Object.hasOwn(schema, 'inputs') ? body.inputs : body;
}

/**
 * The inputs of a proxied request, by its Content-Type: JSON (an inputs object, or
 * `{"inputs": {...}}`), multipart/form-data (fields and files, with the multipart limits), or, for
 * a model with one binary input, the raw bytes (image/* or application/octet-stream) with the
 * query string's parameters as the other inputs. Anything else is 415.
 */
export async function proxyInputs(request: ProxyRequest, context: ModeContext): Promise<RawInputs> {
  const { schema, settings } = context;
  const contentType = request.headers['content-type'] ?? '';
  const mediaType = contentType.split(';', 1)[0]!.trim().toLowerCase();
  const binaryInputs = Object.entries(schema).filter(([, spec]) => isBinaryType(spec.type));
  const soleBinary = binaryInputs.length === 1 ? binaryInputs[0]![0] : undefined;
  const raw = mediaType.startsWith('image/') || mediaType === 'application/octet-stream';
  if (!(isJsonType(mediaType) || mediaType === 'multipart/form-data' || (raw && soleBinary !== undefined))) {
    const accepted = [
      'application/json',
      'multipart/form-data',
      ...(soleBinary !== undefined ? [`the raw bytes of ${soleBinary} (image/* or application/octet-stream)`] : []),
    ];
    throw new AiIntegrationError(
      'AI_ERR_UNSUPPORTED_MEDIA_TYPE',
      `the content type ${JSON.stringify(mediaType || contentType || '(none)')} is not accepted here; send ${accepted.join(', or ')}`,
    );
  }
  const body = decodeContent(request, settings.maxInputBytes);
  if (body.length === 0)
    throw new AiIntegrationError(
      'AI_ERR_MALFORMED_INPUT',
      `the request body is empty; send the inputs as ${raw ? `the bytes of ${soleBinary}` : 'application/json or multipart/form-data'}`,
    );
  if (raw) {
    const inputs: Json = { ...request.query };
    setOwn(inputs, soleBinary!, body);
    return { raw: inputs, origin: 'text' };
  }
  if (mediaType === 'multipart/form-data') {
    // The core's multipart reader streams a request; the gateway has given the body whole, so it
    // reads it from a stream of that one buffer, with the same limits and the same errors.
    const stream = Object.assign(Readable.from([body]), { headers: { 'content-type': contentType } }) as unknown as IncomingMessage;
    return { raw: await readMultipart(stream, { encoding: 'identity', limit: settings.maxInputBytes }, settings.http), origin: 'text' };
  }
  return { raw: unwrapInputs(parseJsonObject(body), schema), origin: 'data' };
}

const decoders = { gzip: gunzipSync, 'x-gzip': gunzipSync, deflate: inflateSync, br: brotliDecompressSync } as const;

// A gateway passes a compressed body through (as base64, when its media type is binary to it).
function decodeContent(request: ProxyRequest, limit: number): Buffer {
  const coding = (request.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (coding === 'identity' || coding === '') return request.body;
  if (!Object.hasOwn(decoders, coding)) {
    throw new AiIntegrationError(
      'AI_ERR_UNSUPPORTED_MEDIA_TYPE',
      `the content encoding ${JSON.stringify(request.headers['content-encoding'])} is not accepted; send the body as is, or with one of gzip, deflate or br`,
    );
  }
  try {
    return decoders[coding as keyof typeof decoders](request.body, { maxOutputLength: limit });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(limit);
    throw new AiIntegrationError(
      'AI_ERR_MALFORMED_INPUT',
      `the request body is not valid ${coding} data (${(error as Error).message}), as its Content-Encoding says`,
    );
  }
}

function parseJsonObject(bytes: Buffer): Json {
  if (!isUtf8(bytes)) throw new AiIntegrationError('AI_ERR_MALFORMED_INPUT', 'the request body is not valid UTF-8');
  let text = bytes.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new AiIntegrationError('AI_ERR_MALFORMED_INPUT', `the request body is not valid JSON (${(error as Error).message})`);
  }
  if (!isPlainObject(body))
    throw new AiIntegrationError('AI_ERR_MALFORMED_INPUT', `expected a JSON object of inputs (or {"inputs": {...}}), got ${describeType(body)}`);
  return body;
}
