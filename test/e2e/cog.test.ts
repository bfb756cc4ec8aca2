// MODE=cog where a process of its own is needed: POST /shutdown's exit, a throw run directly, the
// supervisor's restart in place. The protocol's shapes are tested in the test's process:
// test/unit/cog-protocol.test.ts.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { startServer, type RunningServer } from '../helpers/http-server.js';
import { fixture } from '../helpers/run-process.js';
import { loadWithThrows, type LoadProtocol } from '../helpers/load-with-throws.js';
import { eventually, supervisorBin, workersReady } from '../helpers/supervisor.js';

const model = fixture('cog-model.mjs');
const scratch = mkdtempSync(join(tmpdir(), 'cog-e2e-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const thrown = 'the inference function threw: CUDA error: device-side assert triggered';

type Json = Record<string, any>;

/** A request to a Cog route with a JSON body (`undefined`: no body at all). */
function send(url: string, method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown, headers: Record<string, string> = {}) {
  const withBody = body !== undefined;
  return request(`${url}${path}`, {
    method,
    headers: withBody ? { 'content-type': 'application/json', ...headers } : headers,
    ...(withBody ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
}

async function answer(pending: ReturnType<typeof send>): Promise<{ status: number; body: Json; headers: Record<string, unknown> }> {
  const response = await pending;
  return { status: response.statusCode, body: (await response.body.json()) as Json, headers: response.headers };
}

const healthOf = async (url: string) => (await answer(send(url, 'GET', '/health-check'))).body.status as string;

const gates: string[] = [];
/** A file whose existence holds an inference (`hold_file`) or a model load (LOAD_WAIT_FILE); every gate opens after each test. */
function gate(name: string) {
  const path = join(scratch, `${name}-${Math.random().toString(36).slice(2)}`);
  gates.push(path);
  return { path, close: () => writeFileSync(path, ''), open: () => rmSync(path, { force: true }) };
}
// A failing test must not leave a model held, which would stall the server's drain.
afterEach(() => {
  for (const path of gates.splice(0)) rmSync(path, { force: true });
});

describe('MODE=cog: POST /shutdown and a model fault run directly', () => {
  const servers: RunningServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.stop()));
  });

  test('POST /shutdown drains like SIGTERM: the prediction in flight gets its answer, then the process exits 0', async () => {
    const server = await startServer(model, { MODE: 'cog' });
    servers.push(server);
    const hold = gate('hold-shutdown');
    hold.close();
    const inFlight = answer(send(server.url, 'POST', '/predictions', { input: { note: 'drained', hold_file: hold.path } }));
    expect(await eventually(async () => (await healthOf(server.url)) === 'BUSY', 10_000)).toBe(true);
    const shutdown = await answer(send(server.url, 'POST', '/shutdown'));
    expect(shutdown).toMatchObject({ status: 200, body: {} });
    hold.open();
    expect((await inFlight).body).toMatchObject({ status: 'succeeded', output: { note: 'drained' } });
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(server.stderr()).toContain('POST /shutdown: draining');
  });

  test('run directly, a throw is a failed prediction; the service is DEFUNCT while it drains, then exits to be restarted', async () => {
    const server = await startServer(model, { MODE: 'cog', CONCURRENCY: '2' });
    servers.push(server);
    const hold = gate('hold-defunct');
    hold.close();
    const inFlight = answer(send(server.url, 'POST', '/predictions', { input: { note: 'finishes', hold_file: hold.path } }));
    const threw = await answer(send(server.url, 'POST', '/predictions', { input: { action: 'throw' } }));
    expect(threw.status).toBe(200);
    expect(threw.body).toMatchObject({ status: 'failed', output: null, error: thrown });
    expect(await eventually(async () => (await healthOf(server.url)) === 'DEFUNCT', 10_000)).toBe(true);
    hold.open();
    expect((await inFlight).body).toMatchObject({ status: 'succeeded', output: { note: 'finishes' } });
    expect((await server.exited).code).toBe(70);
  });
});

describe('MODE=cog under the supervisor', () => {
  const servers: RunningServer[] = [];
  const supervise = async (env: Record<string, string>) => {
    const server = await startServer(supervisorBin, { MODE: 'cog', ...env }, [model]);
    servers.push(server);
    return server;
  };
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.stop()));
  });

  test('a throw restarts the model in place: STARTING while it loads again, then READY; a prediction sent meanwhile is served', async () => {
    const load = gate('load');
    const server = await supervise({ LOAD_WAIT_FILE: load.path });
    expect(await healthOf(server.url)).toBe('READY');
    load.close(); // the next load waits until the test opens it
    const threw = await answer(send(server.url, 'POST', '/predictions', { input: { action: 'throw' } }));
    expect(threw).toMatchObject({ status: 200, body: { status: 'failed', error: thrown } });
    expect(await eventually(async () => (await healthOf(server.url)) === 'STARTING', 10_000)).toBe(true);
    const meanwhile = answer(send(server.url, 'POST', '/predictions', { input: { note: 'sent while restarting' } }));
    const health = await answer(send(server.url, 'GET', '/health-check'));
    expect(health).toMatchObject({ status: 200, body: { status: 'STARTING', setup: { status: 'succeeded' } } });
    load.open();
    expect((await meanwhile).body).toMatchObject({ status: 'succeeded', output: { note: 'sent while restarting' } });
    expect(await eventually(async () => (await healthOf(server.url)) === 'READY', 10_000)).toBe(true);
  });

  test('WORKERS=2: READY while a worker has a free slot, BUSY once every slot of every worker runs a prediction, READY again when one ends', async () => {
    const calls = join(scratch, 'busy-calls');
    const server = await supervise({ WORKERS: '2', CALLS_FILE: calls });
    expect(await workersReady(server.url, 2)).toBe(true);
    const started = (note: string) => () => existsSync(calls) && readFileSync(calls, 'utf8').split('\n').includes(note);
    const [first, second] = [gate('busy-first'), gate('busy-second')];
    first.close();
    second.close();
    const running = answer(send(server.url, 'POST', '/predictions', { input: { note: 'first', hold_file: first.path } }));
    expect(await eventually(started('first'), 10_000)).toBe(true);
    // One worker runs a prediction, the other has its slot free: a prediction sent now starts at once.
    expect(await healthOf(server.url)).toBe('READY');
    const alsoRunning = answer(send(server.url, 'POST', '/predictions', { input: { note: 'second', hold_file: second.path } }));
    expect(await eventually(started('second'), 10_000)).toBe(true);
    expect(await healthOf(server.url)).toBe('BUSY');
    second.open();
    expect((await alsoRunning).body).toMatchObject({ status: 'succeeded', output: { note: 'second' } });
    expect(await eventually(async () => (await healthOf(server.url)) === 'READY', 10_000)).toBe(true);
    first.open();
    expect((await running).body).toMatchObject({ status: 'succeeded', output: { note: 'first' } });
  });

  test('under load with throws: no connection errors, nothing lost, every answer the right one; health shows the restarts as STARTING', async () => {
    const server = await supervise({ START_DELAY_MS: '300', MAX_QUEUE: '200' });
    const total = 90;
    // The native test's load (test/helpers/load-with-throws.ts), spoken in Cog's API: each request
    // an idempotent PUT with its own id, readiness read from /health-check's body.
    const cogLoad: LoadProtocol = {
      healthPath: '/health-check',
      health: (_status, body) => (body as { status: string }).status,
      request: (input, index) => ({
        path: `/predictions/load-${index}`,
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ input }),
      }),
      read: (_status, body) => {
        const prediction = body as { id: string; status: string; output?: { note?: string }; error?: string };
        // A note only counts when the envelope is a success for the right id.
        const right = prediction.status === 'succeeded' && prediction.id.startsWith('load-') ? prediction.output?.note : undefined;
        return { note: right === undefined ? undefined : `${prediction.id}: ${right}`, error: prediction.error ?? undefined };
      },
    };
    const { connectionErrors, outcomes, readiness: health } = await loadWithThrows(server.url, total, 6, 30, cogLoad);
    await eventually(async () => (await healthOf(server.url)) === 'READY', 10_000);

    expect(connectionErrors).toBe(0);
    expect(outcomes).toHaveLength(total);
    expect(outcomes.filter((outcome) => outcome.status !== 200)).toEqual([]);
    const throwing = outcomes.filter((outcome) => outcome.throwing);
    expect(throwing.map((outcome) => outcome.index).sort((a, b) => a - b)).toEqual([10, 40, 70]);
    for (const outcome of throwing) expect(outcome.error).toBe(thrown);
    const wrong = outcomes.filter((outcome) => !outcome.throwing && outcome.note !== `load-${outcome.index}: request ${outcome.index}`);
    expect(wrong).toEqual([]);
    expect(health).toContain('STARTING');
    expect(health).not.toContain('DEFUNCT');
    expect(await healthOf(server.url)).toBe('READY');
    const metrics = await (await send(server.url, 'GET', '/metrics')).body.text();
    expect(metrics).toMatch(/^model_restarts_total\{cause="threw"\} 3$/m);
  });
});

