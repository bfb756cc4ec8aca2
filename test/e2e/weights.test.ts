// WEIGHTS_URL: files fetched into WEIGHTS_DIR before the model loads, from a file server on
// loopback that serves Range requests and can cut or hold a body. Each test runs the built
// supervisor (or the shim directly) as a container would, and reads the server's request log.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { callJson, startServer } from '../helpers/http-server.js';
import { type RangeFileServer, startRangeFileServer, writeTestFile } from '../helpers/range-file-server.js';
import { fixture, repoRoot, runScript, stdoutJson } from '../helpers/run-process.js';
import { eventually, supervisorBin, workersReady } from '../helpers/supervisor.js';

const model = fixture('weights-model.mjs');
const scratch = mkdtempSync(join(tmpdir(), 'weights-'));
const MiB = 2 ** 20;
let files: { big: string; bigSha: string; small: string; smallSha: string };
let server: RangeFileServer;
let folders = 0;
/** A fresh WEIGHTS_DIR for each run that must fetch. */
const freshDir = () => join(scratch, `dir-${(folders += 1)}`);
const sha256Of = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

beforeAll(async () => {
  const big = join(scratch, 'big.bin');
  const small = join(scratch, 'small.bin');
  files = { big, bigSha: writeTestFile(big, 200), small, smallSha: writeTestFile(small, 20, 'small') };
  server = await startRangeFileServer({ 'model.bin': big, 'small.bin': small });
});
afterEach(() => {
  server.requests.length = 0;
});
afterAll(async () => {
  await server.close();
  rmSync(scratch, { recursive: true, force: true });
});

/** The supervisor with the weights model, in MODE=command_line (one inference, then exit). */
const runSupervised = (env: Record<string, string>) =>
  runScript(supervisorBin, { mode: 'command_line', args: [model], env: { WEIGHTS_CONNECTIONS: '4', ...env }, timeoutMs: 120_000 });

/** The files the fetcher left in a folder besides the weights themselves (partial downloads). */
const leftovers = (dir: string) => readdirSync(dir).filter((name) => name.includes('.partial'));

