import { isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type busboyModule from 'busboy';
import { AiIntegrationError, InvalidInputError } from '../errors.js';
import { isJsonType } from '../media-type.js';
import { plural } from '../plural.js';
import type { HttpSettings } from '../types.js';
import type { BodyReservation } from './body-budget.js';
import { FileGathering } from './file-gathering.js';
import { gatherBuffer, type GatherBuffer } from '../inputs/gather-buffer.js';
import { setOwn } from '../inputs/safe-record.js';
import { requireOnFirstUse } from '../require-on-first-use.js';

// Loaded by the first multipart body, synchronously: the parser must be listening before this turn of the event loop ends.
const loadBusboy = requireOnFirstUse<typeof busboyModule>('busboy');

/** The media type of a request body, lower-cased, without parameters ('' when there is none). */
export function mediaTypeOf(request: IncomingMessage): string {
  // Only the type matters here; busboy parses the parameters (the boundary) itself.
  const header = request.headers['content-type'] ?? '';
  const end = header.indexOf(';');
  return (end === -1 ? header : header.slice(0, end)).trim().toLowerCase();
}

/** A content coding the server decodes; `identity` is no coding at all. */
export type ContentEncoding = 'identity' | 'gzip' | 'deflate' | 'br';

const decoders = { gzip: createGunzip, deflate: createInflate, br: createBrotliDecompress } as const;
const encodingNames = { identity: 'identity', gzip: 'gzip', deflate: 'deflate', br: 'brotli (br)' } as const;

/** The request body's content coding; 415 for one the server cannot decode. */
export function contentEncodingOf(request: IncomingMessage): ContentEncoding {
  const header = request.headers['content-encoding'];
  if (header === undefined) return 'identity';
  const codings = header
    .toLowerCase()
    .split(',')
    .map((coding) => coding.trim())
    .filter((coding) => coding !== '' && coding !== 'identity');
  if (codings.length === 0) return 'identity';
  // One decoder per request: a list of codings would let one header stack up zlib streams.
  const coding = codings.length === 1 ? (codings[0] === 'x-gzip' ? 'gzip' : codings[0]!) : undefined;
  if (coding !== undefined && Object.hasOwn(decoders, coding)) return coding as ContentEncoding;
  throw new AiIntegrationError(
    'AI_ERR_UNSUPPORTED_MEDIA_TYPE',
    `the content encoding ${JSON.stringify(header)} is not accepted; send the body as is, or with one of gzip, deflate or br`,
  );
}

function tooLarge(limit: number): AiIntegrationError {
  return new AiIntegrationError(
    'AI_ERR_INPUT_TOO_LARGE',
    `the request body is larger than ${plural(limit, 'byte')} (the limit; raise it with MAX_INPUT_BYTES)`,
  );
}

const clientGone = () => new AiIntegrationError('AI_ERR_MALFORMED_INPUT', 'the client closed the connection during the upload');

/** Refuses a body whose declared length is over the limit before reading a byte of it. */
export function checkDeclaredLength(request: IncomingMessage, limit: number): void {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
}

/** How a body is read: its coding, the limit on its decoded size, and its share of the body budget. */
export interface BodyReading {
  encoding: ContentEncoding;
  limit: number;
  reservation?: BodyReservation | undefined;
}

/**
 * The stream of a body's decoded bytes: the request itself, or a zlib decoder it is piped into.
 * `stop` ends the reading for good: the decoder is dropped, and so is the rest of the body as it
 * arrives, until the connection closes after the answer (a paused request would hold the
 * client's bytes unread, which makes the close a reset).
 */
function decodedBody(
  request: IncomingMessage,
  encoding: ContentEncoding,
  onInvalid: (error: AiIntegrationError) => void,
): { source: Readable; stop: () => void } {
  if (encoding === 'identity') return { source: request, stop: () => request.resume() };
  const decoder = decoders[encoding]();
  decoder.on('error', (error: Error) =>
    onInvalid(
      new AiIntegrationError(
        'AI_ERR_MALFORMED_INPUT',
        `the request body is not valid ${encodingNames[encoding]} data (${error.message}), as its Content-Encoding says`,
      ),
    ),
  );
  request.pipe(decoder);
  return {
    source: decoder,
    stop: () => {
      request.unpipe(decoder);
      decoder.destroy();
      request.resume();
    },
  };
}

/**
 * The length a body sent as is declares (Content-Length), when it is within `limit`: its bytes
 * can be gathered into one buffer of that size as they arrive. Node's parser holds the client to
 * it, so no more bytes than that can come.
 */
export function declaredBodyLength(request: Readable & { headers?: IncomingMessage['headers'] }, encoding: ContentEncoding, limit: number): number | undefined {
  if (encoding !== 'identity') return undefined;
  const header = request.headers?.['content-length'];
  const declared = header === undefined ? Number.NaN : Number(header);
  return Number.isSafeInteger(declared) && declared > 0 && declared <= limit ? declared : undefined;
}

/** Reads a body whole (decoded), stopping with 413 as soon as it passes the limit, 503 when the budget has no room, or 408 when it stalls or trickles. */
export function collectBody(request: IncomingMessage, { encoding, limit, reservation }: BodyReading): Promise<Buffer> {
  // Plain stream events: an async iterator per request costs more than the rest of a small body.
  return new Promise<Buffer>((resolve, reject) => {
    // A body of a declared length is copied into one buffer of that length as it arrives: chunks
    // kept until the end and then concatenated would hold the body twice at the end. One that
    // declares none (chunked, compressed) is gathered in chunks.
    const declared = declaredBodyLength(request, encoding, limit);
    let whole: Buffer | undefined;
    let gathering: GatherBuffer | undefined;
    const chunks: Buffer[] = [];
    let total = 0;
    let done = false;
    const finish = (error?: AiIntegrationError) => {
      if (done) return;
      done = true;
      reservation?.endReading();
      if (error === undefined) {
        if (whole) resolve(total === whole.length ? whole : whole.subarray(0, total));
        else resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total));
        return;
      }
      source.off('data', onData);
      stop();
      reject(error);
    };
    const { source, stop } = decodedBody(request, encoding, finish);
    reservation?.onTooSlow(finish);
    const onData = (chunk: Buffer) => {
      const at = total;
      total += chunk.length;
      if (total > limit) finish(tooLarge(limit));
      else if (reservation !== undefined && !reservation.cover(total)) finish(reservation.refusal(total));
      else if (whole && total <= whole.length) gathering!.write(chunk, at);
      else if (whole) {
        // More than declared (only a stream that does not hold its client to Content-Length): on in chunks.
        chunks.push(whole.subarray(0, at), chunk);
        whole = undefined;
      }
      // The first chunk: the whole body as it is, or the start of the buffer it is copied into.
      else if (at === 0 && declared !== undefined && declared > chunk.length) {
        gathering = gatherBuffer(declared, !isJsonType(mediaTypeOf(request)), reservation);
        whole = gathering.bytes;
        gathering.write(chunk, 0);
      } else chunks.push(chunk);
    };
    source.on('data', onData);
    source.once('end', () => finish());
    request.once('error', () => finish(clientGone()));
  });
}

