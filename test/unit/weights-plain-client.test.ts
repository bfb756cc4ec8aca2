// The weights fetcher's own HTTP/1.1 client (plainGet) and the downloads it carries, against
// servers on loopback in this process: the range file server the end-to-end tests use (which can
// cut a body), and raw sockets for the answers node:http would not send (a wrong Content-Range,
// a stall, headers in odd case). Requests from plainGet say `Connection: close`, undici's say
// `keep-alive`: that is how each test knows which client fetched.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type DownloadOptions, PermanentDownloadError } from '../../src/weights/download-types.js';
import { downloadHttp } from '../../src/weights/http-download.js';
import { parseHead, plainGet, UnusualAnswerError } from '../../src/weights/plain-http-get.js';
import { type RangeFileServer, startRangeFileServer, writeTestFile } from '../helpers/range-file-server.js';

const MiB = 2 ** 20;
const scratch = mkdtempSync(join(tmpdir(), 'weights-plain-'));
let file: string;
let fileSha: string;
let server: RangeFileServer;
let downloads = 0;

beforeAll(async () => {
  file = join(scratch, 'model.bin');
  fileSha = writeTestFile(file, 20);
  server = await startRangeFileServer({ 'model.bin': file });
});
afterAll(async () => {
  await server.close();
  rmSync(scratch, { recursive: true, force: true });
});

/** downloadHttp into a fresh partial file, with what it reported. */
async function download(url: string, connections: number, partial = join(scratch, `partial-${(downloads += 1)}`)) {
  const events = { starts: [] as [number | undefined, number][], bytes: 0, retries: [] as string[] };
  const options: DownloadOptions = {
    url,
    partialPath: partial,
    statePath: `${partial}.json`,
    connections,
    signal: new AbortController().signal,
    onStart: (size, resumed) => events.starts.push([size, resumed]),
    onBytes: (bytes) => (events.bytes += bytes),
    onRetry: (message) => events.retries.push(message),
  };
  const result = await downloadHttp(options);
  const written = createHash('sha256').update(readFileSync(partial)).digest('hex');
  return { result, events, written };
}

