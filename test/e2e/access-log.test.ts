// The access log: one line per request on stderr (method, path, status, bytes sent, duration,
// request id), as text by default and as JSON lines with LOG_FORMAT=json, which the rest of the
// runtime's log follows too; ACCESS_LOG=false turns it off.
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { modelSignals } from '../helpers/gates.js';
import { startServer, stderrLine, stopOrKill, type RunningServer } from '../helpers/http-server.js';
import { fixture } from '../helpers/run-process.js';
import { supervisorBin } from '../helpers/supervisor.js';

const model = fixture('http-model.mjs');

interface Sent {
  id: string;
  status: number;
  /** Body bytes: the line counts the headers too. */
  bodyBytes: number;
}

async function send(url: string, id: string, path: string, inputs?: Record<string, unknown>): Promise<Sent> {
  const answer = await request(`${url}${path}`, {
    method: inputs ? 'POST' : 'GET',
    headers: { 'x-request-id': id, 'content-type': 'application/json' },
    body: inputs ? JSON.stringify({ inputs }) : undefined,
  });
  const body = Buffer.from(await answer.body.arrayBuffer());
  return { id, status: answer.statusCode, bodyBytes: body.length };
}

// The access log is written asynchronously: wait for the line, never for a time.
const lineWith = (server: RunningServer, text: string) => stderrLine(server, text);

// One request of each kind: a success, a 422, a 5xx (the model reports a failure), a 404 with a query.
async function sendEachKind(url: string, prefix: string) {
  return {
    ok: await send(url, `${prefix}-ok`, '/predict', { action: 'text', note: 'log' }),
    invalid: await send(url, `${prefix}-invalid`, '/predict', { strength: 5 }),
    failed: await send(url, `${prefix}-failed`, '/predict', { action: 'fail' }),
    missing: await send(url, `${prefix}-missing`, '/nowhere?token=secret'),
  };
}

describe('the access log as text (the default)', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer(model, {});
  });
  afterAll(async () => {
    await server?.stop();
  });

  test('one line per request: address, method and path (no query), status, bytes, duration, request id', async () => {
    const sent = await sendEachKind(server.url, 'text');
    expect([sent.ok.status, sent.invalid.status, sent.failed.status, sent.missing.status]).toEqual([200, 422, 500, 404]);
    const expected = [
      ['POST /predict', sent.ok],
      ['POST /predict', sent.invalid],
      ['POST /predict', sent.failed],
      ['GET /nowhere', sent.missing],
    ] as const;
    for (const [request, answer] of expected) {
      const line = await lineWith(server, `request_id=${answer.id}`);
      const fields = /^127\.0\.0\.1 "([A-Z]+ \S+)" (\d{3}) (\d+) (\d+(?:\.\d+)?)ms request_id=(\S+)$/.exec(line);
      expect(fields, line).not.toBeNull();
      const [, seen, status, bytes, duration, id] = fields!;
      expect(seen).toBe(request);
      expect(Number(status)).toBe(answer.status);
      // The status line and headers, then the body.
      expect(Number(bytes)).toBeGreaterThan(answer.bodyBytes + 'HTTP/1.1 200 OK\r\n\r\n'.length);
      expect(Number(bytes)).toBeLessThan(answer.bodyBytes + 1000);
      expect(Number(duration)).toBeGreaterThanOrEqual(0);
      expect(id).toBe(answer.id);
    }
    expect(server.stderr()).not.toContain('secret');
    // Exactly one line per request.
    expect(
      server
        .stderr()
        .split('\n')
        .filter((line) => line.includes('request_id=text-ok')),
    ).toHaveLength(1);
  });

  test('a request that creates or reads a prediction carries its id', async () => {
    const created = await request(`${server.url}/predict`, {
      method: 'POST',
      headers: { 'x-request-id': 'async-create', 'content-type': 'application/json', prefer: 'respond-async' },
      body: JSON.stringify({ inputs: { action: 'text', note: 'later' } }),
    });
    expect(created.statusCode).toBe(202);
    const { id } = (await created.body.json()) as { id: string };
    expect(await lineWith(server, 'request_id=async-create')).toMatch(new RegExp(`"POST /predict" 202 .* request_id=async-create prediction_id=${id}$`));
    const read = await request(`${server.url}/predictions/${id}`, { headers: { 'x-request-id': 'async-read' } });
    await read.body.dump();
    expect(await lineWith(server, 'request_id=async-read')).toMatch(new RegExp(`"GET /predictions/${id}" 200 .* request_id=async-read prediction_id=${id}$`));
  });

  test('probes are logged like any request', async () => {
    await send(server.url, 'probe-1', '/health');
    expect(await lineWith(server, 'request_id=probe-1')).toMatch(/"GET \/health" 200 /);
  });
});