const byteOrderMark = 0xfeff;

/** What a protocol's JSON body looks like: named in errors, and the key whose object holds the inputs. */
export interface JsonShape {
  /** How the body should look, for the error on an empty body: `{"inputs": {...}}`. */
  expected: string;
  /** The key of the object of inputs, so that bad UTF-8 inside one is a 422 naming it. */
  envelope?: string;
}

const nativeShape: JsonShape = { expected: '{"inputs": {...}}', envelope: 'inputs' };

/** Reads a JSON body: decoded, within the limit, UTF-8 (a byte-order mark is skipped), parsed. */
export async function readJsonBody(request: IncomingMessage, reading: BodyReading, shape: JsonShape = nativeShape): Promise<unknown> {
  return parseJsonBytes(await collectBody(request, reading), shape);
}

/** Parses a JSON body's bytes: UTF-8 (a byte-order mark is skipped); 400 when empty or not JSON, 422 or 400 when not UTF-8. */
export function parseJsonBytes(bytes: Buffer, shape: JsonShape = nativeShape): unknown {
  const utf8 = isUtf8(bytes);
  let text = bytes.toString('utf8');
  if (text.charCodeAt(0) === byteOrderMark) text = text.slice(1);
  if (text.trim() === '') throw new AiIntegrationError('AI_ERR_MALFORMED_INPUT', `the request body is empty; expected ${shape.expected}`);
  let body: unknown;
  try {
    body = JSON.parse(text) as unknown;
  } catch (error) {
    throw new AiIntegrationError('AI_ERR_MALFORMED_INPUT', `the request body is not valid JSON (${(error as Error).message})`);
  }
  // Decoding replaced the bad bytes with U+FFFD; a model must never see that silently.
  if (!utf8) throw notUtf8(bytes, shape.envelope);
  return body;
}

