// MODE=kserve's error paths that need a process to misbehave or stop: an inference past
// INFERENCE_TIMEOUT_MS (504), and requests that arrive while the server drains after SIGTERM (503),
// both answered in the protocol's shape, {"error": "..."}.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { startServer, stopOrKill, type RunningServer } from '../helpers/http-server.js';
import { expectValid } from '../helpers/open-inference.js';
import { everythingSentIsRead, RawConnection } from '../helpers/raw-connection.js';
import { fixture } from '../helpers/run-process.js';
import { eventually, supervisorBin } from '../helpers/supervisor.js';

// http-model: `delay_ms` makes an inference sleep. cog-model: `hold_file` holds an inference while
// that file exists, and every inference appends its note to CALLS_FILE when it starts.
const httpModel = fixture('http-model.mjs');
const holdModel = fixture('cog-model.mjs');
const scratch = mkdtempSync(join(tmpdir(), 'kserve-errors-'));

const servers: RunningServer[] = [];
const opened: RawConnection[] = [];
const openConnection = async (url: string): Promise<RawConnection> => {
  const connection = await RawConnection.open(url);
  opened.push(connection);
  return connection;
};
const gates: string[] = [];
const serveKserve = async (script: string, env: Record<string, string> = {}, args: string[] = []) => {
  const server = await startServer(script, { MODE: 'kserve', ...env }, args);
  servers.push(server);
  return server;
};
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

/** A V2 JSON infer request, one BYTES or INT64 tensor of one element per input. */
function inferBody(inputs: Record<string, string | number>): string {
  return JSON.stringify({
    inputs: Object.entries(inputs).map(([name, value]) => ({ name, shape: [1], datatype: typeof value === 'number' ? 'INT64' : 'BYTES', data: [value] })),
  });
}

