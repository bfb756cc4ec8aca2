import type { IncomingMessage } from 'node:http';
import busboy from 'busboy';
import { AiIntegrationError } from '../../src/errors.js';
import type { HttpSettings } from '../../src/types.js';

/** The media type of a request body, lower-cased, without parameters ('' when there is none). */
export function mediaTypeOf(request: IncomingMessage): string {
  // Only the type matters here; busboy parses the parameters (the boundary) itself.
  const header = request.headers['content-type'] ?? '';
  const end = header.indexOf(';');
  return (end === -1 ? header : header.slice(0, end)).trim().toLowerCase();
}

function tooLarge(limit: number): AiIntegrationError {
  return new AiIntegrationError('AI_ERR_INPUT_TOO_LARGE', `the request body is larger than ${limit} bytes (the limit; raise it with MAX_INPUT_BYTES)`);
}

/** Refuses a body whose declared length is over the limit before reading a byte of it. */
export function checkDeclaredLength(request: IncomingMessage, limit: number): void {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
}

/** Reads a JSON body, stopping with 413 as soon as it passes the limit. */
export async function readJsonBody(request: IncomingMessage, limit: number): Promise<unknown> {
  checkDeclaredLength(request, limit);
  // Plain stream events: an async iterator per request costs more than the rest of a small body.
  const text = await new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const onData = (chunk: Buffer) => {
      total += chunk.length;
      if (total > limit) {
        request.off('data', onData);
        request.pause();
        reject(tooLarge(limit));
      } else chunks.push(chunk);
    };
    request.on('data', onData);
    request.once('end', () => resolve(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks, total).toString('utf8')));
    request.once('error', () => reject(new AiIntegrationError('AI_ERR_MALFORMED_INPUT', 'the client closed the connection during the upload')));
  });
  if (text.trim() === '') throw new AiIntegrationError('AI_ERR_MALFORMED_INPUT', 'the request body is empty; expected {"inputs": {...}}');
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new AiIntegrationError('AI_ERR_MALFORMED_INPUT', `the request body is not valid JSON (${(error as Error).message})`);
  }
}

/** A multipart body's fields (strings) and files (Buffers), by name; the last part of a name wins. */
export type FormValues = Record<string, string | Buffer>;

/**
 * Streams a multipart/form-data body through busboy. Files are gathered up to the body limit
 * and no further; too many parts, fields or files, or a part over the limit, stop it with 413; a
 * malformed body or a client that goes away end it with 400.
 */
export function readMultipart(request: IncomingMessage, limit: number, settings: HttpSettings): Promise<FormValues> {
  checkDeclaredLength(request, limit);
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: request.headers,
        limits: { fileSize: limit, fieldSize: limit, files: settings.maxFiles, fields: settings.maxFields, parts: settings.maxParts },
      });
    } catch (error) {
      reject(new AiIntegrationError('AI_ERR_MALFORMED_INPUT', `the multipart body cannot be read: ${(error as Error).message}`));
      return;
    }
    const values: FormValues = {};
    let total = 0;
    let failed = false;
    const fail = (error: AiIntegrationError) => {
      if (failed) return;
      failed = true;
      request.unpipe(parser);
      parser.removeAllListeners();
      parser.on('error', () => {}); // later complaints from a parser we gave up on
      reject(error);
    };
    const count = (bytes: number) => {
      total += bytes;
      if (total > limit) fail(tooLarge(limit));
    };
    // A field named __proto__ must stay data, not replace the prototype.
    const store = (name: string, value: string | Buffer) => {
      if (name === '__proto__') Object.defineProperty(values, name, { value, enumerable: true, writable: true, configurable: true });
      else values[name] = value;
    };

    parser.on('file', (name, stream, info) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => {
        if (failed) return;
        count(chunk.length);
        if (!failed) chunks.push(chunk);
      });
      stream.on('limit', () => fail(tooLarge(limit)));
      stream.on('end', () => {
        // A form's empty file picker sends a part with no file name and no bytes: not given.
        if (!failed && !(info.filename === undefined || (info.filename === '' && chunks.length === 0))) store(name, Buffer.concat(chunks));
      });
    });
    parser.on('field', (name, value, info) => {
      if (info.valueTruncated) fail(tooLarge(limit));
      else if (!failed) {
        count(Buffer.byteLength(value));
        store(name, value);
      }
    });
    for (const [event, what] of [['filesLimit', `files (the limit is ${settings.maxFiles}, MAX_FILES)`], ['fieldsLimit', `fields (the limit is ${settings.maxFields}, MAX_FIELDS)`], ['partsLimit', `parts (the limit is ${settings.maxParts}, MAX_PARTS)`]] as const) {
      parser.on(event, () => fail(new AiIntegrationError('AI_ERR_INPUT_TOO_LARGE', `the multipart body has too many ${what}`)));
    }
    parser.on('error', (error: Error) => fail(new AiIntegrationError('AI_ERR_MALFORMED_INPUT', `the multipart body is malformed: ${error.message}`)));
    parser.on('close', () => {
      if (!failed) resolve(values);
    });
    request.on('aborted', () => fail(new AiIntegrationError('AI_ERR_MALFORMED_INPUT', 'the client closed the connection during the upload')));
    request.on('error', () => fail(new AiIntegrationError('AI_ERR_MALFORMED_INPUT', 'the client closed the connection during the upload')));
    request.pipe(parser);
  });
}