describe('LOG_FORMAT=json', () => {
  test('every line of stderr is JSON: the runtime log, then one access line per request with its fields; an error and the exit it causes too', async () => {
    const server = await startServer(model, { LOG_FORMAT: 'json' });
    try {
      const sent = await sendEachKind(server.url, 'json');
      const expected = [
        ['POST', '/predict', sent.ok],
        ['POST', '/predict', sent.invalid],
        ['POST', '/predict', sent.failed],
        ['GET', '/nowhere', sent.missing],
      ] as const;
      for (const [method, path, answer] of expected) {
        const entry = JSON.parse(await lineWith(server, `"request_id":"${answer.id}"`)) as Record<string, unknown>;
        expect(entry).toEqual({
          level: 'info',
          time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
          pid: server.pid,
          msg: `${method} ${path} ${answer.status}`,
          method,
          path,
          status: answer.status,
          bytes: expect.any(Number),
          duration_ms: expect.any(Number),
          request_id: answer.id,
          remote: '127.0.0.1',
        });
        expect(entry.bytes as number).toBeGreaterThan(answer.bodyBytes);
      }
      // A throw: the model is in a bad state, the process logs why and exits; its last access line is not lost.
      const threw = await send(server.url, 'json-threw', '/predict', { action: 'throw' });
      expect(threw.status).toBe(500);
      const { code } = await server.exited;
      expect(code).toBe(70);
      const lines = server.stderr().trimEnd().split('\n');
      const entries = lines.map((line) => {
        try {
          return JSON.parse(line) as Record<string, unknown>;
        } catch {
          throw new Error(`not a JSON line: ${line}`);
        }
      });
      for (const entry of entries)
        expect(entry).toEqual(
          expect.objectContaining({ level: expect.stringMatching(/^(info|warn|error)$/), time: expect.any(String), pid: server.pid, msg: expect.any(String) }),
        );
      expect(entries).toContainEqual(expect.objectContaining({ level: 'info', msg: expect.stringMatching(/^listening on http:\/\/127\.0\.0\.1:\d+ /) }));
      expect(entries).toContainEqual(
        expect.objectContaining({
          level: 'error',
          msg: expect.stringContaining('the inference function threw:\nError: CUDA error: device-side assert triggered'),
        }),
      );
      expect(entries).toContainEqual(expect.objectContaining({ request_id: 'json-threw', status: 500 }));
    } finally {
      await server.stop();
    }
  });

  test('a bad LOG_FORMAT or ACCESS_LOG stops the service with a clear message', async () => {
    for (const [env, message] of [
      [{ LOG_FORMAT: 'xml' }, 'LOG_FORMAT="xml" is not text or json'],
      [{ ACCESS_LOG: 'maybe' }, 'ACCESS_LOG="maybe" is not true or false'],
    ] as const) {
      const server = await startServer(model, env).catch((error: Error) => error);
      expect(server).toBeInstanceOf(Error);
      expect((server as Error).message).toContain(message);
    }
  });
});

describe('ACCESS_LOG=false', () => {
  test('no access lines; the rest of the log stays', async () => {
    const server = await startServer(model, { ACCESS_LOG: 'false' });
    try {
      await send(server.url, 'quiet-1', '/predict', { action: 'text' });
      await send(server.url, 'quiet-2', '/nowhere');
      // A request logged after those would show that lines are written at all; there is none, so stop and read all.
    } finally {
      await server.stop();
    }
    expect(server.stderr()).toContain('listening on');
    expect(server.stderr()).not.toContain('quiet-');
    expect(server.stderr()).not.toMatch(/"POST \/predict"/);
  });
});

describe('a request still in the model when the shutdown drain ends', () => {
  const signals = modelSignals();
  afterAll(() => signals.remove());

  // The status the line says is the one the client received: 503 with its error body, never a
  // connection closed with no bytes while the line says otherwise.
  test.each([
    ['run directly', (env: Record<string, string>) => startServer(model, env)],
    ['under the supervisor', (env: Record<string, string>) => startServer(supervisorBin, env, [model])],
  ] as const)('%s: the client gets 503 with the error body, and the line says 503', async (how, start) => {
    const server = await start({ SHUTDOWN_TIMEOUT_MS: '500', ...signals.env });
    const key = `drain ${how}`;
    const id = `drain-${how.replaceAll(' ', '-')}`;
    signals.hold(key);
    try {
      const answer = request(`${server.url}/predict`, {
        method: 'POST',
        headers: { 'x-request-id': id, 'content-type': 'application/json' },
        body: JSON.stringify({ inputs: { note: key } }),
      }).then(
        async (response) => ({ status: response.statusCode, headers: response.headers, body: await response.body.text() }),
        (error: Error) => error,
      );
      expect(await signals.started(key)).toBe(true);
      server.child.kill('SIGTERM');
      const received = await answer;
      expect(received).not.toBeInstanceOf(Error);
      if (received instanceof Error) return;
      expect(received.status, received.body).toBe(503);
      expect(received.headers.connection).toBe('close');
      expect(JSON.parse(received.body)).toEqual({
        error: {
          code: 'AI_ERR_NOT_READY',
          message: expect.stringMatching(/^the server shut down before this request was answered: .*SHUTDOWN_TIMEOUT_MS \(500 ms\)/),
        },
      });
      const line = await lineWith(server, `request_id=${id}`);
      expect(line).toMatch(/"POST \/predict" 503 (\d+) /);
      expect(Number(/ 503 (\d+) /.exec(line)![1])).toBeGreaterThan(received.body.length);
      expect(await server.exited).toEqual({ code: 0, signal: null });
    } finally {
      signals.release(key);
      await stopOrKill(server);
    }
  });
});