async function infer(url: string, model: string, inputs: Record<string, string | number>): Promise<Answer> {
  const response = await request(`${url}/v2/models/${model}/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: inferBody(inputs),
  });
  return { status: response.statusCode, headers: response.headers, body: await response.body.json() };
}

async function get(url: string): Promise<Answer> {
  const response = await request(url);
  return { status: response.statusCode, headers: response.headers, body: await response.body.json() };
}

/** The protocol's error: `{"error": message}` and nothing else, valid against the official document. */
function expectError(answer: { status: number; body: any }, status: number, message: string | RegExp): void {
  expect(answer.status, JSON.stringify(answer.body)).toBe(status);
  expect(Object.keys(answer.body)).toEqual(['error']);
  if (typeof message === 'string') expect(answer.body.error).toBe(message);
  else expect(answer.body.error).toMatch(message);
  expectValid('inference_error_response', answer.body);
}

// Inferences the server holds: waiting in its queue, or in flight (handed to the engine).
async function pending(url: string): Promise<number> {
  const text = await (await request(`${url}/metrics`)).body.text();
  const value = (name: string) => Number(new RegExp(`^${name} (\\d+)`, 'm').exec(text)?.[1] ?? Number.NaN);
  return value('inference_queue_depth') + value('inferences_in_flight');
}

function calls(callsFile: string): string[] {
  try {
    return readFileSync(callsFile, 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

/**
 * One raw client connection on loopback: what the test writes is exactly what the server reads,
 * so a request can be begun before SIGTERM and finished after it on the same kept-alive socket.
 */

describe('MODE=kserve: an inference past INFERENCE_TIMEOUT_MS', () => {
  test('run directly: 504 {"error"}; the queued request gets 503; liveness and readiness turn 503 while the listener stays open; then the process exits 70', async () => {
    // The timeout leaves ample room to queue the second request while the first one runs.
    const server = await serveKserve(httpModel, { INFERENCE_TIMEOUT_MS: '3000', CONCURRENCY: '1' });
    const v2 = `${server.url}/v2/models/http-model`;
    // A request whose body is still uploading when the model times out: it is in flight, so the
    // drain (and the open listener) lasts until the test finishes it, and the probes can be read.
    const upload = await openConnection(server.url);
    const late = inferBody({ note: 'uploading' });
    upload.write(
      `POST /v2/models/http-model/infer HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(late)}\r\n\r\n${late.slice(0, 5)}`,
    );

    const stuck = infer(server.url, 'http-model', { delay_ms: 60_000, note: 'sleeps' });
    expect(await eventually(async () => (await pending(server.url)) === 1, 10_000)).toBe(true);
    const queued = infer(server.url, 'http-model', { note: 'queued' });
    expect(await eventually(async () => (await pending(server.url)) === 2, 10_000)).toBe(true);

    expectError(await stuck, 504, 'inference took longer than 3000 ms (INFERENCE_TIMEOUT_MS)');
    // Nothing runs on a stuck model: what waited is refused.
    expectError(await queued, 503, 'the model failed and the process is restarting; retry shortly');

    // Liveness and readiness say 503; the listener is still open, so the probes are answered.
    // (Readiness is read with `eventually` here: that it is 503 at once is the next test's.)
    const live = await get(`${server.url}/v2/health/live`);
    expect(live.status).toBe(503);
    expect(live.body).toEqual({ live: false, reason: expect.stringContaining('INFERENCE_TIMEOUT_MS') });
    expect(await eventually(async () => (await get(`${server.url}/v2/health/ready`)).status === 503, 10_000)).toBe(true);
    const ready = await get(`${server.url}/v2/health/ready`);
    expect(ready.status).toBe(503);
    expect(ready.body).toEqual({ ready: false, reason: expect.stringContaining('INFERENCE_TIMEOUT_MS') });
    expect(await get(`${v2}/ready`)).toMatchObject({ status: 503, body: { name: 'http-model', ready: false } });
    expect(server.child.exitCode).toBeNull();

    // The upload in flight is answered (503: the model takes no more work), then the process exits 70.
    upload.write(late.slice(5));
    const refused = await upload.jsonResponse();
    expectError(refused, 503, /shutting down|restarting/);
    expect(await server.exited).toEqual({ code: 70, signal: null });
    expect(server.stderr()).toContain('the model is stuck, so this process exits to be restarted');
  });

  // docs/explanation/supervisor.md: run directly, an inference past INFERENCE_TIMEOUT_MS "gets 504, readiness and
  // /health/live turn 503 at once". So a probe a client sends as soon as the 504 reaches it must
  // never find the server still ready. Each round is a fresh process (run directly, the process
  // exits 70). A probe that came too early could only be read in the same turn of the server's
  // event loop as the 504 left; the requests waiting behind the stuck one are answered (503) in
  // that turn too, which gives the probe time to arrive, and several rounds are run.
  test('run directly: a readiness probe sent as soon as the 504 arrives already gets 503 ("at once"), and liveness too', async () => {
    const seen: { ready: number; live: number }[] = [];
    for (let round = 0; round < 6; round++) {
      // 3 s: time for the 30 requests below to be queued before the timeout, on a loaded machine too.
      const server = await serveKserve(httpModel, { INFERENCE_TIMEOUT_MS: '3000' });
      // An upload in flight keeps the process (and the probe connections) open after the fault.
      const upload = await openConnection(server.url);
      upload.write('POST /v2/models/http-model/infer HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{');
      const readyProbe = await openConnection(server.url);
      const liveProbe = await openConnection(server.url);
      readyProbe.write('GET /v2/health/ready HTTP/1.1\r\nhost: x\r\n\r\n');
      expect(await readyProbe.jsonResponse()).toMatchObject({ status: 200, body: { ready: true } });
      liveProbe.write('GET /v2/health/live HTTP/1.1\r\nhost: x\r\n\r\n');
      expect(await liveProbe.jsonResponse()).toMatchObject({ status: 200, body: { live: true } });

      const client = await openConnection(server.url);
      client.onNextData(() => {
        readyProbe.write('GET /v2/health/ready HTTP/1.1\r\nhost: x\r\n\r\n');
        liveProbe.write('GET /v2/health/live HTTP/1.1\r\nhost: x\r\n\r\n');
      });
      const body = inferBody({ delay_ms: 60_000, note: `round ${round}` });
      client.write(
        `POST /v2/models/http-model/infer HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
      expect(await eventually(async () => (await pending(server.url)) === 1, 10_000)).toBe(true);
      // Requests waiting behind the stuck one: the server answers them (503) as it answers the 504.
      // They must be queued before the timeout: one still connecting then is closed unanswered, as
      // the drain closes every connection with no request begun (it did once, with 1 s, under load).
      const waiting = Array.from({ length: 30 }, (_, index) => infer(server.url, 'http-model', { note: `waiting ${index}` }));
      expect(await eventually(async () => (await pending(server.url)) === 31, 10_000)).toBe(true);
      expectError(await client.jsonResponse(), 504, 'inference took longer than 3000 ms (INFERENCE_TIMEOUT_MS)');
      seen.push({ ready: (await readyProbe.jsonResponse()).status, live: (await liveProbe.jsonResponse()).status });
      for (const answer of await Promise.all(waiting)) expect(answer.status).toBe(503);
      upload.socket.destroy();
      expect(await server.exited).toEqual({ code: 70, signal: null });
    }
    expect(seen).toEqual(Array.from({ length: 6 }, () => ({ ready: 503, live: 503 })));
  });

  test('under the supervisor: 504 {"error"}; the worker is replaced, and the request queued behind the stuck one is served', async () => {
    const server = await serveKserve(supervisorBin, { INFERENCE_TIMEOUT_MS: '300', WORKER_KILL_GRACE_MS: '500' }, [httpModel]);
    const stuck = infer(server.url, 'http-model', { delay_ms: 60_000, note: 'sleeps' });
    expect(await eventually(async () => (await pending(server.url)) >= 1, 10_000)).toBe(true);
    const queued = infer(server.url, 'http-model', { note: 'queued' });
    expectError(await stuck, 504, /^inference took longer than 300 ms \(INFERENCE_TIMEOUT_MS\)/);
    const served = await queued;
    expect(served.status, JSON.stringify(served.body)).toBe(200);
    expect(JSON.parse(served.body.outputs[0].data[0])).toEqual({ received: expect.objectContaining({ note: 'queued' }) });
    expect(await eventually(async () => (await get(`${server.url}/v2/health/ready`)).status === 200, 20_000)).toBe(true);
    expect(server.child.exitCode).toBeNull();
    const metrics = await (await request(`${server.url}/metrics`)).body.text();
    expect(metrics).toMatch(/^model_restarts_total\{cause="timeout"\} 1$/m);
  });
});

