import { open, type FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { Agent, type Dispatcher, interceptors, request } from 'undici';
import { BackgroundFlush } from './background-flush.js';
import { type HashName, HashFollower, writtenPrefix } from './hash-follower.js';
import { PieceWriter } from './piece-writer.js';
import { receive } from './receive.js';
import { bytesDone, type Piece, planPieces, readPartialState, removePartial, writePartialState } from './partial-state.js';

/** Where a download goes and what it reports. */
export interface DownloadOptions {
  url: string;
  partialPath: string;
  statePath: string;
  connections: number;
  signal: AbortSignal;
  /** The size, once the server said it (undefined when it does not), and the bytes already there from an earlier try. */
  onStart(size: number | undefined, resumedBytes: number): void;
  /** Bytes received (written to the file soon after, and before the download resolves or rejects). */
  onBytes(bytes: number): void;
  /** A connection failed and is tried again from where it stopped. */
  onRetry(message: string): void;
  /** Headers sent with every request, asked for each time (a bearer token that may be renewed meanwhile). */
  headers?: () => Promise<Record<string, string>>;
  /** Hashes to take besides sha256 (Cloud Storage lists an object's md5 or crc32c). */
  alsoHash?: readonly HashName[];
}

/** What was downloaded: its sha256 and size, and every hash asked for, in hex. */
export interface Downloaded {
  sha256: string;
  size: number;
  hashes: Partial<Record<HashName, string>>;
}

/** A failure that trying again cannot mend (the server refuses, the file changed). */
export class PermanentDownloadError extends Error {}

// A connection that fails is tried again this often in a row (each try that brings bytes starts the count again).
const triesInARow = 5;
const timeouts = { headersTimeout: 30_000, bodyTimeout: 30_000 };

/**
 * Downloads `url` into the partial file and resolves with its sha256 and size. Where the server
 * takes Range requests, the file is fetched in pieces over several connections into a file of
 * its full size, and a state file beside it says what is done, so that an interrupted download
 * (a cut connection, tried again; or a process that ended, started again) resumes. Otherwise it
 * is one stream, hashed as it arrives.
 */
export async function downloadHttp(options: DownloadOptions): Promise<Downloaded> {
  // (undici's redirect handler drops Authorization when a redirect leaves the origin.)
  const dispatcher = new Agent({ ...timeouts, connections: options.connections + 1 }).compose(interceptors.redirect({ maxRedirections: 5 }));
  try {
    // One byte first: its answer says the size, whether ranges are served, and the validator.
    const probe = await request(options.url, { dispatcher, signal: options.signal, headers: { ...(await options.headers?.()), range: 'bytes=0-0' } });
    if (probe.statusCode === 206) {
      const total = /\/(\d+)\s*$/.exec(String(probe.headers['content-range'] ?? ''))?.[1];
      await probe.body.dump();
      if (total === undefined) throw new PermanentDownloadError(`the server answered a Range request without the total size in Content-Range`);
      const validator = header(probe.headers.etag) ?? header(probe.headers['last-modified']);
      return await downloadRanges(options, dispatcher, Number(total), validator);
    }
    if (probe.statusCode === 200) return await downloadStream(options, probe.body, Number(probe.headers['content-length'] ?? Number.NaN));
    // An empty file has no byte 0 to range over.
    if (probe.statusCode === 416) {
      await probe.body.dump();
      return await downloadWhole(options, dispatcher);
    }
    throw new PermanentDownloadError(`the server answered ${probe.statusCode}${await refusalReason(probe.body)}`);
  } finally {
    await dispatcher.close();
  }
}

const header = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

/**
 * What a refusal's body says, for the message: the `error.message` of a JSON error (Cloud
 * Storage's, "... does not have storage.objects.get access ..."), else nothing (an HTML page is noise).
 */
async function refusalReason(body: Readable & { text(): Promise<string> }): Promise<string> {
  try {
    const text = await body.text();
    const message = (JSON.parse(text) as { error?: { message?: unknown } }).error?.message;
    return typeof message === 'string' && message.trim() !== '' ? ` (${message.trim().slice(0, 300)})` : '';
  } catch {
    return '';
  }
}

async function downloadWhole(options: DownloadOptions, dispatcher: Dispatcher): Promise<Downloaded> {
  const response = await request(options.url, { dispatcher, signal: options.signal, headers: await options.headers?.() });
  if (response.statusCode !== 200) throw new PermanentDownloadError(`the server answered ${response.statusCode}${await refusalReason(response.body)}`);
  return downloadStream(options, response.body, Number(response.headers['content-length'] ?? Number.NaN));
}

// A server without ranges: one stream, written and hashed in order; an interruption starts it over.
async function downloadStream(options: DownloadOptions, body: Readable, length: number): Promise<Downloaded> {
  await removePartial(options.partialPath, options.statePath);
  options.onStart(Number.isFinite(length) ? length : undefined, 0);
  const handle = await open(options.partialPath, 'w');
  const follower = new HashFollower(options.partialPath, undefined, options.alsoHash);
  const flusher = new BackgroundFlush(handle);
  let size = 0;
  const writer = new PieceWriter(
    handle,
    0,
    (bytes) => {
      size += bytes;
      follower.written(size);
      flusher.written(bytes);
    },
    body,
  );
  try {
    // The progress counts bytes as they arrive: a batch written at once would skip its tenths.
    body.on('data', (chunk: Buffer) => {
      writer.push(chunk);
      options.onBytes(chunk.length);
    });
    await finished(body);
    await writer.flush();
    await flusher.settled();
  } catch (error) {
    follower.stop();
    await writer.flush().catch(() => {});
    await Promise.all([follower.digest().catch(() => {}), flusher.settled().catch(() => {})]);
    throw error;
  } finally {
    await handle.close();
  }
  follower.end(size);
  return finish(follower, size);
}

async function finish(follower: HashFollower, size: number): Promise<Downloaded> {
  const hashes = (await follower.digests()) ?? {};
  return { sha256: hashes.sha256 as string, size, hashes };
}

async function downloadRanges(options: DownloadOptions, dispatcher: Dispatcher, size: number, validator: string | undefined): Promise<Downloaded> {
  const known = { url: options.url, size, validator };
  let state = await readPartialState(options.statePath, options.partialPath, known);
  if (!state) {
    await removePartial(options.partialPath, options.statePath);
    state = { ...known, pieces: planPieces(size, options.connections) };
    const created = await open(options.partialPath, 'w');
    await created.truncate(size);
    await created.close();
    await writePartialState(options.statePath, state);
  }
  options.onStart(size, bytesDone(state.pieces));
  const handle = await open(options.partialPath, 'r+');
  const { pieces } = state;
  const follower = new HashFollower(options.partialPath, size, options.alsoHash);
  follower.written(writtenPrefix(pieces));
  const flusher = new BackgroundFlush(handle);
  // The state on disk may lag what is written (never run ahead of it): it is saved every second and at the end.
  const saved = state;
  const saver = setInterval(() => void writePartialState(options.statePath, saved).catch(() => {}), 1000);
  const stopOthers = new AbortController();
  const signal = AbortSignal.any([options.signal, stopOthers.signal]);
  const waiting = pieces.filter((piece) => piece.done < piece.length);
  const written = (bytes: number) => {
    follower.written(writtenPrefix(pieces));
    flusher.written(bytes);
  };
  const connection = async () => {
    for (let piece = waiting.shift(); piece; piece = waiting.shift()) {
      await downloadPiece(options, dispatcher, piece, size, validator, handle, signal, written);
    }
  };
  try {
    await Promise.all(
      Array.from({ length: Math.min(options.connections, waiting.length) }, () =>
        connection().catch((error: unknown) => {
          stopOthers.abort(error);
          throw error;
        }),
      ),
    );
    await flusher.settled();
  } catch (error) {
    follower.stop();
    await Promise.all([follower.digest().catch(() => {}), flusher.settled().catch(() => {})]);
    throw error;
  } finally {
    clearInterval(saver);
    await handle.close();
    await writePartialState(options.statePath, saved).catch(() => {});
  }
  return finish(follower, size);
}

async function downloadPiece(
  options: DownloadOptions,
  dispatcher: Dispatcher,
  piece: Piece,
  size: number,
  validator: string | undefined,
  handle: FileHandle,
  signal: AbortSignal,
  written: (bytes: number) => void,
): Promise<void> {
  let failures = 0;
  while (piece.done < piece.length) {
    const from = piece.start + piece.done;
    const to = piece.start + piece.length - 1;
    const before = piece.done;
    // If-Range: a file changed on the server answers 200 (the whole new file), refused below, not a range of the new file.
    // (A weak ETag cannot be used there, RFC 9110 13.1.5: without it, Content-Range's total is the check.)
    const headers: Record<string, string> = { ...(await options.headers?.()), range: `bytes=${from}-${to}` };
    if (validator && !validator.startsWith('W/')) headers['if-range'] = validator;
    let writer: PieceWriter | undefined;
    let received = 0;
    try {
      try {
        await receive(dispatcher, options.url, headers, signal, {
          start(status, responseHeaders, flow) {
            if (status !== 206) {
              throw new PermanentDownloadError(
                status === 200 ? 'the file changed on the server during the download' : `the server answered ${status} to a Range request`,
              );
            }
            const contentRange = String(header(responseHeaders['content-range']) ?? '').trim();
            const range = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(contentRange);
            if (!range || Number(range[1]) !== from || Number(range[2]) !== to || Number(range[3]) !== size) {
              throw new PermanentDownloadError(`the server answered bytes ${from}-${to} with ${contentRange}`);
            }
            writer = new PieceWriter(
              handle,
              from,
              (bytes) => {
                piece.done += bytes;
                written(bytes);
              },
              flow,
            );
          },
          data(chunk) {
            received += chunk.length;
            if (received > to - from + 1) throw new Error(`the server sent more than bytes ${from}-${to}`);
            writer?.push(chunk);
            // The progress counts bytes as they arrive: a batch written at once would skip its tenths.
            options.onBytes(chunk.length);
          },
        });
      } finally {
        // What arrived before a cut is kept, so that the next try starts after it.
        await writer?.flush();
      }
      if (piece.done < piece.length) throw new Error(`the answer ended at byte ${piece.start + piece.done} of ${to + 1}`);
    } catch (error) {
      if (error instanceof PermanentDownloadError || signal.aborted)
        throw signal.aborted && !(error instanceof PermanentDownloadError) ? (signal.reason ?? error) : error;
      failures = piece.done > before ? 1 : failures + 1;
      if (failures >= triesInARow) throw error;
      options.onRetry(`bytes ${piece.start + piece.done}-${to}: ${describeCause(error)}; trying again (${failures} of ${triesInARow - 1})`);
      await delay(100 * 2 ** failures, undefined, { signal }).catch(() => {});
    }
  }
}

/** An error as one line: its message, with the system's code (ECONNRESET) where there is one. */
export function describeCause(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as NodeJS.ErrnoException).code ?? (error.cause as NodeJS.ErrnoException | undefined)?.code;
  const cause = error.cause instanceof Error && error.cause.message !== error.message ? `: ${error.cause.message}` : '';
  return `${error.message}${cause}${code && !error.message.includes(code) ? ` (${code})` : ''}`;
}