/** A server on loopback that hands each connection's request head to `answer`, which writes what it likes on the socket. */
async function rawServer(answer: (socket: Socket, request: string) => void): Promise<{ url: string; heads: string[]; server: Server }> {
  const heads: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let text = '';
    socket.on('data', (data) => {
      text += data.toString('latin1');
      if (!text.includes('\r\n\r\n')) return;
      heads.push(text);
      answer(socket, text);
    });
  });
  server.on('close', () => {
    for (const socket of sockets) socket.destroy();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/model.bin`, heads, server };
}

const closeServer = (server: Server) => {
  server.close();
  server.emit('close');
};

describe('the weights client over plain http://', () => {
  test('fetches a file in ranges over several connections of its own, every byte in place and the sha256 right', async () => {
    server.requests.length = 0;
    const { result, events, written } = await download(server.url('model.bin'), 4);
    expect(result).toEqual({ sha256: fileSha, size: 20 * MiB, hashes: { sha256: fileSha } });
    expect(written).toBe(fileSha);
    expect(events.starts).toEqual([[20 * MiB, 0]]);
    expect(events.bytes).toBe(20 * MiB);
    const gets = server.gets('model.bin');
    expect(gets.map((request) => request.range).sort()).toEqual(['bytes=0-0', 'bytes=0-8388607', 'bytes=16777216-20971519', 'bytes=8388608-16777215']);
    expect(gets.every((request) => request.connection === 'close')).toBe(true);
  });

  test('one connection hashes in order as it writes; a body cut mid-way is tried again from the byte it reached, and the sha256 still holds', async () => {
    server.requests.length = 0;
    server.cutNextAfter(5 * MiB + 12345);
    const { result, events, written } = await download(server.url('model.bin'), 1);
    expect(result).toEqual({ sha256: fileSha, size: 20 * MiB, hashes: { sha256: fileSha } });
    expect(written).toBe(fileSha);
    const ranges = server.gets('model.bin').map((request) => request.range);
    // One connection takes the file as one piece (20 MiB: pieces are 8 to 64 MiB).
    expect(ranges.slice(0, 2)).toEqual(['bytes=0-0', 'bytes=0-20971519']);
    const resumedAt = Number(/^bytes=(\d+)-20971519$/.exec(ranges[2] ?? '')?.[1]);
    expect(resumedAt).toBeGreaterThan(0);
    expect(resumedAt).toBeLessThanOrEqual(5 * MiB + 12345);
    expect(ranges).toHaveLength(3);
    expect(events.retries).toEqual([
      expect.stringMatching(/^bytes \d+-20971519: the connection closed with \d+ bytes of the answer left; trying again \(1 of 4\)$/),
    ]);
    expect(server.gets('model.bin').every((request) => request.connection === 'close')).toBe(true);
  });

  test('a server that answers 200 to the Range request: that one answer is the download, written and hashed as it arrives', async () => {
    const plain = await startRangeFileServer({ 'model.bin': file }, { ranges: false });
    try {
      const { result, events, written } = await download(plain.url('model.bin'), 4);
      expect(result).toEqual({ sha256: fileSha, size: 20 * MiB, hashes: { sha256: fileSha } });
      expect(written).toBe(fileSha);
      expect(events.starts).toEqual([[20 * MiB, 0]]);
      expect(plain.gets('model.bin')).toEqual([{ method: 'GET', path: 'model.bin', range: 'bytes=0-0', connection: 'close' }]);
    } finally {
      await plain.close();
    }
  });

  test('a piece answered with another Content-Range fails for good, naming both; headers are read whatever their case', async () => {
    const size = 100;
    const raw = await rawServer((socket, request) => {
      const range = /\r\nrange: bytes=(\d+)-(\d+)\r\n/i.exec(request);
      const [from, to] = [Number(range?.[1]), Number(range?.[2])];
      // The probe is answered right; the piece one byte off.
      const shift = from === 0 && to === 0 ? 0 : 1;
      const body = Buffer.alloc(to - from + 1, 7);
      socket.end(
        Buffer.concat([
          Buffer.from(`HTTP/1.1 206 Partial Content\r\nCONTENT-RANGE: bytes ${from + shift}-${to + shift}/${size}\r\ncontent-LENGTH: ${body.length}\r\n\r\n`),
          body,
        ]),
      );
    });
    try {
      const failure = download(raw.url, 1);
      await expect(failure).rejects.toThrow(PermanentDownloadError);
      await expect(failure).rejects.toThrow('the server answered bytes 0-99 with bytes 1-100/100');
      expect(raw.heads.map((head) => /\r\nrange: (.*)\r\n/i.exec(head)?.[1])).toEqual(['bytes=0-0', 'bytes=0-99']);
    } finally {
      closeServer(raw.server);
    }
  });

  test('a piece without Content-Length fails for good, naming what is missing, rather than guessing where the body ends', async () => {
    const raw = await rawServer((socket, request) => {
      const probe = request.includes('range: bytes=0-0\r\n');
      socket.end(
        probe
          ? 'HTTP/1.1 206 OK\r\nContent-Range: bytes 0-0/10\r\nContent-Length: 1\r\n\r\nx'
          : 'HTTP/1.1 206 OK\r\nContent-Range: bytes 0-9/10\r\n\r\n0123456789',
      );
    });
    try {
      await expect(download(raw.url, 1)).rejects.toThrow(new PermanentDownloadError('the answer has no Content-Length'));
    } finally {
      closeServer(raw.server);
    }
  });

  test('a stalled server fails the request once no byte came for the timeout: before the head, and in the body', async () => {
    const stalled = await rawServer((socket, request) => {
      if (request.includes('range: bytes=0-9')) socket.write('HTTP/1.1 206 OK\r\nContent-Range: bytes 0-9/10\r\nContent-Length: 10\r\n\r\n01234');
    });
    try {
      const get = (range: string, timeoutMs: number) =>
        plainGet(stalled.url, { range }, new AbortController().signal, { start() {}, data() {} }, { buffer: Buffer.alloc(1024), timeoutMs });
      await expect(get('bytes=0-0', 200)).rejects.toThrow('no byte came for 0.2 s (no answer)');
      // Long enough that the answer's head (from this same process) is in before it, however busy the machine.
      await expect(get('bytes=0-9', 2000)).rejects.toThrow('no byte came for 2 s (the body stalled)');
    } finally {
      closeServer(stalled.server);
    }
  });

  test('an aborted signal ends the request with its reason', async () => {
    const stalled = await rawServer(() => {});
    try {
      const controller = new AbortController();
      const get = plainGet(stalled.url, {}, controller.signal, { start() {}, data() {} }, { buffer: Buffer.alloc(1024), timeoutMs: 60_000 });
      await once(stalled.server, 'connection');
      controller.abort(new Error('stopped'));
      await expect(get).rejects.toThrow('stopped');
    } finally {
      closeServer(stalled.server);
    }
  });

  test('what it does not take goes to undici from the start: a redirect is followed, a chunked body read', async () => {
    const redirect = await rawServer((socket) => socket.end(`HTTP/1.1 302 Found\r\nLocation: ${server.url('model.bin')}\r\nContent-Length: 0\r\n\r\n`));
    const chunked = await rawServer((socket) => socket.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n'));
    try {
      server.requests.length = 0;
      const followed = await download(redirect.url, 2);
      expect(followed.result).toEqual({ sha256: fileSha, size: 20 * MiB, hashes: { sha256: fileSha } });
      // plainGet saw the redirect (its request only); undici asked again and followed it.
      const [first, ...rest] = redirect.heads.map((head) => /\r\nconnection: (.*)\r\n/i.exec(head)?.[1]);
      expect(first).toBe('close');
      expect(rest.length).toBeGreaterThan(0);
      expect(rest.every((connection) => connection === 'keep-alive')).toBe(true);
      expect(server.gets('model.bin').every((request) => request.connection === 'keep-alive')).toBe(true);

      const read = await download(chunked.url, 1);
      const hello = createHash('sha256').update('hello').digest('hex');
      expect(read.result).toEqual({ sha256: hello, size: 5, hashes: { sha256: hello } });
      expect(chunked.heads).toHaveLength(2);
    } finally {
      closeServer(redirect.server);
      closeServer(chunked.server);
    }
  });
});

describe("the weights client's reading of an answer's head", () => {
  test('a status line and headers by lower-case name, a name given twice joined; anything else is unusual', () => {
    expect(parseHead('HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-0/5\r\nX-A: 1\r\nx-a:  2 ')).toEqual({
      status: 206,
      headers: { 'content-range': 'bytes 0-0/5', 'x-a': '1, 2' },
    });
    expect(parseHead('HTTP/1.0 200')).toEqual({ status: 200, headers: {} });
    expect(() => parseHead('HTTP/2 200 OK')).toThrow(UnusualAnswerError);
    expect(() => parseHead('ICY 200 OK')).toThrow('the answer\'s status line is "ICY 200 OK"');
    expect(() => parseHead('HTTP/1.1 200 OK\r\nX-Folded: a\r\n  b')).toThrow('the answer has a header line "  b"');
    expect(() => parseHead('HTTP/1.1 200 OK\r\nno colon')).toThrow(UnusualAnswerError);
  });
});
