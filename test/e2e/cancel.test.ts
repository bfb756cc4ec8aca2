import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterEach, describe, expect, test } from 'vitest';
import { callJson, startServer, type RunningServer } from '../helpers/http-server.js';
import { fixture } from '../helpers/run-process.js';
import { eventually, supervisorBin } from '../helpers/supervisor.js';

const model = fixture('cancel-model.mjs');
const scratch = mkdtempSync(join(tmpdir(), 'ai-cancel-'));
const servers: RunningServer[] = [];
let files = 0;

async function serve(supervised: boolean, env: Record<string, string> = {}): Promise<{ server: RunningServer; calls: () => string[] }> {
  const callsFile = join(scratch, `calls-${++files}`);
  const server = supervised
    ? await startServer(supervisorBin, { CALLS_FILE: callsFile, ...env }, [model])
    : await startServer(model, { CALLS_FILE: callsFile, ...env });
  servers.push(server);
  return { server, calls: () => (existsSync(callsFile) ? readFileSync(callsFile, 'utf8').trim().split('\n') : []) };
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.stop()));
});

const call = callJson;

const submit = async (url: string, inputs: Record<string, unknown>) => {
  const answer = await call(url, 'POST', '/predict', { inputs }, { prefer: 'respond-async' });
  expect(answer.status).toBe(202);
  return answer.body.id as string;
};
const state = async (url: string, id: string) => (await call(url, 'GET', `/predictions/${id}`)).body;
const settled = async (url: string, id: string) => {
  expect(await eventually(async () => !['starting', 'processing'].includes((await state(url, id)).status), 20_000)).toBe(true);
  return state(url, id);
};

describe.each([
  ['run directly', false],
  ['under the supervisor', true],
])('cancel (%s)', (_, supervised) => {
  test('a queued prediction is dropped and never runs; a running one that honours its signal stops; nothing restarts and the next one is served', async () => {
    const { server, calls } = await serve(supervised);
    const running = await submit(server.url, { action: 'cooperative', note: 'running' });
    expect(await eventually(() => calls().includes('start running'), 10_000)).toBe(true);
    const queued = await submit(server.url, { action: 'quick', note: 'queued' });
    // Under the supervisor a few requests are handed to the worker ahead (it queues them itself),
    // so a waiting one may already read as processing.
    expect(supervised ? ['starting', 'processing'] : ['starting']).toContain((await state(server.url, queued)).status);

    const dropped = await call(server.url, 'POST', `/predictions/${queued}/cancel`);
    expect(dropped.status).toBe(200);
    expect(dropped.body).toMatchObject({ id: queued, status: 'canceled', error: { code: 'AI_ERR_CANCELED' } });

    const stopped = await call(server.url, 'POST', `/predictions/${running}/cancel`);
    expect(stopped.status).toBe(200);
    expect(stopped.body).toMatchObject({ id: running, status: 'canceled', error: { code: 'AI_ERR_CANCELED' } });
    expect(stopped.body.started_at).not.toBeNull();
    expect(calls()).toContain('abort running');

    // A cooperative abort is no throw: the same process serves the next prediction.
    const next = await call(server.url, 'POST', '/predict', { inputs: { note: 'next' } });
    expect(next.status).toBe(200);
    expect(calls()).not.toContain('start queued');
    if (supervised) expect(await metricsRestarts(server.url)).toBe(0);
    else expect(server.child.exitCode).toBeNull();

    // Canceling an ended prediction changes nothing; an unknown id is 404.
    expect((await call(server.url, 'POST', `/predictions/${running}/cancel`)).body.status).toBe('canceled');
    expect((await call(server.url, 'POST', '/predictions/nope/cancel')).status).toBe(404);
  });

  test('a client that disconnects from a synchronous request cancels its prediction, running or queued', async () => {
    const { server, calls } = await serve(supervised);
    const runningClient = new AbortController();
    const running = request(`${server.url}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: { action: 'cooperative', note: 'sync-running' } }),
      signal: runningClient.signal,
    });
    running.catch(() => {});
    expect(await eventually(() => calls().includes('start sync-running'), 10_000)).toBe(true);
    const queuedClient = new AbortController();
    const queued = request(`${server.url}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: { note: 'sync-queued' } }),
      signal: queuedClient.signal,
    });
    queued.catch(() => {});
    // The queued one waits (the model holds the only slot) before its client leaves; the server has
    // dropped it (one inference left, queued or handed ahead to the worker) before the other leaves.
    expect(await eventually(async () => (await pending(server.url)) === 2, 10_000)).toBe(true);
    queuedClient.abort();
    expect(await eventually(async () => (await pending(server.url)) === 1, 10_000)).toBe(true);
    runningClient.abort();
    expect(await eventually(() => calls().includes('abort sync-running'), 10_000)).toBe(true);
    const next = await call(server.url, 'POST', '/predict', { inputs: { note: 'after-disconnect' } });
    expect(next.status).toBe(200);
    expect(calls()).not.toContain('start sync-queued');
  });
});

