// Request bodies as clients send them: many big uploads at once, compressed bodies, a byte-order
// mark, bytes that are not UTF-8, and bodies that pass the limit while streaming. Real HTTP over
// loopback against the fixture model.
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { FormData, request } from 'undici';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { modelSignals } from '../helpers/gates.js';
import { makePng } from '../helpers/images.js';
import { startServer, type RunningServer } from '../helpers/http-server.js';
import { everythingSentIsRead } from '../helpers/raw-connection.js';
import { fixture } from '../helpers/run-process.js';

const model = fixture('http-model.mjs');
const servers: RunningServer[] = [];
async function serve(env: Record<string, string> = {}): Promise<RunningServer> {
  const server = await startServer(model, env);
  servers.push(server);
  return server;
}
const sockets: Socket[] = [];
const signals = modelSignals();
afterAll(() => signals.remove());
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(servers.splice(0).map((server) => server.stop()));
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: { output?: any; error?: { code: string; message: string; field?: string } };
}

/** POSTs a body to /predict and reads the JSON answer. */
async function post(
  server: RunningServer,
  body: Buffer | string | FormData | Readable,
  headers: Record<string, string> = { 'content-type': 'application/json' },
): Promise<Answer> {
  const response = await request(`${server.url}/predict`, { method: 'POST', headers, body });
  return { status: response.statusCode, headers: response.headers, body: (await response.body.json()) as Answer['body'] };
}

/**
 * The status of a POST, asked again while the server answers 503 (a client it has not yet seen
 * go): polled, within 20 s, since nothing outside the server tells when it has seen the close.
 */
async function statusOnceFree(server: RunningServer, body: Buffer): Promise<number> {
  for (const deadline = Date.now() + 20_000; ; ) {
    const answer = await post(server, body);
    if (answer.status !== 503 || Date.now() > deadline) return answer.status;
    await sleep(100);
  }
}

/** Resolves once the server has read everything written to `socket` so far. */
async function serverHasRead(server: RunningServer, socket: Socket): Promise<void> {
  await new Promise<void>((resolve, reject) => socket.write('', (error) => (error ? reject(error) : resolve())));
  await everythingSentIsRead(server.url, '/health/live');
}

const json = (inputs: Record<string, unknown>) => Buffer.from(JSON.stringify({ inputs }));

/** A raw client connection: writes exactly what a test gives it, and reads the server's first answer. */
class RawClient {
  received = Buffer.alloc(0);
  readonly closed: Promise<void>;
  private arrived: (() => void) | undefined;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
      this.arrived?.();
    });
    socket.on('error', () => {}); // a reset is a close, which the tests look at
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    void this.closed.then(() => (this.isClosed = true));
  }

  private isClosed = false;

  static async open(server: RunningServer): Promise<RawClient> {
    const { hostname, port } = new URL(server.url);
    const socket = connect(Number(port), hostname);
    sockets.push(socket);
    await new Promise((resolve) => socket.once('connect', resolve));
    return new RawClient(socket);
  }

  /** Whether the server has closed the connection within `ms`. */
  async closedWithin(ms: number): Promise<boolean> {
    return Promise.race([this.closed.then(() => true), sleep(ms).then(() => false)]);
  }

  /** The status line and headers of the first answer, once they have arrived. */
  async head(limitMs = 10_000): Promise<{ status: number; headers: Record<string, string>; text: string }> {
    const deadline = Date.now() + limitMs;
    while (this.received.indexOf('\r\n\r\n') === -1) {
      const left = deadline - Date.now();
      if (left <= 0 || this.isClosed)
        throw new Error(
          `no answer ${this.isClosed ? 'before the server closed the connection' : `within ${limitMs} ms`}: ${JSON.stringify(this.received.toString('latin1'))}`,
        );
      const more = new Promise<void>((resolve) => (this.arrived = resolve));
      const timeout = new AbortController();
      await Promise.race([more, this.closed, sleep(left, undefined, { signal: timeout.signal }).catch(() => {})]);
      timeout.abort();
    }
    const text = this.received.toString('utf8');
    const [statusLine, ...lines] = text.slice(0, text.indexOf('\r\n\r\n')).split('\r\n');
    const headers = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
    return { status: Number(statusLine!.split(' ')[1]), headers, text };
  }
}

