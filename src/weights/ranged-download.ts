import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { BackgroundFlush } from './background-flush.js';
import { type DownloadOptions, type Downloaded, describeCause, PermanentDownloadError } from './download-types.js';
import { writtenPrefix } from './hash-follower.js';
import { bytesDone, type Piece, planPieces, readPartialState, removePartial, writePartialState } from './partial-state.js';
import { PieceWriter } from './piece-writer.js';
import { fileHasher } from './read-back-hash.js';
import { UnusualAnswerError } from './plain-http-get.js';
import type { Receiver } from './receive.js';
import { type InOrderHash, SyncPieceWriter } from './sync-piece-writer.js';

/** GETs the URL with these headers and hands the answer to the receiver (`receive` over undici, or `plainGet`). */
export type Get = (headers: Record<string, string>, signal: AbortSignal, receiver: Receiver) => Promise<void>;

/** How the pieces are fetched: `connection` makes the GET of one connection. */
export interface Transport {
  connection(): Get;
  /**
   * Whether each chunk lives in a read buffer the next read reuses (plainGet): it is then written
   * at once, and, when one connection fetches the file in order, hashed from memory.
   */
  reusesBuffer: boolean;
}

// A connection that fails is tried again this often in a row (each try that brings bytes starts the count again).
const triesInARow = 5;

/**
 * Fetches a file of `size` bytes whose server takes Range requests, in pieces over several
 * connections, into a partial file of its full size, with a state file beside it that says what
 * is done, so that an interrupted download (a cut connection, tried again; or a process that
 * ended, started again) resumes. Its sha256 is taken from memory when one connection writes it in
 * order from the start, else by a thread that follows the written prefix, or, for a file of 8 MiB or
 * less, by one read-back once it is whole (fileHasher).
 */
export async function downloadRanges(options: DownloadOptions, transport: Transport, size: number, validator: string | undefined): Promise<Downloaded> {
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
  // (md5 and crc32c, which Cloud Storage lists, are the file hasher's: its thread has the only crc32c.)
  const inMemory = transport.reusesBuffer && options.connections === 1 && bytesDone(pieces) === 0 && !options.alsoHash?.length;
  const inOrder: InOrderHash | undefined = inMemory ? { hash: createHash('sha256'), hashed: 0 } : undefined;
  const follower = inOrder ? undefined : fileHasher(options.partialPath, size, options.alsoHash);
  follower?.written(writtenPrefix(pieces));
  const flusher = new BackgroundFlush(handle);
  // The state on disk may lag what is written (never run ahead of it): it is saved every second and at the end.
  const saved = state;
  const saver = setInterval(() => void writePartialState(options.statePath, saved).catch(() => {}), 1000);
  const stopOthers = new AbortController();
  const signal = AbortSignal.any([options.signal, stopOthers.signal]);
  const waiting = pieces.filter((piece) => piece.done < piece.length);
  const written = (bytes: number) => {
    follower?.written(writtenPrefix(pieces));
    flusher.written(bytes);
  };
  const connection = async () => {
    const get = transport.connection();
    for (let piece = waiting.shift(); piece; piece = waiting.shift()) {
      const writerAt = (from: number, onWritten: (bytes: number) => void, flow: Parameters<Receiver['start']>[2]) =>
        transport.reusesBuffer ? new SyncPieceWriter(handle.fd, from, onWritten, inOrder) : new PieceWriter(handle, from, onWritten, flow);
      await downloadPiece(options, get, writerAt, piece, size, validator, signal, written);
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
    follower?.stop();
    await Promise.all([follower?.digest().catch(() => {}), flusher.settled().catch(() => {})]);
    throw error;
  } finally {
    clearInterval(saver);
    await handle.close();
    await writePartialState(options.statePath, saved).catch(() => {});
  }
  if (inOrder) {
    const sha256 = inOrder.hash.digest('hex');
    return { sha256, size, hashes: { sha256 } };
  }
  const hashes = (await follower?.digests()) ?? {};
  return { sha256: hashes.sha256 as string, size, hashes };
}

/** What writes one answer's body at increasing positions from `from`. */
type WriterAt = (
  from: number,
  onWritten: (bytes: number) => void,
  flow: Parameters<Receiver['start']>[2],
) => { push(chunk: Buffer): void; flush(): Promise<void> };

async function downloadPiece(
  options: DownloadOptions,
  get: Get,
  writerAt: WriterAt,
  piece: Piece,
  size: number,
  validator: string | undefined,
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
    let writer: ReturnType<WriterAt> | undefined;
    let received = 0;
    try {
      try {
        await get(headers, signal, {
          start(status, responseHeaders, flow) {
            if (status !== 206) {
              throw new PermanentDownloadError(
                status === 200 ? 'the file changed on the server during the download' : `the server answered ${status} to a Range request`,
              );
            }
            const contentRange = String(header(responseHeaders['content-range']) ?? '').trim();
            const range = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(contentRange);
            if (!range || Number(range[1]) !== from || Number(range[2]) !== to || Number(range[3]) !== size) {
              throw new PermanentDownloadError(`the server answered bytes ${from}-${to} with ${contentRange === '' ? 'no Content-Range' : contentRange}`);
            }
            writer = writerAt(
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
      // An unusual answer is unusual the next time too (and must not reach downloadHttp's fallback, which starts over).
      if (error instanceof UnusualAnswerError) throw new PermanentDownloadError(error.message);
      const permanent = error instanceof PermanentDownloadError;
      if (permanent || signal.aborted) throw signal.aborted && !permanent ? (signal.reason ?? error) : error;
      failures = piece.done > before ? 1 : failures + 1;
      if (failures >= triesInARow) throw error;
      options.onRetry(`bytes ${piece.start + piece.done}-${to}: ${describeCause(error)}; trying again (${failures} of ${triesInARow - 1})`);
      await delay(100 * 2 ** failures, undefined, { signal }).catch(() => {});
    }
  }
}

export const header = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);
