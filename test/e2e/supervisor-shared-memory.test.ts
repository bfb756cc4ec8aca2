// Large binary inputs (a multipart file or a binary body of 8 MiB or more) reach a supervised
// worker in shared memory (src/supervisor/shared-memory.ts): the supervisor gathers the body into
// a memory file and the worker maps it. These run the real supervisor and its worker: the bytes
// reach the model exactly (multipart and KServe binary tensor data, one or two workers), a model
// may write into its input, the supervisor closes every memory file once its request is answered
// (also after a timeout, a cancel, and a worker killed with such values in flight), and a build
// without the native helper hands the same values over on the byte stream.
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, FormData, request } from 'undici';
import { afterAll, afterEach, expect, test } from 'vitest';
import { sha256, upload, uploadsAcrossAWorkerKill } from '../helpers/bytes-uploads.js';
import { startServer, type RunningServer } from '../helpers/http-server.js';
import { fixture } from '../helpers/run-process.js';
import { childPids, eventually, supervisorBin } from '../helpers/supervisor.js';

const model = fixture('bytes-model.mjs');
const shared = 8 * 1024 * 1024;
const servers: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.stop()));
});

async function serve(env: Record<string, string> = {}, bin = supervisorBin): Promise<RunningServer> {
  const server = await startServer(bin, env, [model]);
  servers.push(server);
  return server;
}

/** The memory files a process holds open (its fds), the supervisor's probe left out. */
function memoryFiles(pid: number): string[] {
  const links: string[] = [];
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      links.push(readlinkSync(`/proc/${pid}/fd/${fd}`));
    } catch {
      // closed meanwhile
    }
  }
  return links.filter((link) => link.startsWith('/memfd:ai-integration-') && !link.includes('-probe'));
}

test('a multipart file of 8 MiB or more reaches the worker mapped, byte for byte, beside a smaller one on the byte stream; the memory file closes with its answer', async () => {
  const server = await serve();
  const [large, medium] = [randomBytes(shared + 123), randomBytes(3 * 1024 * 1024)];
  const answer = await upload(server.url, { file: large, other: medium }, { note: 'n1' });
  expect(answer.status).toBe(200);
  expect(answer.body.output.file).toMatchObject({ sha256: sha256(large), length: large.length, buffer: true });
  expect(answer.body.output.other).toMatchObject({ sha256: sha256(medium), length: medium.length, buffer: true });
  expect(answer.body.output.note).toBe('n1');
  expect(answer.body.output.mapped).toBeGreaterThanOrEqual(1);
  // Closed when the request was answered, before the answer was written.
  expect(memoryFiles(server.pid)).toEqual([]);

  // A model that writes into its input writes into its own copy of the pages.
  const scribbled = await upload(server.url, { file: large }, { scribble: 'true' });
  expect(scribbled.status).toBe(200);
  const expected = Buffer.from(large);
  expected.fill(0x5a, 0, 1024);
  expect(scribbled.body.output.file.sha256).toBe(sha256(expected));
  // Below the size, the byte stream as before: nothing mapped.
  const small = await upload(server.url, { file: medium });
  expect(small.body.output.file.sha256).toBe(sha256(medium));
  expect(memoryFiles(server.pid)).toEqual([]);
});

