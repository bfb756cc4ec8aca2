import { closeSync, fdatasync, openSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { promisify } from 'node:util';
import { createHash } from 'node:crypto';
import type { Dispatcher } from 'undici';
import { BackgroundFlush } from './background-flush.js';
import { type DownloadOptions, type Downloaded, PermanentDownloadError } from './download-types.js';

export { type DownloadOptions, type Downloaded, describeCause, PermanentDownloadError } from './download-types.js';
import { HashFollower } from './hash-follower.js';
import { PieceWriter } from './piece-writer.js';
import { isPlainHttp, plainGet, UnusualAnswerError } from './plain-http-get.js';
import { downloadRanges, header, type Transport } from './ranged-download.js';
import { receive } from './receive.js';
import { removePartial } from './partial-state.js';
import { SyncPieceWriter } from './sync-piece-writer.js';

// No byte for this long (connecting, waiting for the head, or in the body) fails the try.
const idleTimeoutMs = 30_000;
const timeouts = { headersTimeout: idleTimeoutMs, bodyTimeout: idleTimeoutMs };
// Each connection of the plain client reads into one buffer of this size, reused for every read.
const readBufferBytes = 2 * 2 ** 20;

/**
 * Downloads `url` into the partial file and resolves with its sha256 and size. Where the server
 * takes Range requests, the file is fetched in pieces over several connections (downloadRanges),
 * resumable; otherwise it is one stream, hashed as it arrives. Plain http:// goes through our own
 * client (plainGet) while the answers are the plain ones a file server gives; a redirect, another
 * framing or https:// goes through undici.
 */
export async function downloadHttp(options: DownloadOptions): Promise<Downloaded> {
  if (isPlainHttp(options.url)) {
    try {
      return await downloadPlain(options);
    } catch (error) {
      // Only the first answer can be unusual here (before anything is written): undici takes it from the start.
      if (!(error instanceof UnusualAnswerError)) throw error;
    }
  }
  return downloadWithUndici(options);
}

const plainTransport = (url: string): Transport => ({
  reusesBuffer: true,
  connection() {
    const buffer = Buffer.allocUnsafe(readBufferBytes);
    return (headers, signal, receiver) => plainGet(url, headers, signal, receiver, { buffer, timeoutMs: idleTimeoutMs });
  },
});

/**
 * The plain client's download: one byte first, whose answer says the size, whether ranges are
 * served and the validator. A server without ranges answers 200 with the whole file: that answer
 * is the download, written and hashed in order as it arrives. Any other answer than 206 or 200
 * with Content-Length (a redirect, 416, a refusal, a Content-Range without the total) is unusual.
 */
async function downloadPlain(options: DownloadOptions): Promise<Downloaded> {
  const transport = plainTransport(options.url);
  let ranges: { size: number; validator: string | undefined } | undefined;
  let stream: InOrderFile | undefined;
  try {
    await transport.connection()({ ...(await options.headers?.()), range: 'bytes=0-0' }, options.signal, {
      start(status, headers) {
        if (status === 206) {
          const total = /^bytes 0-0\/(\d+)$/.exec(String(headers['content-range'] ?? '').trim())?.[1];
          if (total === undefined) throw new UnusualAnswerError(`the server answered bytes=0-0 with Content-Range ${headers['content-range']}`);
          ranges = { size: Number(total), validator: header(headers.etag) ?? header(headers['last-modified']) };
        } else if (status === 200 && !options.alsoHash?.length) {
          const length = Number(String(headers['content-length']).split(',')[0]);
          removePartialSync(options);
          options.onStart(length, 0);
          stream = new InOrderFile(options.partialPath);
        } else {
          // A redirect, 416 (an empty file), a refusal (undici reads its reason from the body): undici asks again.
          throw new UnusualAnswerError(`the server answered ${status}`);
        }
      },
      data(chunk) {
        if (!stream) return;
        stream.writer.push(chunk);
        options.onBytes(chunk.length);
      },
    });
    if (stream) return await stream.finish();
  } catch (error) {
    await stream?.abandon();
    throw error;
  }
  if (!ranges) throw new UnusualAnswerError('the server sent no answer');
  return downloadRanges(options, transport, ranges.size, ranges.validator);
}

const removePartialSync = (options: DownloadOptions) => {
  for (const path of [options.partialPath, options.statePath, `${options.statePath}.tmp`]) rmSync(path, { force: true });
};

/** A file written from the start in order, each chunk at once and hashed from memory (a server without ranges, through plainGet). */
class InOrderFile {
  private readonly fd: number;
  private readonly inOrder = { hash: createHash('sha256'), hashed: 0 };
  private readonly flusher: BackgroundFlush;
  readonly writer: SyncPieceWriter;

  constructor(path: string) {
    const fd = openSync(path, 'w');
    this.fd = fd;
    this.flusher = new BackgroundFlush({ datasync: () => promisify(fdatasync)(fd) });
    this.writer = new SyncPieceWriter(fd, 0, (bytes) => this.flusher.written(bytes), this.inOrder);
  }

  async finish(): Promise<Downloaded> {
    try {
      await this.flusher.settled();
    } finally {
      closeSync(this.fd);
    }
    const sha256 = this.inOrder.hash.digest('hex');
    return { sha256, size: this.inOrder.hashed, hashes: { sha256 } };
  }

  async abandon(): Promise<void> {
    await this.flusher.settled().catch(() => {});
    closeSync(this.fd);
  }
}

/** undici's download: every answer it can take, redirects followed; https:// and whatever plainGet finds unusual. */
async function downloadWithUndici(options: DownloadOptions): Promise<Downloaded> {
  // Imported here: plain http:// never needs it.
  const { Agent, interceptors, request } = await import('undici');
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
      const transport: Transport = {
        reusesBuffer: false,
        connection: () => (headers, signal, receiver) => receive(dispatcher, options.url, headers, signal, receiver),
      };
      return await downloadRanges(options, transport, Number(total), validator);
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
  const { request } = await import('undici');
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
