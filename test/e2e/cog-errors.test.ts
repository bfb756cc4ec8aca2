// MODE=cog's error paths: a body over MAX_INPUT_BYTES (413), a prediction past
// INFERENCE_TIMEOUT_MS, a request that arrives while the server drains after SIGTERM (503), and a
// client that leaves a synchronous POST /predictions (its prediction is canceled). Errors that are
// not a prediction's are Cog's `{"detail": "..."}`; a prediction that failed is data (200, "failed").
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Readable } from 'node:stream';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { startServer, stopOrKill, type RunningServer } from '../helpers/http-server.js';
import { everythingSentIsRead, RawConnection } from '../helpers/raw-connection.js';
import { fixture } from '../helpers/run-process.js';
import { eventually, supervisorBin } from '../helpers/supervisor.js';

// cog-model: `hold_file` holds an inference while that file exists; every inference appends its
// note to CALLS_FILE when it starts. cancel-model: `cooperative` runs until its signal aborts;
// CALLS_FILE gets "start <note>" and "abort <note>".
const cogModel = fixture('cog-model.mjs');
const cancelModel = fixture('cancel-model.mjs');
const scratch = mkdtempSync(join(tmpdir(), 'cog-errors-'));
const timestamp = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}\+00:00$/;

const servers: RunningServer[] = [];
const opened: RawConnection[] = [];
const openConnection = async (url: string): Promise<RawConnection> => {
  const connection = await RawConnection.open(url);
  opened.push(connection);
  return connection;
};
const gates: string[] = [];
let files = 0;

/** Starts `script` (or the supervisor with it) in MODE=cog, with a CALLS_FILE of its own. */
async function serveCog(script: string, env: Record<string, string> = {}, supervised = false): Promise<{ server: RunningServer; calls: () => string[] }> {
  const callsFile = join(scratch, `calls-${++files}`);
  const server = supervised
    ? await startServer(supervisorBin, { MODE: 'cog', CALLS_FILE: callsFile, ...env }, [script])
    : await startServer(script, { MODE: 'cog', CALLS_FILE: callsFile, ...env });
  servers.push(server);
  return { server, calls: () => (existsSync(callsFile) ? readFileSync(callsFile, 'utf8').split('\n').filter(Boolean) : []) };
}
afterEach(async () => {
  // Open every gate first: a held model would otherwise hold the drain until SHUTDOWN_TIMEOUT_MS.
  for (const path of gates.splice(0)) rmSync(path, { force: true });
  for (const connection of opened.splice(0)) connection.destroy();
  await Promise.all(servers.splice(0).map((server) => stopOrKill(server)));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A file whose existence holds cog-model's inference (`hold_file`); the test removes it to release it. */
function gate(name: string): { path: string; open: () => void } {
  const path = join(scratch, `${name}-${Math.random().toString(36).slice(2)}`);
  writeFileSync(path, '');
  gates.push(path);
  return { path, open: () => rmSync(path, { force: true }) };
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
}

async function call(url: string, method: 'GET' | 'POST', path: string, body?: unknown, options: { signal?: AbortSignal } = {}): Promise<Answer> {
  const response = await request(`${url}${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) }),
    ...options,
  });
  return { status: response.statusCode, headers: response.headers, body: await response.body.json() };
}

const predict = (url: string, body: unknown, options: { signal?: AbortSignal } = {}) => call(url, 'POST', '/predictions', body, options);
const healthOf = async (url: string) => (await call(url, 'GET', '/health-check')).body.status as string;

// Inferences the server holds: waiting in its queue, or in flight (handed to the engine).
async function pending(url: string): Promise<number> {
  const text = await (await request(`${url}/metrics`)).body.text();
  const value = (name: string) => Number(new RegExp(`^${name} (\\d+)`, 'm').exec(text)?.[1] ?? Number.NaN);
  return value('inference_queue_depth') + value('inferences_in_flight');
}

/**
 * One raw client connection on loopback: what the test writes is exactly what the server reads,
 * so a request can be begun before SIGTERM (or a model fault) and finished after it.
 */

describe('MODE=cog: a body over MAX_INPUT_BYTES', () => {
  test('413 {"detail": "..."}, whether the body declares its length or streams it chunked; the model never sees it, and the server serves the next one', async () => {
    const { server, calls } = await serveCog(cogModel, { MAX_INPUT_BYTES: '1024' });
    const tooLarge = { detail: 'the request body is larger than 1024 bytes (the limit; raise it with MAX_INPUT_BYTES)' };

    const declared = await predict(server.url, { input: { note: 'declared '.repeat(500) } });
    expect(declared.status).toBe(413);
    expect(declared.body).toEqual(tooLarge);

    // No Content-Length: refused once the bytes read pass the limit.
    const chunks = Array.from({ length: 8 }, (_, index) => (index === 0 ? '{"input": {"note": "' : 'c'.repeat(512)));
    const streamed = await request(`${server.url}/predictions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: Readable.from([...chunks, '"}}'].map((chunk) => Buffer.from(chunk))),
    });
    expect(streamed.statusCode).toBe(413);
    expect(await streamed.body.json()).toEqual(tooLarge);

    const small = await predict(server.url, { input: { note: 'fits' } });
    expect(small.status).toBe(200);
    expect(small.body).toMatchObject({ status: 'succeeded', output: { note: 'fits' } });
    expect(calls()).toEqual(['fits']);
  });
});