test('KServe binary tensor data of 8 MiB or more: the BYTES element is mapped from the body the supervisor gathered', async () => {
  const server = await serve({ MODE: 'kserve', MODEL_NAME: 'm' });
  const data = randomBytes(shared + 5);
  const header = Buffer.from(JSON.stringify({ inputs: [{ name: 'file', shape: [1], datatype: 'BYTES', parameters: { binary_data_size: data.length + 4 } }] }));
  const prefix = Buffer.alloc(4);
  prefix.writeUInt32LE(data.length);
  expect(await eventually(async () => (await request(`${server.url}/v2/health/ready`)).statusCode === 200, 60_000)).toBe(true);
  const response = await request(`${server.url}/v2/models/m/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) },
    body: Buffer.concat([header, prefix, data]),
  });
  expect(response.statusCode).toBe(200);
  const output = JSON.parse(((await response.body.json()) as any).outputs[0].data[0]);
  expect(output.file).toMatchObject({ sha256: sha256(data), length: data.length, buffer: true });
  expect(output.mapped).toBeGreaterThanOrEqual(1);
  expect(memoryFiles(server.pid)).toEqual([]);
});

test('two workers (WORKERS=2) each map the uploads they get', async () => {
  const server = await serve({ WORKERS: '2' });
  expect(await eventually(() => childPids(server.pid).length === 2, 60_000)).toBe(true);
  const uploads = Array.from({ length: 4 }, (_, index) => randomBytes(shared + index));
  const agent = new Agent({ connections: 4 });
  const answers = await Promise.all(uploads.map((bytes) => upload(server.url, { file: bytes }, { delay_ms: '50' }, agent)));
  await agent.close();
  answers.forEach((answer, index) => {
    expect(answer.status).toBe(200);
    expect(answer.body.output.file.sha256).toBe(sha256(uploads[index]!));
    expect(answer.body.output.mapped).toBeGreaterThanOrEqual(1);
  });
  expect(memoryFiles(server.pid)).toEqual([]);
});

test('a worker killed (SIGKILL) with mapped uploads in flight: each is answered, by the new worker or with AI_ERR_WORKER_DIED for the one it ran, and no memory file stays open', async () => {
  const server = await serve({ MAX_QUEUE: '100' });
  const uploads = Array.from({ length: 6 }, (_, index) => ({ index, bytes: randomBytes(shared + index) }));
  // Killed once one was answered and the others are in the worker's queue (mapped) or on their way.
  const { outcomes } = await uploadsAcrossAWorkerKill(server, uploads, { delayMs: 100, answeredBeforeKill: 1 });
  expect(outcomes).toHaveLength(uploads.length);
  const died = outcomes.filter((outcome) => outcome.status !== 200);
  expect(died.length).toBeLessThanOrEqual(1);
  for (const outcome of died) expect(outcome.body.error.code).toBe('AI_ERR_WORKER_DIED');
  for (const outcome of outcomes.filter((each) => each.status === 200)) {
    expect(outcome.body.output.file.sha256).toBe(sha256(uploads[outcome.index]!.bytes));
    expect(outcome.body.output.note).toBe(`u${outcome.index}`);
  }
  expect(server.stderr()).toContain('the model worker died (killed by SIGKILL); restarting it');
  expect(memoryFiles(server.pid)).toEqual([]);
  // The new worker maps too.
  const after = randomBytes(shared);
  const answer = await upload(server.url, { file: after });
  expect(answer.status).toBe(200);
  expect(answer.body.output.file.sha256).toBe(sha256(after));
  expect(answer.body.output.mapped).toBeGreaterThanOrEqual(1);
  expect(memoryFiles(server.pid)).toEqual([]);
});

test('an inference past INFERENCE_TIMEOUT_MS with a mapped input: 504, and its memory file is closed', async () => {
  const server = await serve({ INFERENCE_TIMEOUT_MS: '300' });
  const answer = await upload(server.url, { file: randomBytes(shared) }, { delay_ms: '20000' });
  expect(answer.status).toBe(504);
  expect(memoryFiles(server.pid)).toEqual([]);
});

test('a client that goes away while its mapped upload runs: the prediction is canceled and its memory file closed', async () => {
  const server = await serve({ CANCEL_GRACE_MS: '300' });
  const [worker] = childPids(server.pid);
  const form = new FormData();
  form.append('delay_ms', '20000');
  form.append('file', new Blob([randomBytes(shared)]), 'file.bin');
  const controller = new AbortController();
  const pending = request(`${server.url}/predict`, { method: 'POST', body: form, signal: controller.signal }).catch((error: Error) => error);
  // Gone once the worker has mapped the file (the model then sleeps, deaf to the cancel).
  const mappedInWorker = () =>
    readFileSync(`/proc/${worker}/maps`, 'utf8')
      .split('\n')
      .some((line) => line.includes('/memfd:ai-integration-') && !line.includes('-probe'));
  expect(await eventually(mappedInWorker, 60_000)).toBe(true);
  controller.abort();
  await pending;
  expect(await eventually(() => server.stderr().includes('did not stop a canceled inference'), 60_000)).toBe(true);
  expect(memoryFiles(server.pid)).toEqual([]);
});

// A copy of the build without dist/native (no C compiler when the package was built).
let withoutHelper: string | undefined;
afterAll(() => {
  if (withoutHelper) rmSync(withoutHelper, { recursive: true, force: true });
});

test('without the native helper, the same uploads travel on the byte stream', async () => {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  withoutHelper = mkdtempSync(join(tmpdir(), 'ai-integration-no-helper-'));
  cpSync(join(root, 'dist'), join(withoutHelper, 'dist'), { recursive: true, filter: (source) => !source.includes(`${join('dist', 'native')}`) });
  writeFileSync(join(withoutHelper, 'package.json'), JSON.stringify({ type: 'module' }));
  symlinkSync(join(root, 'node_modules'), join(withoutHelper, 'node_modules'));
  const server = await serve({}, join(withoutHelper, 'dist', 'cli.js'));
  const large = randomBytes(shared + 1);
  const answer = await upload(server.url, { file: large });
  expect(answer.status).toBe(200);
  expect(answer.body.output.file).toMatchObject({ sha256: sha256(large), length: large.length, buffer: true, own: true });
  expect(answer.body.output.mapped).toBe(0);
  expect(readdirSync(`/proc/${server.pid}/fd`).some((fd) => readlinkSync(`/proc/${server.pid}/fd/${fd}`).startsWith('/memfd:'))).toBe(false);
});
