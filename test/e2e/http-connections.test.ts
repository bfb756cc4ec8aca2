// Connections as a client, a proxy or an attacker makes them (test/helpers/raw-connection.ts):
// the server's timeouts, limits, probes and drain, byte for byte and pause for pause.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { startServer, type RunningServer } from '../helpers/http-server.js';
import { everythingSentIsRead, RawConnection, type RawResponse } from '../helpers/raw-connection.js';
import { fixture } from '../helpers/run-process.js';
import { eventually } from '../helpers/supervisor.js';

const model = fixture('http-model.mjs');

/** Sends one request on a new connection that the client closes after it. */
async function exchange(
  url: string,
  method: string,
  target: string,
  options: { body?: string; headers?: Record<string, string> } = {},
): Promise<RawResponse & { trailing: string }> {
  const connection = await RawConnection.open(url);
  const headers = {
    host: new URL(url).host,
    connection: 'close',
    ...options.headers,
    ...(options.body === undefined ? {} : { 'content-length': String(Buffer.byteLength(options.body)) }),
  };
  connection.write(
    `${method} ${target} HTTP/1.1\r\n${Object.entries(headers)
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('')}\r\n${options.body ?? ''}`,
  );
  const response = await connection.response({ head: method === 'HEAD' });
  await connection.whenClosed;
  return { ...response, trailing: connection.unread };
}

const predictJson = (note: string) => JSON.stringify({ inputs: { note } });

// Every connection a test opens is closed after it, whatever the test did.
const opened: RawConnection[] = [];
const open = async (url: string) => {
  const connection = await RawConnection.open(url);
  opened.push(connection);
  return connection;
};
afterEach(() => {
  for (const connection of opened.splice(0)) connection.destroy();
});

describe('HTTP routing: HEAD and absolute-form targets', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer(model);
  });
  afterAll(async () => {
    await server.stop();
  });

  test('HEAD answers every GET route as GET does (status, type, length) without sending a body', async () => {
    for (const path of ['/', '/health', '/health/live', '/info', '/openapi.json', '/docs', '/docs/swagger-ui.css', '/metrics']) {
      const get = await exchange(server.url, 'GET', path);
      const head = await exchange(server.url, 'HEAD', path);
      expect({ path, status: head.status }).toEqual({ path, status: get.status });
      expect(head.headers['content-type']).toBe(get.headers['content-type']);
      // The metrics text grows between two scrapes; every other body is the same both times.
      if (path === '/metrics') expect(Number(head.headers['content-length'])).toBeGreaterThan(0);
      else expect({ path, length: head.headers['content-length'] }).toEqual({ path, length: String(Buffer.byteLength(get.body)) });
      expect({ path, trailing: head.trailing }).toEqual({ path, trailing: '' });
    }
  });

  test('Allow lists HEAD wherever GET is allowed', async () => {
    for (const [method, path, allow] of [
      ['PUT', '/health', 'GET, HEAD'],
      ['DELETE', '/', 'GET, HEAD, POST'],
      ['POST', '/info', 'GET, HEAD'],
      ['PUT', '/predict', 'POST'],
    ] as const) {
      const response = await exchange(server.url, method, path, method === 'POST' ? { body: '' } : {});
      expect(response.status).toBe(405);
      expect(response.headers.allow).toBe(allow);
      expect(JSON.parse(response.body)).toEqual({ error: { code: 'AI_ERR_METHOD_NOT_ALLOWED', message: `${method} is not allowed on ${path}; use ${allow}` } });
    }
  });

  test('an absolute-form request target, as a proxy sends it, is routed by its path', async () => {
    const port = new URL(server.url).port;
    const health = await exchange(server.url, 'GET', `http://127.0.0.1:${port}/health`);
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toEqual({ status: 'ready' });
    const info = await exchange(server.url, 'GET', 'http://model.internal/info?verbose=1');
    expect(info.status).toBe(200);
    expect(JSON.parse(info.body)).toMatchObject({ mode: 'http' });
    const live = await exchange(server.url, 'HEAD', 'http://model.internal/health/live');
    expect(live.status).toBe(200);
    const predicted = await exchange(server.url, 'POST', 'http://model.internal/predict', {
      body: predictJson('via a proxy'),
      headers: { 'content-type': 'application/json' },
    });
    expect(predicted.status).toBe(200);
    expect(JSON.parse(predicted.body).output.received.note).toBe('via a proxy');
    const missing = await exchange(server.url, 'GET', 'http://model.internal/nowhere?x=/health');
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body).error.message).toBe('no route /nowhere; see /docs for the API');
  });
});