describe('MODE=cog: a prediction past INFERENCE_TIMEOUT_MS', () => {
  test('run directly: 200 with status "failed" and the timeout as its error; the queued prediction gets 503 {"detail"}; DEFUNCT while it drains; then the process exits 70', async () => {
    // The timeout leaves ample room to queue the second prediction while the first one runs.
    const { server, calls } = await serveCog(cogModel, { INFERENCE_TIMEOUT_MS: '3000', CONCURRENCY: '1' });
    // A request whose body is still uploading when the model times out: it is in flight, so the
    // drain (and the open listener) lasts until the test finishes it, and the health check can be read.
    const upload = await openConnection(server.url);
    const late = JSON.stringify({ input: { note: 'uploading' } });
    upload.write(
      `POST /predictions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(late)}\r\n\r\n${late.slice(0, 5)}`,
    );

    const hold = gate('hold-timeout');
    const stuck = predict(server.url, { id: 'runs-too-long', input: { note: 'stuck', hold_file: hold.path } });
    expect(await eventually(() => calls().includes('stuck'), 10_000)).toBe(true);
    const queued = predict(server.url, { id: 'queued-behind', input: { note: 'queued' } });
    expect(await eventually(async () => (await pending(server.url)) === 2, 10_000)).toBe(true);

    const timedOut = await stuck;
    expect(timedOut.status).toBe(200);
    expect(timedOut.body).toMatchObject({
      id: 'runs-too-long',
      status: 'failed',
      input: { note: 'stuck', hold_file: hold.path },
      output: null,
      error: 'inference took longer than 3000 ms (INFERENCE_TIMEOUT_MS)',
      completed_at: expect.stringMatching(timestamp),
    });
    // Never a prediction: an HTTP error in Cog's shape.
    const refused = await queued;
    expect(refused.status).toBe(503);
    expect(refused.body).toEqual({ detail: 'the model failed and the process is restarting; retry shortly' });
    expect(calls()).not.toContain('queued');

    // Run directly, a stuck model is DEFUNCT: the process drains and exits to be restarted. (Read
    // with `eventually`: the service turns DEFUNCT an event-loop turn after the answer is written.)
    expect(await eventually(async () => (await healthOf(server.url)) === 'DEFUNCT', 10_000)).toBe(true);
    expect(await call(server.url, 'GET', '/health-check')).toMatchObject({ status: 200, body: { status: 'DEFUNCT', setup: { status: 'succeeded' } } });
    expect(server.child.exitCode).toBeNull();
    upload.write(late.slice(5));
    const uploaded = await upload.jsonResponse();
    expect(uploaded.status).toBe(503);
    expect(uploaded.body).toEqual({ detail: expect.any(String) });
    expect(await server.exited).toEqual({ code: 70, signal: null });
    expect(server.stderr()).toContain('the model is stuck, so this process exits to be restarted');
  });

  test('under the supervisor: 200 with status "failed"; the worker is replaced, the prediction queued behind it is served, and the service is READY again', async () => {
    const { server } = await serveCog(cogModel, { INFERENCE_TIMEOUT_MS: '300', WORKER_KILL_GRACE_MS: '500' }, true);
    const hold = gate('hold-timeout-supervised');
    const stuck = predict(server.url, { input: { note: 'stuck', hold_file: hold.path } });
    expect(await eventually(async () => (await pending(server.url)) >= 1, 10_000)).toBe(true);
    const queued = predict(server.url, { input: { note: 'queued' } });
    const timedOut = await stuck;
    expect(timedOut.status).toBe(200);
    expect(timedOut.body).toMatchObject({
      status: 'failed',
      output: null,
      error: expect.stringMatching(/^inference took longer than 300 ms \(INFERENCE_TIMEOUT_MS\)/),
    });
    expect(await queued).toMatchObject({ status: 200, body: { status: 'succeeded', output: { note: 'queued' } } });
    expect(await eventually(async () => (await healthOf(server.url)) === 'READY', 20_000)).toBe(true);
    expect(server.child.exitCode).toBeNull();
  });
});

