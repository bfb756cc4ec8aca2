// A body that stalls or trickles holds an upload slot (MAX_CONCURRENT_UPLOADS) while it is read:
// MAX_CONCURRENT_UPLOADS trickles of a byte a second once refused every other body for up to
// REQUEST_TIMEOUT_MS (300 s) while readiness said ready. These run the HTTP mode in process, with
// raw sockets as the slow clients, and short settings; each waits for the event (the answer, the
// close), never for a wall-clock time.
import { afterEach, describe, expect, test } from 'vitest';
import { startInProcess, type InProcessService } from '../helpers/in-process-service.js';
import { everythingSentIsRead, RawConnection } from '../helpers/raw-connection.js';

const model = {
  inference: async (inputs: { text: string }) => ({ 'content-type': 'text/plain', data: `got ${inputs.text}`, success: true }),
  schema: { text: { type: 'text' as const } },
};

const body = JSON.stringify({ inputs: { text: 'hello' } });

let service: InProcessService | undefined;
const opened: RawConnection[] = [];

afterEach(async () => {
  for (const connection of opened.splice(0)) connection.destroy();
  await service?.close();
  service = undefined;
});

async function start(env: Record<string, string>): Promise<InProcessService> {
  service = await startInProcess({ mode: 'http', model, env });
  return service;
}

/** A POST /predict whose headers promise the whole body and whose first bytes are sent; the rest is the test's to send, or not. */
async function startUpload(url: string, first = body.slice(0, 5)): Promise<RawConnection> {
  const connection = await RawConnection.open(url);
  opened.push(connection);
  connection.write(`POST /predict HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${first}`);
  return connection;
}

const predict = (server: InProcessService) => server.inject({ method: 'POST', url: '/predict', body: { inputs: { text: 'next' } } });

async function metric(server: InProcessService, name: string): Promise<number> {
  const text = (await server.inject({ url: '/metrics' })).text();
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name} `) || candidate.startsWith(`${name}{`));
  if (line === undefined) throw new Error(`no ${name} in /metrics`);
  return Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('a request body that stalls or trickles', () => {
  test('a body with no byte for BODY_IDLE_TIMEOUT_MS gets 408 AI_ERR_BODY_TIMEOUT, its connection is closed, and its upload slot serves the next body', async () => {
    const server = await start({ BODY_IDLE_TIMEOUT_MS: '300', MIN_BODY_BYTES_PER_SECOND: '0', MAX_CONCURRENT_UPLOADS: '1' });
    const stalled = await startUpload(server.url);
    const answer = await stalled.response({ limitMs: 8000 });
    expect(answer.status).toBe(408);
    expect(answer.headers.connection).toBe('close');
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'AI_ERR_BODY_TIMEOUT', message: expect.stringContaining('BODY_IDLE_TIMEOUT_MS') } });
    await stalled.whenClosed;
    const next = await predict(server);
    expect(next.status).toBe(200);
    expect(await metric(server, 'http_body_timeouts_total{reason="idle"}')).toBe(1);
  });

  test('a body that keeps sending below MIN_BODY_BYTES_PER_SECOND gets 408 once a window has passed, and its upload slot serves the next body', async () => {
    const server = await start({ BODY_IDLE_TIMEOUT_MS: '60000', MIN_BODY_BYTES_PER_SECOND: '1000', BODY_RATE_WINDOW_MS: '500', MAX_CONCURRENT_UPLOADS: '1' });
    const trickle = await startUpload(server.url, '{');
    // A byte every 20 ms: never idle, 50 bytes a second at most, far below the floor.
    let sent = 1;
    const dripping = setInterval(() => {
      if (sent < body.length - 1 && !trickle.closed) trickle.write(body[sent++]!);
    }, 20);
    try {
      const answer = await trickle.response({ limitMs: 8000 });
      expect(answer.status).toBe(408);
      expect(answer.headers.connection).toBe('close');
      expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'AI_ERR_BODY_TIMEOUT', message: expect.stringContaining('MIN_BODY_BYTES_PER_SECOND') } });
    } finally {
      clearInterval(dripping);
    }
    await trickle.whenClosed;
    expect((await predict(server)).status).toBe(200);
    expect(await metric(server, 'http_body_timeouts_total{reason="rate"}')).toBe(1);
  });

  test('a body that arrives in pieces above the floor and with pauses under the idle timeout is served', async () => {
    const server = await start({ BODY_IDLE_TIMEOUT_MS: '5000', MIN_BODY_BYTES_PER_SECOND: '1', BODY_RATE_WINDOW_MS: '5000' });
    const upload = await startUpload(server.url);
    await everythingSentIsRead(server.url, '/health/live');
    upload.write(body.slice(5));
    const answer = await upload.response({ limitMs: 8000 });
    expect(answer.status).toBe(200);
  });

  test('time the server could not read (its event loop blocked, as by a model running in process) is not counted against the body', async () => {
    // Blocked for twice the idle timeout, which leaves the time before the block room on a busy machine.
    const server = await start({ BODY_IDLE_TIMEOUT_MS: '1500', MIN_BODY_BYTES_PER_SECOND: '0' });
    const upload = await startUpload(server.url);
    await everythingSentIsRead(server.url, '/health/live');
    // The rest is in the server's socket buffer before the block; the server reads it only after.
    upload.write(body.slice(5));
    const blockedUntil = performance.now() + 3000;
    while (performance.now() < blockedUntil);
    const answer = await upload.response({ limitMs: 8000 });
    expect(answer.status).toBe(200);
  });

  test('while trickles hold every upload slot, /metrics shows the slots held beside the limit, /health stays 200 and says so, and a new body gets 503', async () => {
    const server = await start({ MAX_CONCURRENT_UPLOADS: '2' });
    expect(await metric(server, 'http_upload_slots_in_use')).toBe(0);
    expect(await metric(server, 'http_upload_slots_limit')).toBe(2);
    const trickles = [await startUpload(server.url), await startUpload(server.url)];
    await everythingSentIsRead(server.url, '/health/live');
    expect(await metric(server, 'http_upload_slots_in_use')).toBe(2);
    const health = await server.inject({ url: '/health' });
    expect(health.status).toBe(200);
    expect(health.json()).toEqual({ status: 'ready', reason: expect.stringContaining('every upload slot is held (2 of 2, MAX_CONCURRENT_UPLOADS)') });
    const refused = await predict(server);
    expect(refused.status).toBe(503);
    expect(refused.json()).toMatchObject({ error: { code: 'AI_ERR_OVERLOADED' } });
    // One trickle finishes its body: its slot is free, and readiness no longer says all are held.
    trickles[0]!.write(body.slice(5));
    expect((await trickles[0]!.response()).status).toBe(200);
    expect(await metric(server, 'http_upload_slots_in_use')).toBe(1);
    expect((await server.inject({ url: '/health' })).json()).toEqual({ status: 'ready' });
  });
});
