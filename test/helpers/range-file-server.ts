import { createHash } from 'node:crypto';
import { createReadStream, openSync, closeSync, statSync, writeSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';

/** A request the server saw: its method, path, Range and Connection headers. */
export interface SeenRequest {
  method: string;
  path: string;
  range: string | undefined;
  /** `close` from the weights fetcher's own client (a connection per request), `keep-alive` from undici. */
  connection: string | undefined;
}

/** A file server on loopback that serves Range requests (206) the way object stores do, and lets a test cut or hold a body. */
export interface RangeFileServer {
  url(name: string): string;
  requests: SeenRequest[];
  /** GETs of `name` (each range is one). */
  gets(name: string): SeenRequest[];
  /** The first answer whose body reaches `bytes` bytes is cut there (its socket destroyed), once; the `refuseAfter` GETs after it are refused with 503. */
  cutNextAfter(bytes: number, refuseAfter?: number): void;
  /** Every answer holds after `bytes` bytes of its body until release(); `reached` resolves when one does. */
  holdAfter(bytes: number): { reached: Promise<void>; release(): void };
  close(): Promise<void>;
}

/** Serves `files` (name to path) on 127.0.0.1 with ETag, Accept-Ranges and 206 answers to `Range: bytes=a-b`. */
export async function startRangeFileServer(files: Record<string, string>, options: { ranges?: boolean } = {}): Promise<RangeFileServer> {
  const requests: SeenRequest[] = [];
  let cut: number | undefined;
  let refuseAfterCut = 0;
  let refusing = 0;
  let hold: { bytes: number; reached: () => void; released: Promise<void> } | undefined;
  const server = createServer((request, response) => {
    const path = decodeURIComponent((request.url ?? '/').split('?')[0]!.slice(1));
    requests.push({ method: request.method ?? '', path, range: request.headers.range, connection: request.headers.connection });
    const file = files[path];
    if (file === undefined) {
      response.writeHead(404).end('not found');
      return;
    }
    if (refusing > 0) {
      refusing -= 1;
      response.writeHead(503).end('try later');
      return;
    }
    const { size, mtimeMs } = statSync(file);
    const etag = `"${size}-${Math.trunc(mtimeMs)}"`;
    const range = options.ranges === false ? undefined : /^bytes=(\d+)-(\d*)$/.exec(request.headers.range ?? '');
    const ifRange = request.headers['if-range'];
    if (range && (ifRange === undefined || ifRange === etag)) {
      const start = Number(range[1]);
      const end = range[2] === '' ? size - 1 : Math.min(Number(range[2]), size - 1);
      if (start >= size) {
        response.writeHead(416, { 'content-range': `bytes */${size}` }).end();
        return;
      }
      response.writeHead(206, { 'content-range': `bytes ${start}-${end}/${size}`, 'content-length': end - start + 1, etag, 'accept-ranges': 'bytes' });
      void send(response, file, start, end);
      return;
    }
    response.writeHead(200, { 'content-length': size, etag, ...(options.ranges === false ? {} : { 'accept-ranges': 'bytes' }) });
    void send(response, file, 0, size - 1);
  });

  async function send(response: ServerResponse, file: string, start: number, end: number): Promise<void> {
    if (end < start) {
      response.end();
      return;
    }
    let sent = 0;
    for await (const data of createReadStream(file, { start, end, highWaterMark: 256 * 1024 }) as AsyncIterable<Buffer>) {
      let piece = data;
      if (cut !== undefined && sent + piece.length >= cut) {
        const cutAfter = cut;
        cut = undefined;
        refusing = refuseAfterCut;
        response.write(piece.subarray(0, cutAfter - sent), () => response.socket?.destroy());
        return;
      }
      const held = hold;
      if (held && sent < held.bytes && sent + piece.length >= held.bytes) {
        const before = piece.subarray(0, held.bytes - sent);
        response.write(before);
        sent += before.length;
        piece = piece.subarray(before.length);
        held.reached();
        await held.released;
      }
      sent += piece.length;
      if (!response.write(piece)) await once(response, 'drain');
      if (response.destroyed) return;
    }
    response.end();
  }

  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: (name) => `http://127.0.0.1:${port}/${name}`,
    requests,
    gets: (name) => requests.filter((request) => request.method === 'GET' && request.path === name),
    cutNextAfter(bytes, refuseAfter = 0) {
      cut = bytes;
      refuseAfterCut = refuseAfter;
    },
    holdAfter(bytes) {
      let reached!: () => void;
      let release!: () => void;
      const reachedPromise = new Promise<void>((resolve) => (reached = resolve));
      const released = new Promise<void>((resolve) => (release = resolve));
      hold = { bytes, reached, released };
      return {
        reached: reachedPromise,
        release: () => {
          hold = undefined;
          release();
        },
      };
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Writes `megabytes` MiB of bytes that do not repeat (each MiB a pseudo-random block with its
 * index in front) to `path`, the same every time; resolves with their sha256.
 */
export function writeTestFile(path: string, megabytes: number, seed = 'weights'): string {
  const block = Buffer.alloc(2 ** 20);
  for (let offset = 0, counter = 0; offset < block.length; offset += 32, counter += 1) {
    createHash('sha256').update(`${seed}:${counter}`).digest().copy(block, offset);
  }
  const hash = createHash('sha256');
  const fd = openSync(path, 'w');
  try {
    for (let index = 0; index < megabytes; index += 1) {
      block.writeUInt32BE(index, 0);
      hash.update(block);
      writeSync(fd, block);
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}