describe('MODE=kserve: SIGTERM while an inference is in flight', () => {
  test('an infer request arriving during the drain on a kept-alive connection gets 503 {"error"} with Connection: close; the one in flight still gets 200; then exit 0', async () => {
    const callsFile = join(scratch, 'calls-drain');
    const server = await serveKserve(holdModel, { CALLS_FILE: callsFile });
    const hold = gate('hold-drain');
    const inFlight = infer(server.url, 'cog-model', { note: 'in-flight', hold_file: hold.path });
    expect(await eventually(() => calls(callsFile).includes('in-flight'), 10_000)).toBe(true);

    // Kept-alive connections opened (and used) before SIGTERM: one for a late infer request, one
    // for a late readiness probe. Each has its next request begun, so the drain does not close it
    // as idle, but not yet arrived when SIGTERM comes.
    const keptAlive = await openConnection(server.url);
    keptAlive.write('GET /v2/health/live HTTP/1.1\r\nhost: x\r\n\r\n');
    expect((await keptAlive.jsonResponse()).status).toBe(200);
    const probe = await openConnection(server.url);
    probe.write('GET /v2/health/ready HTTP/1.1\r\nhost: x\r\n\r\n');
    expect((await probe.jsonResponse()).body).toEqual({ ready: true });
    keptAlive.write('POST /v2/models/cog-model/infer HTTP/1.1\r\nhost: x\r\n');
    probe.write('GET /v2/health/ready HTTP/1.1\r\nhost: x\r\n');
    // The server must have read them: a connection with nothing begun is closed at once.
    await everythingSentIsRead(server.url, '/v2/health/live');

    server.child.kill('SIGTERM');
    expect(await eventually(() => server.stderr().includes('SIGTERM: draining'), 10_000)).toBe(true);

    const late = inferBody({ note: 'late' });
    keptAlive.write(`content-type: application/json\r\ncontent-length: ${Buffer.byteLength(late)}\r\n\r\n${late}`);
    const refused = await keptAlive.jsonResponse();
    expectError(refused, 503, 'the server is shutting down and takes no new work (received SIGTERM)');
    expect(refused.headers.connection).toBe('close');
    await keptAlive.whenClosed;

    // The probes still answer while the server drains: not ready.
    probe.write('\r\n');
    const readiness = await probe.jsonResponse();
    expect(readiness.status).toBe(503);
    expect(readiness.body).toEqual({ ready: false, reason: 'received SIGTERM' });

    hold.open();
    const served = await inFlight;
    expect(served.status, JSON.stringify(served.body)).toBe(200);
    expectValid('inference_response', served.body);
    expect(served.body).toMatchObject({ model_name: 'cog-model', outputs: [{ name: 'output', datatype: 'BYTES', shape: [1] }] });
    expect(JSON.parse(served.body.outputs[0].data[0])).toMatchObject({ note: 'in-flight' });
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(calls(callsFile)).not.toContain('late');
  });
});