describe("HTTP connections: the server's own timeouts", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer(model, { HEADERS_TIMEOUT_MS: '1000', REQUEST_TIMEOUT_MS: '2000', KEEP_ALIVE_TIMEOUT_MS: '7000' });
  });
  afterAll(async () => {
    await server.stop();
  });

  test('HEADERS_TIMEOUT_MS: a client that stalls in its request line is answered 408 and closed', async () => {
    const stalled = await open(server.url);
    stalled.write('GET /hea');
    expect(await eventually(() => stalled.closed, 15_000)).toBe(true);
    expect(stalled.unread).toMatch(/^(HTTP\/1\.1 408 |$)/);
  });

  test('REQUEST_TIMEOUT_MS: a client that stalls in its body is answered 408 and closed', async () => {
    const stalled = await open(server.url);
    stalled.write(`POST /predict HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"inputs": {`);
    expect(await eventually(() => stalled.closed, 15_000)).toBe(true);
    expect(stalled.unread).toMatch(/^(HTTP\/1\.1 408 |$)/);
  });

  test('KEEP_ALIVE_TIMEOUT_MS is what keep-alive answers advertise', async () => {
    const connection = await open(server.url);
    connection.write('GET /health/live HTTP/1.1\r\nhost: x\r\n\r\n');
    const response = await connection.response();
    expect(response.status).toBe(200);
    expect(response.headers['keep-alive']).toBe('timeout=7');
  });
});

describe('HTTP connections: MAX_CONNECTIONS', () => {
  test('past MAX_CONNECTIONS a connection reaches only /health, /health/live and /metrics; others get 503 with Retry-After and Connection: close', async () => {
    const server = await startServer(model, { MAX_CONNECTIONS: '2' });
    try {
      const holders = [await open(server.url), await open(server.url)];
      for (const holder of holders) holder.write('GET /');
      const refused = await open(server.url);
      refused.write(
        `POST /predict HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${predictJson('x').length}\r\n\r\n${predictJson('x')}`,
      );
      const answer = await refused.response();
      expect(answer.status).toBe(503);
      expect(answer.headers['retry-after']).toBe('1');
      expect(answer.headers.connection).toBe('close');
      expect(JSON.parse(answer.body).error.code).toBe('AI_ERR_OVERLOADED');
      await refused.whenClosed;

      const probe = await open(server.url);
      for (const path of ['/health', '/health/live', '/metrics']) {
        probe.write(`GET ${path} HTTP/1.1\r\nhost: x\r\n\r\n`);
        expect({ path, status: (await probe.response()).status }).toEqual({ path, status: 200 });
      }
      probe.destroy();

      // Once the holders go, a new connection is an ordinary one again.
      for (const holder of holders) holder.destroy();
      const served = async () =>
        (await exchange(server.url, 'POST', '/predict', { body: predictJson('after'), headers: { 'content-type': 'application/json' } })).status === 200;
      expect(await eventually(served, 15_000)).toBe(true);
    } finally {
      await server.stop();
    }
  });

  test('a slowloris holding every socket cannot take readiness away: the longest-stalled sockets make room', async () => {
    const server = await startServer(model, { MAX_CONNECTIONS: '10', KEEP_ALIVE_TIMEOUT_MS: '60000' });
    try {
      // A kept-alive connection, idle after its answer, then 29 sockets that each send half a
      // request line and stall: 10 regular connections, 8 kept for probes, and the 12 past those
      // each push out the one idle the longest, the kept-alive one first.
      const keptAlive = await open(server.url);
      keptAlive.write('GET /health/live HTTP/1.1\r\nhost: x\r\n\r\n');
      expect((await keptAlive.response()).status).toBe(200);
      const stalled: RawConnection[] = [];
      for (let index = 0; index < 29; index++) {
        const connection = await open(server.url);
        connection.write('GET /heal');
        stalled.push(connection);
      }
      expect(await eventually(() => keptAlive.closed && stalled.slice(0, 11).every((connection) => connection.closed), 15_000)).toBe(true);
      expect(stalled.slice(11).filter((connection) => connection.closed)).toHaveLength(0);

      for (let attempt = 0; attempt < 3; attempt++) {
        const health = await exchange(server.url, 'GET', '/health');
        expect(health.status).toBe(200);
        expect(JSON.parse(health.body)).toEqual({ status: 'ready' });
      }
      // A prediction is answered, served or refused with a clear 503, never left hanging or reset.
      const prediction = await exchange(server.url, 'POST', '/predict', {
        body: predictJson('amid a slowloris'),
        headers: { 'content-type': 'application/json' },
      });
      expect([200, 503]).toContain(prediction.status);
      if (prediction.status === 503) {
        expect(JSON.parse(prediction.body).error.code).toBe('AI_ERR_OVERLOADED');
        expect(prediction.headers['retry-after']).toBe('1');
      } else expect(JSON.parse(prediction.body).output.received.note).toBe('amid a slowloris');
    } finally {
      await server.stop();
    }
  });
});

