// The supervisor gathers bodies of 64 KiB to 8 MiB into buffers it reuses once every holder is
// done with them (src/supervisor/gather-pool.ts). A buffer given back too early would hand one
// request's bytes to another: these run the real supervisor and worker with many uploads of
// distinct bytes at once, in the ways a buffer outlives its response (async predictions waiting in
// the queue, clients that go away mid-inference, a worker killed with uploads in flight), and check
// that every model call saw exactly its own bytes, and that buffers were reused meanwhile.
import { randomBytes } from 'node:crypto';
import { Agent, FormData, request } from 'undici';
import { afterEach, expect, test, vi } from 'vitest';
import { sha256, upload, uploadsAcrossAWorkerKill } from '../helpers/bytes-uploads.js';
import { startServer, type RunningServer } from '../helpers/http-server.js';
import { fixture } from '../helpers/run-process.js';
import { supervisorBin } from '../helpers/supervisor.js';

const model = fixture('bytes-model.mjs');
const servers: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.stop()));
});

async function supervised(env: Record<string, string> = {}): Promise<RunningServer> {
  const server = await startServer(supervisorBin, { MAX_QUEUE: '200', ...env }, [model]);
  servers.push(server);
  return server;
}

// Bodies in the pooled sizes, each different in length and bytes.
const distinctUploads = (count: number, from: number) =>
  Array.from({ length: count }, (_, index) => randomBytes(70 * 1024 + (((index + from) * 37_813) % (1400 * 1024))));

function form(bytes: Buffer, fields: Record<string, string>): FormData {
  const body = new FormData();
  for (const [name, value] of Object.entries(fields)) body.append(name, value);
  body.append('file', new Blob([bytes]), 'file.bin');
  return body;
}

async function reusedCount(url: string): Promise<number> {
  const text = await (await request(`${url}/metrics`)).body.text();
  const line = /^body_buffers_reused_total (\d+)$/m.exec(text);
  if (!line) throw new Error(`no body_buffers_reused_total in /metrics:\n${text.slice(0, 2000)}`);
  return Number(line[1]);
}

test('many uploads at once, sync and async (answered 202 while they wait in the queue), each reaches the model as its own bytes while buffers are reused', async () => {
  const server = await supervised();
  const agent = new Agent({ connections: 40 });
  // Async ones first: their responses close at once, while their bodies wait behind a slow model,
  // more of them than the supervisor takes ahead (17), so that some wait in the admission queue.
  const asyncBodies = distinctUploads(30, 0);
  const accepted = await Promise.all(
    asyncBodies.map(async (bytes, index) => {
      const response = await request(`${server.url}/predict`, {
        method: 'POST',
        headers: { prefer: 'respond-async' },
        body: form(bytes, { delay_ms: '20', note: `a${index}` }),
        dispatcher: agent,
      });
      expect(response.statusCode).toBe(202);
      return ((await response.body.json()) as { id: string }).id;
    }),
  );
  // Sync ones behind them, whose bodies would land in any buffer given back too early.
  const syncBodies = distinctUploads(24, 100);
  const answers = await Promise.all(syncBodies.map((bytes, index) => upload(server.url, { file: bytes }, { note: `s${index}` }, agent)));
  answers.forEach((answer, index) => {
    expect(answer.status).toBe(200);
    expect(answer.body.output.note).toBe(`s${index}`);
    expect(answer.body.output.file).toMatchObject({ sha256: sha256(syncBodies[index]!), length: syncBodies[index]!.length });
  });
  for (const [index, id] of accepted.entries()) {
    const state = await vi.waitFor(
      async () => {
        const body = (await (await request(`${server.url}/predictions/${id}`, { dispatcher: agent })).body.json()) as any;
        if (body.status !== 'succeeded') throw new Error(`prediction ${id} is ${body.status}`);
        return body;
      },
      { timeout: 30_000, interval: 50 },
    );
    expect(state.output.note).toBe(`a${index}`);
    expect(state.output.file).toMatchObject({ sha256: sha256(asyncBodies[index]!), length: asyncBodies[index]!.length });
  }
  expect(await reusedCount(server.url)).toBeGreaterThan(0);
  await agent.close();
});

test('clients that go away mid-inference: the uploads sent beside and after them each reach the model as their own bytes', async () => {
  const server = await supervised();
  const agent = new Agent({ connections: 40 });
  const before = await reusedCount(server.url);
  const abandoned = distinctUploads(10, 200).map(async (bytes, index) => {
    const controller = new AbortController();
    const sent = request(`${server.url}/predict`, {
      method: 'POST',
      body: form(bytes, { delay_ms: '200', note: `gone${index}` }),
      signal: controller.signal,
      dispatcher: agent,
    });
    // Gone once the body is on its way and the model holds or waits for it.
    setTimeout(() => controller.abort(), 60);
    await sent.then(
      (response) => response.body.dump(),
      () => undefined,
    );
  });
  const bodies = distinctUploads(20, 300);
  const answers = await Promise.all(bodies.map((bytes, index) => upload(server.url, { file: bytes }, { note: `k${index}` }, agent)));
  await Promise.all(abandoned);
  answers.forEach((answer, index) => {
    expect(answer.status).toBe(200);
    expect(answer.body.output.note).toBe(`k${index}`);
    expect(answer.body.output.file).toMatchObject({ sha256: sha256(bodies[index]!), length: bodies[index]!.length });
  });
  // And after them, on buffers the canceled ones did not give back.
  const after = distinctUploads(8, 400);
  for (const [index, bytes] of after.entries()) {
    const answer = await upload(server.url, { file: bytes }, { note: `z${index}` }, agent);
    expect(answer.body.output.file).toMatchObject({ sha256: sha256(bytes), length: bytes.length });
  }
  expect(await reusedCount(server.url)).toBeGreaterThan(before);
  await agent.close();
});

test('a worker killed while pooled uploads stream to it: every answer is its own bytes (re-sent ones included), or the death of the one it ran', async () => {
  const server = await supervised();
  const uploads = distinctUploads(24, 500).map((bytes, index) => ({ index, bytes }));
  const { outcomes } = await uploadsAcrossAWorkerKill(server, uploads, { delayMs: 30, answeredBeforeKill: 4 });
  expect(outcomes).toHaveLength(uploads.length);
  const died = outcomes.filter((outcome) => outcome.status !== 200);
  expect(died.length).toBeLessThanOrEqual(1);
  for (const outcome of outcomes.filter((each) => each.status === 200)) {
    expect(outcome.body.output.note).toBe(`u${outcome.index}`);
    expect(outcome.body.output.file.sha256).toBe(sha256(uploads[outcome.index]!.bytes));
  }
  // The new worker's requests reuse buffers again.
  const next = distinctUploads(6, 600);
  for (const bytes of next) {
    const answer = await upload(server.url, { file: bytes });
    expect(answer.body.output.file.sha256).toBe(sha256(bytes));
  }
  expect(await reusedCount(server.url)).toBeGreaterThan(0);
});