/**
 * The error for a JSON body that is not UTF-8: 422 naming the input whose value holds the first
 * bad bytes, or 400 when they are outside any input's value (a key, the envelope). Only called
 * once the body is known to be bad, so a plain scan is fast enough. JSON's structure is ASCII and
 * no byte of a multi-byte UTF-8 sequence is, so the scan walks bytes, bad ones included.
 */
function notUtf8(body: Buffer, envelopeKey: string | undefined): AiIntegrationError {
  // Open objects and arrays, outermost first; an object's key is the one whose value is being read.
  const open: { object: boolean; key: string | undefined; wantsKey: boolean }[] = [];
  for (let index = 0; index < body.length; index++) {
    const top = open.at(-1);
    switch (body[index]) {
      case 0x7b: // {
        open.push({ object: true, key: undefined, wantsKey: true });
        break;
      case 0x5b: // [
        open.push({ object: false, key: undefined, wantsKey: false });
        break;
      case 0x7d: // }
      case 0x5d: // ]
        open.pop();
        break;
      case 0x3a: // :
        if (top) top.wantsKey = false;
        break;
      case 0x2c: // ,
        if (top?.object) top.wantsKey = true;
        break;
      case 0x22: {
        // "
        let end = index + 1;
        while (end < body.length && body[end] !== 0x22) end += body[end] === 0x5c ? 2 : 1;
        const isKey = top?.object === true && top.wantsKey;
        if (!isUtf8(body.subarray(index + 1, end))) {
          const [envelope, inputs] = open;
          const inAnInput =
            envelopeKey !== undefined && envelope?.key === envelopeKey && inputs?.object === true && inputs.key !== undefined && !(open.length === 2 && isKey);
          if (inAnInput) return new InvalidInputError(inputs.key!, 'the value is not valid UTF-8; send text as UTF-8, and binary data as base64');
          return notUtf8Body();
        }
        if (isKey) top.key = JSON.parse(body.toString('utf8', index, end + 1)) as string;
        index = end;
        break;
      }
    }
  }
  return notUtf8Body();
}

const notUtf8Body = () => new AiIntegrationError('AI_ERR_MALFORMED_INPUT', 'the request body is not valid UTF-8');

/** A multipart body's fields (strings) and files (Buffers), by name; the last part of a name wins. */
export type FormValues = Record<string, string | Buffer>;

// Non-ASCII in a field read as latin1 (one character per byte); above U+00FF, a decoder for a
// charset the part declared has run, and its text stands as it is.
const nonAscii = /[^\x00-\x7f]/;
const beyondLatin1 = /[^\x00-\xff]/;