describe('HTTP connections: SIGTERM during an upload', () => {
  const note = 'n'.repeat(3000);
  const boundary = 'slowupload';
  const bodies = {
    json: { type: 'application/json', body: predictJson(note) },
    multipart: {
      type: `multipart/form-data; boundary=${boundary}`,
      body: `--${boundary}\r\ncontent-disposition: form-data; name="action"\r\n\r\njson\r\n--${boundary}\r\ncontent-disposition: form-data; name="note"\r\n\r\n${note}\r\n--${boundary}--\r\n`,
    },
  };

  test.each(['json', 'multipart'] as const)('a %s upload under way when SIGTERM comes is served; the process then exits 0', async (kind) => {
    const server = await startServer(model);
    const { type, body } = bodies[kind];
    const upload = await open(server.url);
    upload.write(`POST /predict HTTP/1.1\r\nhost: x\r\ncontent-type: ${type}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n`);
    // Ten pieces, 200 ms apart: SIGTERM arrives after the second, and the upload goes on for well
    // over a second after it.
    const pieces = Array.from({ length: 10 }, (_, index) => body.slice((index * body.length) / 10, ((index + 1) * body.length) / 10));
    for (const [index, piece] of pieces.entries()) {
      upload.write(piece);
      if (index === 1) {
        server.child.kill('SIGTERM');
        expect(await eventually(() => server.stderr().includes('SIGTERM: draining'), 10_000)).toBe(true);
      }
      await sleep(200);
    }
    const answer = await upload.response();
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body).output.received.note).toBe(note);
    expect(answer.headers.connection).toBe('close');
    expect(await server.exited).toEqual({ code: 0, signal: null });
  });

  test('a request arriving after SIGTERM on a kept-alive connection gets 503 with Connection: close', async () => {
    const server = await startServer(model);
    const keptAlive = await open(server.url);
    keptAlive.write('GET /health/live HTTP/1.1\r\nhost: x\r\n\r\n');
    expect((await keptAlive.response()).status).toBe(200);
    // An upload under way keeps the drain going while the late request comes.
    const upload = await open(server.url);
    const body = predictJson('early');
    upload.write(`POST /predict HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body.slice(0, 5)}`);
    // The next request has begun (so the connection is not idle) but not arrived when SIGTERM comes.
    keptAlive.write('POST /predict HTTP/1.1\r\nhost: x\r\n');
    // The server must have read it: a connection with nothing begun is closed at once.
    await everythingSentIsRead(server.url, '/health/live');
    server.child.kill('SIGTERM');
    expect(await eventually(() => server.stderr().includes('SIGTERM: draining'), 10_000)).toBe(true);
    const late = predictJson('late');
    keptAlive.write(`content-type: application/json\r\ncontent-length: ${late.length}\r\n\r\n${late}`);
    const refused = await keptAlive.response();
    expect(refused.status).toBe(503);
    expect(refused.headers.connection).toBe('close');
    expect(JSON.parse(refused.body).error).toEqual({
      code: 'AI_ERR_NOT_READY',
      message: 'the server is shutting down and takes no new work (received SIGTERM)',
    });
    await keptAlive.whenClosed;
    upload.write(body.slice(5));
    const served = await upload.response();
    expect(served.status).toBe(200);
    expect(JSON.parse(served.body).output.received.note).toBe('early');
    expect(await server.exited).toEqual({ code: 0, signal: null });
  });
});