/** The supervisor with the weights model as a process the test watches while it runs: its output so far, its exit, and a SIGTERM that waits for that exit. */
function startSupervisor(env: Record<string, string>) {
  const child = spawn(process.execPath, [supervisorBin, model], {
    cwd: repoRoot,
    env: { ...(process.env as Record<string, string>), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    stderr: () => stderr,
    stdout: () => stdout,
    exited,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** A serving mode on a free loopback port, fetching small.bin over one connection. */
const serving = (mode: string, dir: string) => ({
  MODE: mode,
  PORT: '0',
  HOST: '127.0.0.1',
  WEIGHTS_URL: server.url('small.bin'),
  WEIGHTS_DIR: dir,
  WEIGHTS_CONNECTIONS: '1',
});

describe('WEIGHTS_URL under the supervisor', () => {
  test('a 200 MB file is fetched in ranges over several connections, checked against its sha256 and put in place', async () => {
    const dir = freshDir();
    const outcome = await runSupervised({ WEIGHTS_URL: `${server.url('model.bin')}#sha256=${files.bigSha}`, WEIGHTS_DIR: dir });
    expect(outcome.code, outcome.stderr).toBe(0);
    const answer = stdoutJson(outcome);
    expect(answer).toMatchObject({ path: join(dir, 'model.bin'), size: 200 * MiB, dir });
    expect(sha256Of(join(dir, 'model.bin'))).toBe(files.bigSha);
    const ranges = server.gets('model.bin').map((request) => request.range);
    // One byte to learn the size, then 50 MiB pieces over 4 connections.
    expect(ranges[0]).toBe('bytes=0-0');
    expect(ranges.slice(1).sort()).toEqual(['bytes=0-52428799', 'bytes=104857600-157286399', 'bytes=157286400-209715199', 'bytes=52428800-104857599']);
    // Each by the fetcher's own client (a connection per request), not undici's.
    expect(server.gets('model.bin').every((request) => request.connection === 'close')).toBe(true);
    expect(outcome.stderr).toContain(`weights: fetching model.bin from ${server.url('model.bin')} (210 MB)`);
    expect(outcome.stderr).toMatch(/weights: model\.bin 50% \(\d+ MB of 210 MB/);
    expect(outcome.stderr).toContain('weights: model.bin in place, sha256 checked');
    expect(leftovers(dir)).toEqual([]);

    // Started again on the same folder: in place, nothing fetched.
    server.requests.length = 0;
    const again = await runSupervised({ WEIGHTS_URL: `${server.url('model.bin')}#sha256=${files.bigSha}`, WEIGHTS_DIR: dir });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain(`weights: in place in ${dir}`);
    expect(server.gets('model.bin')).toEqual([]);
  });

  test('a connection cut mid-piece is tried again from the byte it reached; a process that fails resumes on its next start with only the rest', async () => {
    const dir = freshDir();
    const env = { WEIGHTS_URL: `${server.url('small.bin')}#sha256=${files.smallSha}`, WEIGHTS_DIR: dir, WEIGHTS_CONNECTIONS: '1' };
    server.cutNextAfter(5 * MiB);
    const retried = await runSupervised(env);
    expect(retried.code, retried.stderr).toBe(0);
    const ranges = server.gets('small.bin').map((request) => request.range);
    expect(ranges.slice(0, 2)).toEqual(['bytes=0-0', `bytes=0-${20 * MiB - 1}`]);
    const resumedAt = Number(/^bytes=(\d+)-20971519$/.exec(ranges[2] ?? '')?.[1]);
    expect(resumedAt).toBeGreaterThan(0);
    expect(resumedAt).toBeLessThanOrEqual(5 * MiB);
    expect(ranges).toHaveLength(3);
    expect(retried.stderr).toMatch(/weights: small\.bin: bytes \d+-20971519: .*trying again \(1 of 4\)/);
    expect(sha256Of(join(dir, 'small.bin'))).toBe(files.smallSha);

    // Cut, and the server refuses the tries after it: the start fails, keeping what it fetched.
    const second = freshDir();
    server.requests.length = 0;
    server.cutNextAfter(5 * MiB, 1);
    const failed = await runSupervised({ ...env, WEIGHTS_DIR: second });
    expect(failed.code, failed.stderr).toBe(69);
    expect(failed.stderr).toMatch(
      new RegExp(
        `error: WEIGHTS_URL ${server.url('small.bin')}: the server answered 503 to a Range request; the [\\d.]+ MB fetched are kept in ${second}, and the next start resumes from them`,
      ),
    );
    expect(existsSync(join(second, 'small.bin'))).toBe(false);
    expect(failed.stderr).not.toContain('listening');
    server.requests.length = 0;
    const resumed = await runSupervised({ ...env, WEIGHTS_DIR: second });
    expect(resumed.code, resumed.stderr).toBe(0);
    const rest = server.gets('small.bin').map((request) => request.range);
    expect(rest[0]).toBe('bytes=0-0');
    const from = Number(/^bytes=(\d+)-20971519$/.exec(rest[1] ?? '')?.[1]);
    expect(from).toBeGreaterThan(0);
    expect(from).toBeLessThanOrEqual(5 * MiB);
    expect(rest).toHaveLength(2);
    expect(resumed.stderr).toMatch(/weights: fetching small\.bin from .* \(21 MB, resuming after [\d.]+ MB\)/);
    expect(sha256Of(join(second, 'small.bin'))).toBe(files.smallSha);
    expect(leftovers(second)).toEqual([]);
  });

  test('a server that does not take ranges sends it in one stream, written and checked as it arrives', async () => {
    const plain = await startRangeFileServer({ 'small.bin': files.small }, { ranges: false });
    try {
      const dir = freshDir();
      const outcome = await runSupervised({ WEIGHTS_URL: `${plain.url('small.bin')}#sha256=${files.smallSha}`, WEIGHTS_DIR: dir });
      expect(outcome.code, outcome.stderr).toBe(0);
      expect(plain.gets('small.bin').map((request) => request.range)).toEqual(['bytes=0-0']);
      expect(outcome.stderr).toContain('weights: small.bin in place, sha256 checked');
      expect(sha256Of(join(dir, 'small.bin'))).toBe(files.smallSha);
      expect(leftovers(dir)).toEqual([]);
    } finally {
      await plain.close();
    }
  });

  test('a wrong sha256 is refused with exit 69 and a message naming the URL; nothing is left in place, and the model never starts', async () => {
    const dir = freshDir();
    const wrong = '0'.repeat(64);
    const outcome = await runSupervised({ WEIGHTS_URL: `${server.url('small.bin')}#sha256=${wrong}`, WEIGHTS_DIR: dir });
    expect(outcome.code, outcome.stderr).toBe(69);
    expect(outcome.stderr).toContain(
      `error: WEIGHTS_URL ${server.url('small.bin')}: its sha256 is ${files.smallSha}, not the ${wrong} given; the download is deleted and nothing is put in place`,
    );
    expect(outcome.stdout.toString()).toBe('');
    expect(readdirSync(dir).filter((name) => name !== '.lock')).toEqual([]);
  });

  test('two supervisors started at once on one folder fetch it once: the second waits for the first', async () => {
    const dir = freshDir();
    const hold = server.holdAfter(1 * MiB);
    const env = { MODE: 'command_line', WEIGHTS_URL: server.url('small.bin'), WEIGHTS_DIR: dir };
    const both = [startSupervisor(env), startSupervisor(env)];
    await hold.reached;
    // The one that holds the lock is fetching; the other says it waits.
    expect(await eventually(() => both.some((one) => one.stderr().includes('another process is fetching into')), 20_000)).toBe(true);
    hold.release();
    expect(await Promise.all(both.map((one) => one.exited))).toEqual([0, 0]);
    expect(server.gets('small.bin').filter((request) => request.range === 'bytes=0-0')).toHaveLength(1);
    for (const one of both) expect(JSON.parse(one.stdout())).toMatchObject({ path: join(dir, 'small.bin'), size: 20 * MiB });
    expect(sha256Of(join(dir, 'small.bin'))).toBe(files.smallSha);
  });

  test('WORKERS=2 fetch once, before either worker starts, and both load from the same path', async () => {
    const dir = freshDir();
    const running = await startServer(supervisorBin, { WORKERS: '2', WEIGHTS_URL: server.url('small.bin'), WEIGHTS_DIR: dir }, [model]);
    try {
      expect(server.gets('small.bin').filter((request) => request.range === 'bytes=0-0')).toHaveLength(1);
      // Both loaded first: the server answers once one is ready, and sends every call to it until the other is.
      expect(await workersReady(running.url, 2)).toBe(true);
      const pids = new Set<number>();
      for (let call = 0; call < 20 && pids.size < 2; call += 1) {
        const answer = await callJson(running.url, 'POST', '/predict', { inputs: {} });
        expect(answer.body.output).toMatchObject({ path: join(dir, 'small.bin'), size: 20 * MiB });
        pids.add(answer.body.output.pid);
      }
      expect(pids.size).toBe(2);
      // The supervisor said it once; the workers found it in place.
      expect(running.stderr().match(/weights: fetching small\.bin/g)).toHaveLength(1);
    } finally {
      await running.stop();
    }
  });

  test('file:// is copied in and checked; an unknown scheme is refused at start with exit 3, naming it', async () => {
    const dir = freshDir();
    const copied = await runSupervised({
      WEIGHTS_URL: `${pathToFileURL(files.small).href}#sha256=${files.smallSha}&name=copy.bin`,
      WEIGHTS_DIR: dir,
      WEIGHTS_NAME: 'copy.bin',
    });
    expect(copied.code, copied.stderr).toBe(0);
    expect(stdoutJson(copied)).toMatchObject({ path: join(dir, 'copy.bin'), size: 20 * MiB });
    expect(sha256Of(join(dir, 'copy.bin'))).toBe(files.smallSha);

    for (const [url, message] of [
      [
        'ftp://example.com/model.bin',
        'error: WEIGHTS_URL: the scheme ftp:// of ftp://example.com/model.bin is not fetched; only http://, https://, file:// and gs://',
      ],
      [
        's3://bucket/model.bin',
        "the scheme s3:// of s3://bucket/model.bin is not fetched; only http://, https://, file:// and gs://; give the object's https:// URL",
      ],
    ]) {
      const refused = await runSupervised({ WEIGHTS_URL: url!, WEIGHTS_DIR: freshDir() });
      expect(refused.code, refused.stderr).toBe(3);
      expect(refused.stderr).toContain(message);
    }
  });

  test("MODE=cog's health check says STARTING with the weights' progress in its setup logs while they download, then READY", async () => {
    const dir = freshDir();
    const hold = server.holdAfter(12 * MiB);
    const cog = startSupervisor(serving('cog', dir));
    try {
      await hold.reached;
      expect(await eventually(() => cog.stderr().includes('weights: small.bin 50%'), 20_000)).toBe(true);
      const port = /health-check on http:\/\/127\.0\.0\.1:(\d+)/.exec(cog.stderr())![1];
      const url = `http://127.0.0.1:${port}`;
      const starting = await callJson(url, 'GET', '/health-check');
      expect(starting.body).toMatchObject({ status: 'STARTING', setup: { status: 'starting' } });
      expect(starting.body.setup.logs).toContain(`weights: fetching small.bin from ${server.url('small.bin')} (21 MB)\n`);
      expect(starting.body.setup.logs).toMatch(/weights: small\.bin 50% \(\d+ MB of 21 MB/);
      hold.release();
      expect(await eventually(() => cog.stderr().includes(`listening on http://127.0.0.1:${port} `), 20_000)).toBe(true);
      expect((await callJson(url, 'GET', '/health-check')).body).toMatchObject({ status: 'READY' });
    } finally {
      hold.release();
      await cog.stop();
    }
  });
});

// While the weights download, every HTTP mode holds its port and says "starting" with the
// progress at its readiness path (liveness says alive), then the service takes the port over.
const startingProbes = [
  {
    mode: 'http',
    ready: '/health',
    live: { path: '/health/live', body: { status: 'alive' } },
    starting: (reason: unknown) => ({ status: 'starting', reason }),
  },
  {
    mode: 'openai',
    ready: '/health',
    live: { path: '/health/live', body: { status: 'alive' } },
    starting: (reason: unknown) => ({ status: 'starting', reason }),
  },
  {
    mode: 'kserve',
    ready: '/v2/health/ready',
    live: { path: '/v2/health/live', body: { live: true } },
    starting: (reason: unknown) => ({ ready: false, reason }),
  },
  { mode: 'sagemaker', ready: '/ping', live: undefined, starting: (reason: unknown) => ({ status: 'starting', reason }) },
  { mode: 'vertex', ready: '/health', live: undefined, starting: (reason: unknown) => ({ status: 'starting', reason }) },
];

describe('readiness while the weights download', () => {
  test.each(startingProbes)(
    'MODE=$mode: $ready answers 503 "starting" with the progress while they download, then the service takes the port over',
    async ({ mode, ready, live, starting }) => {
      const dir = freshDir();
      const hold = server.holdAfter(12 * MiB);
      // KServe's gRPC port off: a fixed port may be another test's.
      const running = startSupervisor({ ...serving(mode, dir), LOG_FORMAT: 'text', GRPC_PORT: '0' });
      try {
        await hold.reached;
        expect(await eventually(() => running.stderr().includes('weights: small.bin 50%'), 20_000), running.stderr()).toBe(true);
        const port = new RegExp(`readiness on http://127\\.0\\.0\\.1:(\\d+)${ready} answers 503 "starting"`).exec(running.stderr())?.[1];
        expect(port, running.stderr()).toBeDefined();
        const url = `http://127.0.0.1:${port}`;
        const answer = await callJson(url, 'GET', ready);
        expect(answer.status).toBe(503);
        expect(answer.body).toEqual(starting(expect.stringMatching(/^starting: fetching weights: small\.bin [5-9]0% \(\d+ MB of 21 MB/)));
        if (live) expect(await callJson(url, 'GET', live.path)).toMatchObject({ status: 200, body: live.body });
        expect((await callJson(url, 'POST', '/anything', {})).status).toBe(503);
        hold.release();
        // MODE=openai serves only a chat, completion or embedding model, which this one is not: it says so once loaded.
        if (mode === 'openai') {
          expect(await eventually(() => running.stderr().includes('error: MODE=openai serves chat models'), 30_000), running.stderr()).toBe(true);
          return;
        }
        expect(await eventually(() => running.stderr().includes(`listening on http://127.0.0.1:${port} `), 30_000), running.stderr()).toBe(true);
        const served = await request(`${url}${ready}`);
        await served.body.dump();
        expect(served.statusCode).toBe(200);
      } finally {
        hold.release();
        await running.stop();
      }
    },
  );
});

describe('WEIGHTS_URL run directly', () => {
  test('await weights() fetches them before the model loads, and the next start finds them in place', async () => {
    const dir = freshDir();
    const env = { WEIGHTS_URL: `${server.url('small.bin')}#sha256=${files.smallSha}`, WEIGHTS_DIR: dir };
    const first = await runScript(model, { mode: 'command_line', env, timeoutMs: 60_000 });
    expect(first.code, first.stderr).toBe(0);
    expect(stdoutJson(first)).toMatchObject({ path: join(dir, 'small.bin'), size: 20 * MiB });
    expect(first.stderr).toContain('weights: small.bin in place, sha256 checked');
    server.requests.length = 0;
    const second = await runScript(model, { mode: 'command_line', env, timeoutMs: 60_000 });
    expect(second.code, second.stderr).toBe(0);
    expect(server.requests).toEqual([]);
  });
});