/** Starts a POST /predict on a raw connection: the request head, then whatever body the test writes. */
async function startUpload(server: RunningServer, headers: Record<string, string>): Promise<RawClient> {
  const client = await RawClient.open(server);
  client.socket.write(
    `POST /predict HTTP/1.1\r\nHost: x\r\n${Object.entries(headers)
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('')}\r\n`,
  );
  return client;
}

/** One chunk of a chunked body. */
const chunk = (data: Buffer | string) => Buffer.concat([Buffer.from(`${Buffer.byteLength(data).toString(16)}\r\n`), Buffer.from(data), Buffer.from('\r\n')]);

const MB = 1_000_000;

describe('the body budget', () => {
  test('concurrent big uploads are answered 200 or 503, and the memory they take is bounded', async () => {
    const budget = 60 * MB;
    const server = await serve({ MAX_INPUT_BYTES: String(30 * MB), MAX_BUFFERED_BYTES: String(budget) });
    const warm = await request(`${server.url}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: {} }),
    });
    await warm.body.dump();
    const before = server.peakMemory();
    // ~25 MB each, base64 text in a slow model's `note`: half as JSON, half as multipart (which
    // undici streams, so the client is still sending when it is refused).
    const note = randomBytes(18_700_000).toString('base64');
    const body = Buffer.from(JSON.stringify({ inputs: { action: 'image', delay_ms: 300, note } }));
    expect(body.length).toBeGreaterThan(24 * MB);
    const form = () => {
      const data = new FormData();
      for (const [name, value] of Object.entries({ action: 'image', delay_ms: '300', note })) data.append(name, value);
      return data;
    };
    const outcomes = await Promise.all(
      Array.from({ length: 16 }, async (_, index) => {
        try {
          const response = await request(
            `${server.url}/predict`,
            index % 2 === 0 ? { method: 'POST', headers: { 'content-type': 'application/json' }, body } : { method: 'POST', body: form() },
          );
          const answer = (await response.body.json()) as { error?: { code: string } };
          return {
            status: response.statusCode,
            retryAfter: response.headers['retry-after'],
            connection: response.headers.connection,
            code: answer.error?.code,
          };
        } catch (error) {
          return { status: 0, error: (error as Error).message };
        }
      }),
    );
    const grown = server.peakMemory() - before;
    console.log(
      `16 concurrent ~${body.length}-byte uploads, budget ${budget}: ${outcomes.filter((o) => o.status === 200).length} answered 200, ${outcomes.filter((o) => o.status === 503).length} 503; peak RSS grew ${Math.round(grown / MB)} MB`,
    );
    expect(outcomes.filter((outcome) => outcome.status !== 200 && outcome.status !== 503)).toEqual([]);
    const refused = outcomes.filter((outcome) => outcome.status === 503);
    expect(refused.length).toBeGreaterThan(0);
    expect(outcomes.some((outcome) => outcome.status === 200)).toBe(true);
    for (const outcome of refused) expect(outcome).toMatchObject({ code: 'AI_ERR_OVERLOADED', retryAfter: '1', connection: 'close' });
    expect(grown).toBeLessThan(4 * budget);
  });
  test('a body that declares its length reserves it before it is read, a chunked one as it streams; without room, 503 and the connection closes', async () => {
    const server = await serve({ MAX_INPUT_BYTES: '1000000', MAX_BUFFERED_BYTES: '1000000' });
    // Holds 600 KB of the budget: it declares them and sends only the start.
    const holder = await startUpload(server, { 'content-type': 'application/json', 'content-length': '600000' });
    holder.socket.write('{"inputs": {"note": "');
    await serverHasRead(server, holder.socket);
    const refused = await post(server, json({ note: 'x'.repeat(599_000) }));
    expect(refused.status).toBe(503);
    expect(refused.headers).toMatchObject({ 'retry-after': '1', connection: 'close' });
    expect(refused.body.error).toEqual({
      code: 'AI_ERR_OVERLOADED',
      message: 'the server holds 600000 bytes of request bodies and has no room for 599022 more (MAX_BUFFERED_BYTES is 1000000); retry later',
    });
    // A chunked body may stream while it fits in what is left, and is refused once it passes it.
    const streaming = await startUpload(server, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    streaming.socket.write(Buffer.concat([chunk('{"inputs": {"note": "'), chunk('y'.repeat(300_000))]));
    await serverHasRead(server, streaming.socket);
    expect(streaming.received.length).toBe(0);
    streaming.socket.write(chunk('y'.repeat(200_000)));
    const answer = await streaming.head();
    expect(answer.status).toBe(503);
    expect(answer.headers).toMatchObject({ 'retry-after': '1', connection: 'close' });
    expect(answer.text).toContain('"code":"AI_ERR_OVERLOADED"');
    expect(await streaming.closedWithin(3000)).toBe(true);
    // A small body still fits beside the holder; once the holder's client goes, the room is back.
    expect((await post(server, json({ note: 'small' }))).status).toBe(200);
    holder.socket.destroy();
    expect(await statusOnceFree(server, json({ note: 'x'.repeat(599_000) }))).toBe(200);
  });

  test('MAX_CONCURRENT_UPLOADS bounds the bodies read at once; a slot is free as soon as its body is read', async () => {
    const server = await serve({ MAX_CONCURRENT_UPLOADS: '2', CONCURRENCY: '2', ...signals.env });
    // The first slow body's inference is held in the model until the fourth request is answered.
    signals.hold('slow upload');
    const body = JSON.stringify({ inputs: { note: 'slow upload' } });
    const slow = [
      await startUpload(server, { 'content-type': 'application/json', 'content-length': String(body.length) }),
      await startUpload(server, { 'content-type': 'application/json', 'content-length': String(body.length) }),
    ];
    for (const client of slow) client.socket.write(body.slice(0, 10));
    for (const client of slow) await serverHasRead(server, client.socket);
    const third = await post(server, json({ note: 'third' }));
    expect(third.status).toBe(503);
    expect(third.headers).toMatchObject({ 'retry-after': '1', connection: 'close' });
    expect(third.body.error).toEqual({
      code: 'AI_ERR_OVERLOADED',
      message: 'too many request bodies are being read at once (MAX_CONCURRENT_UPLOADS is 2); retry later',
    });
    // The first slow body completes: its inference is held, but its upload slot is free.
    slow[0]!.socket.write(body.slice(10));
    expect(await signals.started('slow upload')).toBe(true);
    const fourth = await post(server, json({ note: 'fourth' }));
    expect(fourth.status).toBe(200);
    expect(fourth.body.output).toEqual({ received: expect.objectContaining({ note: 'fourth' }) });
    expect(slow[0]!.received.length).toBe(0);
    signals.release('slow upload');
    expect((await slow[0]!.head()).status).toBe(200);
  });

  test('no reservation leaks: after aborted and refused uploads of every kind, a body the size of the whole budget is accepted', async () => {
    const budget = 1_000_000;
    const server = await serve({ MAX_INPUT_BYTES: String(budget), MAX_BUFFERED_BYTES: String(budget), MAX_CONCURRENT_UPLOADS: '4' });
    // Clients that go away mid-upload: declared, chunked, multipart, compressed.
    for (const headers of <Record<string, string>[]>[
      { 'content-type': 'application/json', 'content-length': '900000' },
      { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      { 'content-type': 'multipart/form-data; boundary=b', 'content-length': '900000' },
      { 'content-type': 'application/json', 'content-encoding': 'gzip', 'transfer-encoding': 'chunked' },
    ]) {
      const client = await startUpload(server, headers);
      const start = headers['content-type']!.startsWith('multipart')
        ? '--b\r\nContent-Disposition: form-data; name="image"; filename="a.jpg"\r\n\r\n'
        : '{"inputs": {"note": "';
      const data = Buffer.concat([Buffer.from(start), Buffer.alloc(400_000, 0x61)]);
      const encoded = headers['content-encoding'] ? gzipSync(data) : data;
      client.socket.write(headers['transfer-encoding'] ? chunk(encoded) : encoded);
      await serverHasRead(server, client.socket);
      client.socket.destroy();
    }
    // Refusals of every kind, each with its status.
    const bomb = gzipSync(Buffer.from(`{"inputs": {"note": "${'a'.repeat(20_000_000)}"}}`));
    const multipartOver = async function* () {
      yield Buffer.from('--b\r\nContent-Disposition: form-data; name="image"; filename="a.jpg"\r\n\r\n');
      for (let sent = 0; sent < 1_500_000; sent += 100_000) yield Buffer.alloc(100_000);
      yield Buffer.from('\r\n--b--\r\n');
    };
    const refusals: [() => Promise<Answer>, number][] = [
      [() => post(server, json({ note: 'x'.repeat(1_200_000) })), 413],
      [() => post(server, Readable.from(multipartOver()), { 'content-type': 'multipart/form-data; boundary=b' }), 413],
      [() => post(server, bomb, { 'content-type': 'application/json', 'content-encoding': 'gzip' }), 413],
      [() => post(server, 'x'.repeat(500_000), { 'content-type': 'text/plain' }), 415],
      [() => post(server, gzipSync(json({})), { 'content-type': 'application/json', 'content-encoding': 'compress' }), 415],
      [() => post(server, `{"inputs": ${'['.repeat(10)}`), 400],
      [() => post(server, 'not gzip at all', { 'content-type': 'application/json', 'content-encoding': 'gzip' }), 400],
      [() => post(server, Buffer.concat([Buffer.from('{"inputs": {"note": "'), Buffer.from([0xff]), Buffer.from('"}}')])), 422],
    ];
    for (const [send, status] of refusals) expect((await send()).status).toBe(status);
    // Six 600 KB bodies at once against a 1 MB budget: some are held, the others refused.
    const crowd = await Promise.all(Array.from({ length: 6 }, () => post(server, json({ note: 'z'.repeat(599_000), delay_ms: 300 }))));
    expect(crowd.filter((answer) => answer.status === 503).length).toBeGreaterThan(0);
    expect(crowd.filter((answer) => answer.status === 200).length).toBeGreaterThan(0);
    expect(crowd.filter((answer) => answer.status !== 200 && answer.status !== 503)).toEqual([]);
    // The whole budget, declared and then streamed.
    const whole = Buffer.from(JSON.stringify({ inputs: { note: '' } }).replace('""', `"${'w'.repeat(budget - 22)}"`));
    expect(whole.length).toBe(budget);
    expect(await statusOnceFree(server, whole)).toBe(200);
    const streamed = await post(
      server,
      Readable.from(
        (function* () {
          for (let sent = 0; sent < whole.length; sent += 100_000) yield whole.subarray(sent, sent + 100_000);
        })(),
      ),
    );
    expect(streamed.status).toBe(200);
  });
});

describe('content encodings', () => {
  const multipart = (parts: [string, string | Buffer, string?][]) =>
    Buffer.concat([
      ...parts.flatMap(([name, value, filename]) => [
        Buffer.from(`--b\r\nContent-Disposition: form-data; name="${name}"${filename ? `; filename="${filename}"` : ''}\r\n\r\n`),
        Buffer.from(value),
        Buffer.from('\r\n'),
      ]),
      Buffer.from('--b--\r\n'),
    ]);

  test('gzip, deflate and br bodies are decoded, JSON and multipart alike; identity is accepted', async () => {
    const server = await serve();
    const png = await makePng(20, 10);
    const encoders = { gzip: gzipSync, deflate: deflateSync, br: brotliCompressSync, identity: (data: Buffer) => data };
    for (const [encoding, encode] of Object.entries(encoders)) {
      const fromJson = await post(server, encode(json({ note: `${encoding} json`, image: png.toString('base64') })), {
        'content-type': 'application/json',
        'content-encoding': encoding,
      });
      expect({ encoding, status: fromJson.status, output: fromJson.body.output }).toEqual({
        encoding,
        status: 200,
        output: { received: expect.objectContaining({ note: `${encoding} json`, image: '20x10 png' }) },
      });
      const fromForm = await post(
        server,
        encode(
          multipart([
            ['note', `${encoding} form`],
            ['image', png, 'a.png'],
          ]),
        ),
        { 'content-type': 'multipart/form-data; boundary=b', 'content-encoding': encoding },
      );
      expect({ encoding, status: fromForm.status, output: fromForm.body.output }).toEqual({
        encoding,
        status: 200,
        output: { received: expect.objectContaining({ note: `${encoding} form`, image: '20x10 png' }) },
      });
    }
  });

  test('another encoding is 415 naming it; a body that is not what its encoding says is 400', async () => {
    const server = await serve();
    const compress = await post(server, json({}), { 'content-type': 'application/json', 'content-encoding': 'compress' });
    expect(compress.status).toBe(415);
    expect(compress.body.error).toEqual({
      code: 'AI_ERR_UNSUPPORTED_MEDIA_TYPE',
      message: 'the content encoding "compress" is not accepted; send the body as is, or with one of gzip, deflate or br',
    });
    const notGzip = await post(server, json({ note: 'plain' }), { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    expect(notGzip.status).toBe(400);
    expect(notGzip.body.error).toEqual({
      code: 'AI_ERR_MALFORMED_INPUT',
      message: 'the request body is not valid gzip data (incorrect header check), as its Content-Encoding says',
    });
    const cut = gzipSync(json({ note: 'cut short' }));
    const truncated = await post(server, cut.subarray(0, cut.length - 10), { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    expect(truncated.status).toBe(400);
    expect(truncated.body.error?.message).toMatch(/^the request body is not valid gzip data/);
    const notBrotli = await post(server, multipart([['note', 'x']]), { 'content-type': 'multipart/form-data; boundary=b', 'content-encoding': 'br' });
    expect(notBrotli.status).toBe(400);
    expect(notBrotli.body.error?.message).toMatch(/^the request body is not valid brotli \(br\) data/);
  });

  test('MAX_INPUT_BYTES counts decoded bytes: a zip bomb is 413 while it streams, and the memory stays bounded', async () => {
    const server = await serve({ MAX_INPUT_BYTES: '1000000' });
    await post(server, json({}));
    const before = server.peakMemory();
    // 200 MB of JSON in about 200 KB of gzip.
    const bomb = gzipSync(Buffer.from(`{"inputs": {"note": "${'a'.repeat(200_000_000)}"}}`), { level: 9 });
    expect(bomb.length).toBeLessThan(1_000_000);
    for (const [type, body] of [
      ['application/json', bomb],
      ['multipart/form-data; boundary=b', gzipSync(multipart([['image', Buffer.alloc(50_000_000), 'zeros.jpg']]))],
    ] as const) {
      const answer = await post(server, body, { 'content-type': type, 'content-encoding': 'gzip' });
      expect(answer.status).toBe(413);
      expect(answer.body.error?.message).toBe('the request body is larger than 1000000 bytes (the limit; raise it with MAX_INPUT_BYTES)');
    }
    expect(server.peakMemory() - before).toBeLessThan(50 * MB);
  });
});

describe('text encoding', () => {
  test('a UTF-8 byte-order mark before a JSON body is accepted', async () => {
    const server = await serve();
    const answer = await post(server, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), json({ note: 'with a BOM' })]));
    expect(answer.status).toBe(200);
    expect(answer.body.output.received.note).toBe('with a BOM');
  });

  test('bytes that are not UTF-8 are 422 naming the input that holds them, or 400 outside any input; valid UTF-8 arrives intact', async () => {
    const server = await serve();
    const bytes = (...parts: (string | number[])[]) => Buffer.concat(parts.map((part) => (typeof part === 'string' ? Buffer.from(part) : Buffer.from(part))));
    const inValue = await post(server, bytes('{"inputs": {"strength": 0.2, "note": "caf', [0xe9], '"}}'));
    expect(inValue.status).toBe(422);
    expect(inValue.body.error).toEqual({
      code: 'AI_ERR_INVALID_INPUT',
      field: 'note',
      message: 'note: the value is not valid UTF-8; send text as UTF-8, and binary data as base64',
    });
    const inKey = await post(server, bytes('{"inputs": {"no', [0xff], 'te": "x"}}'));
    expect(inKey.status).toBe(400);
    expect(inKey.body.error).toEqual({ code: 'AI_ERR_MALFORMED_INPUT', message: 'the request body is not valid UTF-8' });
    const inEnvelope = await post(server, bytes('{"inputs": {}, "comment": "', [0xc3, 0x28], '"}'));
    expect(inEnvelope.status).toBe(400);
    expect(inEnvelope.body.error?.message).toBe('the request body is not valid UTF-8');

    const form = (value: Buffer) =>
      Buffer.concat([
        Buffer.from('--b\r\nContent-Disposition: form-data; name="note"\r\n\r\n'),
        value,
        Buffer.from('\r\n--b\r\nContent-Disposition: form-data; name="image"; filename="a.bin"\r\n\r\n'),
        Buffer.from([0xff, 0xfe, 0x00]),
        Buffer.from('\r\n--b--\r\n'),
      ]);
    const badField = await post(server, form(bytes('caf', [0xe9])), { 'content-type': 'multipart/form-data; boundary=b' });
    expect(badField.status).toBe(422);
    expect(badField.body.error).toEqual({
      code: 'AI_ERR_INVALID_INPUT',
      field: 'note',
      message: 'note: the field is not valid UTF-8; send text as UTF-8, and binary data as a file',
    });

    const text = 'héllo, 日本, 🎉, \ufffd';
    const fromJson = await post(server, json({ note: text }));
    expect(fromJson.body.output.received.note).toBe(text);
    const fromForm = new FormData();
    fromForm.append('note', text);
    const formAnswer = await post(server, fromForm, {});
    expect(formAnswer.body.output.received.note).toBe(text);
  });
});

describe('a body over the limit while streaming', () => {
  test('is answered 413 with Connection: close, and the connection is closed', async () => {
    const server = await serve({ MAX_INPUT_BYTES: '100000' });
    for (const [type, start] of [
      ['application/json', '{"inputs": {"note": "'],
      ['multipart/form-data; boundary=b', '--b\r\nContent-Disposition: form-data; name="image"; filename="a.jpg"\r\n\r\n'],
    ] as const) {
      const client = await startUpload(server, { 'content-type': type, 'transfer-encoding': 'chunked' });
      client.socket.write(Buffer.concat([chunk(start), chunk('x'.repeat(150_000))]));
      const answer = await client.head();
      expect({ type, status: answer.status, connection: answer.headers.connection }).toEqual({ type, status: 413, connection: 'close' });
      expect(await client.closedWithin(3000)).toBe(true);
    }
  });
});