describe('cancel of a model that ignores its signal', () => {
  test('under the supervisor: past CANCEL_GRACE_MS the worker is restarted, the prediction is canceled, and the queued ones are served by the new worker', async () => {
    const { server, calls } = await serve(true, { CANCEL_GRACE_MS: '300' });
    const first = await call(server.url, 'POST', '/predict', { inputs: { note: 'before' } });
    const stubborn = await submit(server.url, { action: 'stubborn', note: 'stubborn' });
    expect(await eventually(() => calls().includes('start stubborn'), 10_000)).toBe(true);
    const waiting = [await submit(server.url, { note: 'waiting-1' }), await submit(server.url, { note: 'waiting-2' })];

    const canceled = await call(server.url, 'POST', `/predictions/${stubborn}/cancel`);
    expect(canceled.status).toBe(200);
    expect(canceled.body).toMatchObject({ status: 'canceled', error: { code: 'AI_ERR_CANCELED' } });
    expect(canceled.body.error.message).toMatch(/CANCEL_GRACE_MS/);
    for (const id of waiting) {
      const done = await settled(server.url, id);
      expect(done.status).toBe('succeeded');
      // Served by a new worker.
      expect(done.output.pid).not.toBe(first.body.output.pid);
    }
    expect(await metricsRestarts(server.url, 'canceled')).toBe(1);
  });

  test('run directly: the cancel is reported as not stopped, and the prediction stays processing', async () => {
    const { server, calls } = await serve(false, { CANCEL_GRACE_MS: '200' });
    const stubborn = await submit(server.url, { action: 'stubborn', note: 'stubborn-direct' });
    expect(await eventually(() => calls().includes('start stubborn-direct'), 10_000)).toBe(true);
    const answer = await call(server.url, 'POST', `/predictions/${stubborn}/cancel`);
    expect(answer.status).toBe(202);
    expect(answer.body.status).toBe('processing');
    expect(answer.body.cancel).toMatch(/did not stop within CANCEL_GRACE_MS/);
    expect((await state(server.url, stubborn)).status).toBe('processing');
  });
});

// The restarts of the model worker as /metrics counts them (all causes, or one).
async function metricsRestarts(url: string, cause?: string): Promise<number> {
  const text = await (await request(`${url}/metrics`)).body.text();
  let total = 0;
  for (const line of text.split('\n')) {
    const match = /^model_restarts_total\{([^}]*)\} (\d+)/.exec(line);
    if (match && (cause === undefined || match[1]!.includes(`cause="${cause}"`))) total += Number(match[2]);
  }
  return total;
}

// Inferences the server holds: waiting in its queue, or in flight (handed to the engine).
async function pending(url: string): Promise<number> {
  const text = await (await request(`${url}/metrics`)).body.text();
  const value = (name: string) => Number(new RegExp(`^${name} (\\d+)`, 'm').exec(text)?.[1] ?? Number.NaN);
  return value('inference_queue_depth') + value('inferences_in_flight');
}