/**
 * Streams a multipart/form-data body (decoded) through busboy. Files are gathered up to the body
 * limit and no further; too many parts, fields or files, or a part over the limit, stop it with
 * 413; no room in the body budget stops it with 503, a body that stalls or trickles with 408; a malformed body or a client that goes away
 * end it with 400, and a text field that is not UTF-8 with 422 naming it.
 */
export function readMultipart(request: IncomingMessage, reading: BodyReading, settings: HttpSettings): Promise<FormValues> {
  const { limit, reservation } = reading;
  const busboy = loadBusboy();
  return new Promise((resolve, reject) => {
    let parser: busboyModule.Busboy;
    try {
      parser = busboy({
        headers: request.headers,
        // busboy decodes fields itself, and as UTF-8 it would replace bad bytes without a word;
        // latin1 keeps every byte, to be decoded strictly below.
        defCharset: 'latin1',
        limits: { fileSize: limit, fieldSize: limit, files: settings.maxFiles, fields: settings.maxFields, parts: settings.maxParts },
      });
    } catch (error) {
      reading.reservation?.endReading();
      reject(new AiIntegrationError('AI_ERR_MALFORMED_INPUT', `the multipart body cannot be read: ${(error as Error).message}`));
      return;
    }
    const values: FormValues = {};
    let total = 0;
    let done = false;
    const finish = (error?: AiIntegrationError) => {
      if (done) return;
      done = true;
      reservation?.endReading();
      if (error === undefined) {
        resolve(values);
        return;
      }
      source.unpipe(parser);
      stop();
      parser.removeAllListeners();
      parser.on('error', () => {}); // later complaints from a parser we gave up on
      reject(error);
    };
    const { source, stop } = decodedBody(request, reading.encoding, finish);
    reservation?.onTooSlow(finish);
    const count = (bytes: number) => {
      total += bytes;
      if (total > limit) finish(tooLarge(limit));
      else if (reservation !== undefined && !reservation.cover(total)) finish(reservation.refusal(total));
    };

    const files = new FileGathering(declaredBodyLength(request, reading.encoding, limit), reservation);
    parser.on('file', (name, stream, info) => {
      const file = files.file();
      stream.on('data', (chunk: Buffer) => {
        if (done) return;
        count(chunk.length);
        if (!done) file.append(chunk);
      });
      stream.on('limit', () => finish(tooLarge(limit)));
      stream.on('end', () => {
        // A form's empty file picker sends a part with no file name and no bytes: not given.
        if (!done && !(info.filename === undefined || (info.filename === '' && file.length === 0))) setOwn(values, name, file.bytes());
      });
    });
    parser.on('field', (name, value, info) => {
      if (done) return;
      if (info.valueTruncated) {
        finish(tooLarge(limit));
        return;
      }
      let text = value;
      if (nonAscii.test(value) && !beyondLatin1.test(value)) {
        const bytes = Buffer.from(value, 'latin1');
        if (!isUtf8(bytes)) {
          finish(new InvalidInputError(name, 'the field is not valid UTF-8; send text as UTF-8, and binary data as a file'));
          return;
        }
        text = bytes.toString('utf8');
      }
      count(value.length);
      if (!done) setOwn(values, name, text);
    });
    for (const [event, what] of [
      ['filesLimit', `files (the limit is ${settings.maxFiles}, MAX_FILES)`],
      ['fieldsLimit', `fields (the limit is ${settings.maxFields}, MAX_FIELDS)`],
      ['partsLimit', `parts (the limit is ${settings.maxParts}, MAX_PARTS)`],
    ] as const) {
      parser.on(event, () => finish(new AiIntegrationError('AI_ERR_INPUT_TOO_LARGE', `the multipart body has too many ${what}`)));
    }
    parser.on('error', (error: Error) => finish(new AiIntegrationError('AI_ERR_MALFORMED_INPUT', `the multipart body is malformed: ${error.message}`)));
    parser.on('close', () => finish());
    request.on('aborted', () => finish(clientGone()));
    request.on('error', () => finish(clientGone()));
    source.pipe(parser);
  });
}