describe('MODE=cog with a batch model: its slots are requests, CONCURRENCY batches of batch.maxSize', () => {
  const batchModel = fixture('batch-model.mjs');
  const servers: RunningServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.stop()));
  });

  test.each([
    { how: 'run directly', script: batchModel, args: [] as string[] },
    { how: 'under the supervisor', script: supervisorBin, args: [batchModel] },
  ])(
    '$how: READY while one request runs and the next batch has room, BUSY once CONCURRENCY x maxSize requests are held, READY again after',
    async ({ script, args }) => {
      const calls = join(scratch, `batch-calls-${Math.random().toString(36).slice(2)}`);
      const server = await startServer(script, { MODE: 'cog', CONCURRENCY: '1', BATCH_MAX_SIZE: '2', CALLS_FILE: calls }, args);
      servers.push(server);
      const hold = gate('batch-hold');
      hold.close();
      const predict = (note: string) => answer(send(server.url, 'POST', '/predictions', { input: { note, hold_file: hold.path } }));
      const first = predict('first');
      expect(await eventually(() => existsSync(calls) && readFileSync(calls, 'utf8').includes('batch 1 first'), 20_000)).toBe(true);
      // One batch runs (the one CONCURRENCY allows), holding one request: a request sent now joins the next batch.
      expect(await healthOf(server.url)).toBe('READY');
      const second = predict('second');
      expect(await eventually(async () => (await healthOf(server.url)) === 'BUSY', 20_000)).toBe(true);
      hold.open();
      expect((await first).body).toMatchObject({ status: 'succeeded', output: { note: 'first', batch: 1 } });
      expect((await second).body).toMatchObject({ status: 'succeeded', output: { note: 'second', batch: 1 } });
      expect(await eventually(async () => (await healthOf(server.url)) === 'READY', 10_000)).toBe(true);
    },
  );
});