describe('MODE=cog: SIGTERM while a prediction is in flight', () => {
  test('a prediction arriving during the drain on a kept-alive connection gets 503 {"detail"} with Connection: close; the one in flight still succeeds; then exit 0', async () => {
    const { server, calls } = await serveCog(cogModel);
    const hold = gate('hold-drain');
    const inFlight = predict(server.url, { input: { note: 'in-flight', hold_file: hold.path } });
    expect(await eventually(() => calls().includes('in-flight'), 10_000)).toBe(true);

    // Kept-alive connections opened (and used) before SIGTERM: one for a late prediction, one for
    // a late health check. Each has its next request begun, so the drain does not close it as
    // idle, but not yet arrived when SIGTERM comes.
    const keptAlive = await openConnection(server.url);
    keptAlive.write('GET /health-check HTTP/1.1\r\nhost: x\r\n\r\n');
    expect((await keptAlive.jsonResponse()).body.status).toBe('BUSY');
    const probe = await openConnection(server.url);
    probe.write('GET /health-check HTTP/1.1\r\nhost: x\r\n\r\n');
    expect((await probe.jsonResponse()).status).toBe(200);
    keptAlive.write('POST /predictions HTTP/1.1\r\nhost: x\r\n');
    probe.write('GET /health-check HTTP/1.1\r\nhost: x\r\n');
    // The server must have read them: a connection with nothing begun is closed at once.
    await everythingSentIsRead(server.url, '/health-check');

    server.child.kill('SIGTERM');
    expect(await eventually(() => server.stderr().includes('SIGTERM: draining'), 10_000)).toBe(true);

    const late = JSON.stringify({ input: { note: 'late' } });
    keptAlive.write(`content-type: application/json\r\ncontent-length: ${Buffer.byteLength(late)}\r\n\r\n${late}`);
    const refused = await keptAlive.jsonResponse();
    expect(refused.status).toBe(503);
    expect(refused.headers.connection).toBe('close');
    expect(refused.body).toEqual({ detail: 'the server is shutting down and takes no new work (received SIGTERM)' });
    await keptAlive.whenClosed;

    // The health check still answers while the server drains: BUSY, alive and taking no new work.
    probe.write('\r\n');
    expect(await probe.jsonResponse()).toMatchObject({ status: 200, body: { status: 'BUSY' } });

    hold.open();
    const served = await inFlight;
    expect(served.status).toBe(200);
    expect(served.body).toMatchObject({ status: 'succeeded', output: { note: 'in-flight' } });
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(calls()).not.toContain('late');
  });
});

describe.each([
  ['run directly', false],
  ['under the supervisor', true],
])('MODE=cog: a client that disconnects from a synchronous POST /predictions (%s)', (_, supervised) => {
  test('cancels its prediction: a running one is told to stop (its signal aborts), a queued one never starts; nothing restarts and the next prediction is served', async () => {
    const { server, calls } = await serveCog(cancelModel, {}, supervised);
    const runningClient = new AbortController();
    const running = predict(server.url, { id: 'sync-running', input: { action: 'cooperative', note: 'sync-running' } }, { signal: runningClient.signal });
    running.catch(() => {});
    expect(await eventually(() => calls().includes('start sync-running'), 10_000)).toBe(true);
    const queuedClient = new AbortController();
    const queued = predict(server.url, { id: 'sync-queued', input: { note: 'sync-queued' } }, { signal: queuedClient.signal });
    queued.catch(() => {});
    // The queued one waits (the model holds the only slot) before its client leaves; the server has
    // dropped it (one inference left, queued or handed ahead to the worker) before the other leaves.
    expect(await eventually(async () => (await pending(server.url)) === 2, 10_000)).toBe(true);
    queuedClient.abort();
    expect(await eventually(async () => (await pending(server.url)) === 1, 10_000)).toBe(true);
    runningClient.abort();
    expect(await eventually(() => calls().includes('abort sync-running'), 10_000)).toBe(true);
    expect(await eventually(async () => (await pending(server.url)) === 0, 10_000)).toBe(true);

    // Both are canceled, as GET /predictions/{prediction_id} says while the store holds them.
    const runningState = await call(server.url, 'GET', '/predictions/sync-running');
    expect(runningState).toMatchObject({ status: 200, body: { id: 'sync-running', status: 'canceled', output: null } });
    expect(runningState.body.started_at).toMatch(timestamp);
    const queuedState = await call(server.url, 'GET', '/predictions/sync-queued');
    expect(queuedState).toMatchObject({ status: 200, body: { id: 'sync-queued', status: 'canceled', output: null } });

    // A cooperative abort is no throw: the same process serves the next prediction.
    const next = await predict(server.url, { input: { note: 'after-disconnect' } });
    expect(next).toMatchObject({ status: 200, body: { status: 'succeeded', output: { note: 'after-disconnect' } } });
    expect(calls()).not.toContain('start sync-queued');
    expect(server.child.exitCode).toBeNull();
    expect(await healthOf(server.url)).toBe('READY');
    if (supervised) {
      const metrics = await (await request(`${server.url}/metrics`)).body.text();
      expect(metrics).not.toMatch(/^model_restarts_total\{[^}]*\} [1-9]/m);
    }
  });
});
