// Large binary values between the supervisor and its worker travel on the byte stream beside the
// IPC channel (src/supervisor/byte-channel.ts); the small ones stay in the IPC message. These run
// the real supervisor and its worker: the bytes reach the model exactly (at the threshold, one byte
// past it, several MB, two in one request), large result data comes back exactly, and a worker
// killed while many uploads stream to it loses none of them.
import { randomBytes } from 'node:crypto';
import { request } from 'undici';
import { afterEach, describe, expect, test } from 'vitest';
import { sha256, upload, uploadsAcrossAWorkerKill } from '../helpers/bytes-uploads.js';
import { startServer, type RunningServer } from '../helpers/http-server.js';
import { fixture } from '../helpers/run-process.js';
import { childPids, supervisorBin } from '../helpers/supervisor.js';

const model = fixture('bytes-model.mjs');
const threshold = 64 * 1024;
const servers: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.stop()));
});

async function serve(how: 'direct' | 'supervised', env: Record<string, string> = {}): Promise<RunningServer> {
  const server = how === 'direct' ? await startServer(model, env) : await startServer(supervisorBin, env, [model]);
  servers.push(server);
  return server;
}

// The result bytes the model makes (test/fixtures/bytes-model.mjs): byte i is i * 31 mod 251.
const pattern = (length: number) => Buffer.from(Array.from({ length }, (_, index) => (index * 31) % 251));

describe.each(['direct', 'supervised'] as const)('large binary values, %s', (how) => {
  test('inputs at the threshold, one byte past it and of several MB reach the model byte for byte, as Buffers, keys in order', async () => {
    const server = await serve(how);
    for (const length of [threshold, threshold + 1, 5 * 1024 * 1024 + 3]) {
      const bytes = randomBytes(length);
      const answer = await upload(server.url, { file: bytes }, { note: `n${length}` });
      expect(answer.status).toBe(200);
      expect(answer.body.output.file).toMatchObject({ sha256: sha256(bytes), length, buffer: true });
      // Past the threshold the worker reads the value into a Buffer of its own (the byte stream);
      // through the IPC channel it is a view of the whole deserialized message.
      if (how === 'supervised') expect(answer.body.output.file.own).toBe(length > threshold);
      expect(answer.body.output.note).toBe(`n${length}`);
    }
    // Two large values in one request, and a small one beside a large one.
    const [first, second, small] = [randomBytes(3 * 1024 * 1024), randomBytes(threshold + 17), randomBytes(100)];
    const both = await upload(server.url, { file: first, other: second });
    expect(both.status).toBe(200);
    expect(both.body.output.file).toMatchObject({ sha256: sha256(first), length: first.length, buffer: true });
    expect(both.body.output.other).toMatchObject({ sha256: sha256(second), length: second.length, buffer: true });
    expect(both.body.output.keys).toEqual(['file', 'other', 'result_bytes', 'delay_ms', 'scribble']);
    const mixed = await upload(server.url, { file: small, other: first });
    expect(mixed.body.output.file).toMatchObject({ sha256: sha256(small), length: 100, buffer: true });
    expect(mixed.body.output.other).toMatchObject({ sha256: sha256(first), length: first.length, buffer: true });
  });

  test('large result data comes back byte for byte (at the threshold, past it, several MB)', async () => {
    const server = await serve(how);
    for (const length of [threshold, threshold + 1, 6 * 1024 * 1024 + 5]) {
      const response = await request(`${server.url}/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/octet-stream' },
        body: JSON.stringify({ inputs: { result_bytes: length } }),
      });
      expect(response.statusCode).toBe(200);
      const body = Buffer.from(await response.body.arrayBuffer());
      expect(body.length).toBe(length);
      expect(sha256(body)).toBe(sha256(pattern(length)));
    }
  });
});

test('a worker killed (SIGKILL) while many large uploads stream to it: each is answered, correctly by the new worker or with AI_ERR_WORKER_DIED for the one it was running', async () => {
  const server = await serve('supervised', { MAX_QUEUE: '100' });
  const uploads = Array.from({ length: 24 }, (_, index) => ({ index, bytes: randomBytes(3 * 1024 * 1024 + index) }));
  const { worker, outcomes } = await uploadsAcrossAWorkerKill(server, uploads, { delayMs: 40, answeredBeforeKill: 3 });

  expect(outcomes).toHaveLength(uploads.length);
  const died = outcomes.filter((outcome) => outcome.status !== 200);
  // Only the request it was running (CONCURRENCY 1) may fail, and only as the supervisor says a death.
  expect(died.length).toBeLessThanOrEqual(1);
  for (const outcome of died) {
    expect(outcome.status).toBe(500);
    expect(outcome.body.error).toEqual({
      code: 'AI_ERR_WORKER_DIED',
      message: 'the model worker died (killed by SIGKILL) during this inference; it is being restarted',
    });
  }
  for (const outcome of outcomes.filter((each) => each.status === 200)) {
    const sent = uploads[outcome.index]!.bytes;
    expect(outcome.body.output.file).toMatchObject({ sha256: sha256(sent), length: sent.length, buffer: true });
    expect(outcome.body.output.note).toBe(`u${outcome.index}`);
  }
  expect(server.stderr()).toContain('the model worker died (killed by SIGKILL); restarting it');
  // The new worker has a channel of its own, and large values still cross it.
  const [replacement] = childPids(server.pid);
  expect(replacement).not.toBe(worker);
  const after = randomBytes(2 * 1024 * 1024);
  const answer = await upload(server.url, { file: after });
  expect(answer.status).toBe(200);
  expect(answer.body.output.file.sha256).toBe(sha256(after));
});
