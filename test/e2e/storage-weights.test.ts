// Weights from Cloud Storage: MODE=vertex fetches AIP_STORAGE_URI's folder (and WEIGHTS_URL its
// gs:// entries in any mode) through the JSON API, from a fake Cloud Storage and a fake metadata
// server on loopback that STORAGE_EMULATOR_HOST and GCE_METADATA_HOST point at. Nothing leaves
// 127.0.0.1: the real metadata server is never asked (test/unit/storage-weights.test.ts proves the
// client's connector goes only where GCE_METADATA_HOST says).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { type FakeMetadata, type FakeStorage, startFakeMetadata, startFakeStorage } from '../helpers/fake-cloud-storage.js';
import { callJson } from '../helpers/http-server.js';
import { fixture, repoRoot, runScript, stdoutJson } from '../helpers/run-process.js';
import { eventually, supervisorBin } from '../helpers/supervisor.js';

const model = fixture('storage-weights-model.mjs');
const fileModel = fixture('weights-model.mjs');
const scratch = mkdtempSync(join(tmpdir(), 'storage-weights-'));
const MiB = 2 ** 20;
const token = 'ya29.test-access-token';
let storage: FakeStorage;
let metadata: FakeMetadata;
let folders = 0;
const freshDir = () => join(scratch, `dir-${(folders += 1)}`);
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

// 20 MiB that do not repeat: with WEIGHTS_CONNECTIONS=4 it comes in three 8 MiB ranges.
const big = Buffer.alloc(20 * MiB);
for (let offset = 0, counter = 0; offset < big.length; offset += 32, counter += 1) createHash('sha256').update(`w:${counter}`).digest().copy(big, offset);
const config = Buffer.from(JSON.stringify({ layers: 12, hidden: 768 }));
const vocab = Buffer.from('a\nb\nc\n'.repeat(1000));
// A folder of small files, as a model's configs and tokenizer files are: fetched side by side.
const small = Array.from({ length: 7 }, (_, index) => Buffer.from(JSON.stringify({ index, filler: 'x'.repeat(1000 * index) })));

beforeAll(async () => {
  // Five names under model/ (with the console's folder placeholder and an empty file), two a page: the listing takes three pages.
  storage = await startFakeStorage(
    {
      bucket: {
        'model/': Buffer.alloc(0),
        'model/config.json': config,
        'model/tokenizer/added_tokens.json': Buffer.alloc(0),
        'model/tokenizer/vocab.txt': vocab,
        'model/weights.bin': big,
        'other/unrelated.bin': Buffer.from('not under the prefix'),
        ...Object.fromEntries(small.map((data, index) => [`many/file-${index}.json`, data])),
        'unsafe/config.json': config,
        'unsafe/sub/../../escape.bin': config,
        'clash/config.json': config,
        'clash/.config.json.partial.json': Buffer.from('{}'),
      },
    },
    { pageSize: 2, token },
  );
  metadata = await startFakeMetadata(token);
});
afterEach(() => {
  storage.requests.length = 0;
  metadata.requests.length = 0;
});
afterAll(async () => {
  await Promise.all([storage.close(), metadata.close()]);
  rmSync(scratch, { recursive: true, force: true });
});

const cloudEnv = () => ({
  STORAGE_EMULATOR_HOST: storage.endpoint,
  GCE_METADATA_HOST: metadata.host,
  WEIGHTS_CONNECTIONS: '4',
  LOG_FORMAT: 'text',
});

/** The supervisor in MODE=vertex, as Vertex starts the container, until it listens; resolves with its URL, its stderr so far and a stop function. */
async function startVertex(env: Record<string, string>) {
  const child = spawn(process.execPath, [supervisorBin, model], {
    cwd: repoRoot,
    env: { ...(process.env as Record<string, string>), MODE: 'vertex', PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise((resolve) => child.on('exit', resolve));
  const stop = async () => {
    child.kill('SIGTERM');
    await exited;
  };
  const listening = await eventually(() => /listening on http:\/\/127\.0\.0\.1:\d+ /.test(stderr) || child.exitCode !== null, 120_000);
  const port = /listening on http:\/\/127\.0\.0\.1:(\d+) /.exec(stderr)?.[1];
  if (!listening || port === undefined) {
    await stop();
    throw new Error(`MODE=vertex did not listen:\n${stderr}`);
  }
  return { url: `http://127.0.0.1:${port}`, stderr: () => stderr, stop };
}

describe('MODE=vertex with AIP_STORAGE_URI', () => {
  test('the folder is listed page by page and every object fetched with the bearer token, checked and laid out under WEIGHTS_DIR/aip-storage; the next start asks nothing', async () => {
    const dir = freshDir();
    // As Vertex sets it: no trailing slash.
    const env = { ...cloudEnv(), AIP_STORAGE_URI: 'gs://bucket/model', WEIGHTS_DIR: dir };
    const vertex = await startVertex(env);
    try {
      const answer = await callJson(vertex.url, 'POST', '/predict', { instances: [{}] });
      expect(answer.status, vertex.stderr()).toBe(200);
      const folder = join(dir, 'aip-storage');
      expect(answer.body.predictions[0]).toEqual({
        folder,
        files: { 'config.json': config.length, 'tokenizer/added_tokens.json': 0, 'tokenizer/vocab.txt': vocab.length, 'weights.bin': 20 * MiB },
      });
      expect(sha256(readFileSync(join(folder, 'weights.bin')))).toBe(sha256(big));
      expect(readFileSync(join(folder, 'tokenizer', 'vocab.txt'))).toEqual(vocab);
      expect(readdirSync(dir).filter((name) => name.includes('.partial'))).toEqual([]);

      // Listed under the prefix, three pages, each asked for with the token the one before named.
      const listings = storage.requests.filter((seen) => seen.path === '/storage/v1/b/bucket/o');
      expect(listings.map((seen) => [seen.query.get('prefix'), seen.query.get('pageToken')])).toEqual([
        ['model/', null],
        ['model/', '2'],
        ['model/', '4'],
      ]);
      // The big one in ranges over several connections, after one byte that says its size.
      const ranges = storage.media('model/weights.bin').map((seen) => seen.range);
      expect(ranges[0]).toBe('bytes=0-0');
      expect(ranges.slice(1).sort()).toEqual(['bytes=0-8388607', 'bytes=16777216-20971519', 'bytes=8388608-16777215']);
      // Never the placeholder, never outside the prefix; every request with the metadata server's token.
      expect(storage.requests.some((seen) => seen.path.endsWith('/o/model/') || seen.path.includes('other/'))).toBe(false);
      expect(storage.requests.every((seen) => seen.authorization === `Bearer ${token}`)).toBe(true);
      expect(metadata.requests.length).toBeGreaterThan(0);
      expect(metadata.requests.every((seen) => seen.flavor === 'Google')).toBe(true);
      // The log says what was checked, and readiness said "starting" meanwhile.
      const stderr = vertex.stderr();
      expect(stderr).toContain('weights: aip-storage: 4 objects (21 MB) under gs://bucket/model/');
      expect(stderr).toMatch(/weights: aip-storage\/weights\.bin fetched, size and MD5 checked/);
      expect(stderr).toMatch(/readiness on http:\/\/127\.0\.0\.1:\d+\/health answers 503 "starting"/);
    } finally {
      await vertex.stop();
    }

    storage.requests.length = 0;
    metadata.requests.length = 0;
    const again = await startVertex(env);
    try {
      expect((await callJson(again.url, 'POST', '/predict', { instances: [{}] })).status).toBe(200);
      expect(again.stderr()).toContain(`weights: in place in ${dir}`);
      expect(storage.requests).toEqual([]);
      expect(metadata.requests).toEqual([]);
    } finally {
      await again.stop();
    }
  });

  test('an object whose bytes do not match the MD5 Cloud Storage lists fails the start (exit 69) naming it, and nothing is put in place', async () => {
    const dir = freshDir();
    const undo = storage.lieAboutMd5('model/config.json');
    try {
      const outcome = await runScript(supervisorBin, {
        mode: 'vertex',
        args: [model],
        env: { ...cloudEnv(), PORT: '0', HOST: '127.0.0.1', AIP_STORAGE_URI: 'gs://bucket/model/', WEIGHTS_DIR: dir },
        timeoutMs: 120_000,
      });
      expect(outcome.code, outcome.stderr).toBe(69);
      expect(outcome.stderr).toMatch(
        /error: AIP_STORAGE_URI gs:\/\/bucket\/model\/: gs:\/\/bucket\/model\/config\.json: its MD5 is \S+, not the \S+ Cloud Storage lists; the download is deleted and nothing is put in place/,
      );
      expect(outcome.stderr).not.toMatch(/listening on/);
      expect(existsSync(join(dir, 'aip-storage'))).toBe(false);
      // The bad one is deleted. The two small ones fetched beside it finish and stay staged, recorded
      // for the next start; weights.bin (in ranges, so alone) never starts.
      const staged = readdirSync(join(dir, '.aip-storage.partial'), { recursive: true }).map(String).sort();
      expect(staged).toEqual(['tokenizer', join('tokenizer', 'added_tokens.json'), join('tokenizer', 'vocab.txt')]);
      const record = JSON.parse(readFileSync(join(dir, '.aip-storage.partial.json'), 'utf8'));
      expect(Object.keys(record.objects).sort()).toEqual([join('tokenizer', 'added_tokens.json'), join('tokenizer', 'vocab.txt')]);
      expect(storage.media('model/weights.bin')).toEqual([]);
    } finally {
      undo();
    }
  });

  test('a 403 from Cloud Storage fails the start (exit 69) naming the object and what Cloud Storage said; the next start fetches only what is missing', async () => {
    const dir = freshDir();
    const env = { ...cloudEnv(), PORT: '0', HOST: '127.0.0.1', AIP_STORAGE_URI: 'gs://bucket/model/', WEIGHTS_DIR: dir };
    const allow = storage.forbid('model/weights.bin');
    let outcome: Awaited<ReturnType<typeof runScript>>;
    try {
      outcome = await runScript(supervisorBin, { mode: 'vertex', args: [model], env, timeoutMs: 120_000 });
    } finally {
      allow();
    }
    expect(outcome.code, outcome.stderr).toBe(69);
    expect(outcome.stderr).toContain(
      'error: AIP_STORAGE_URI gs://bucket/model/: gs://bucket/model/weights.bin: the server answered 403 (weights-reader@project.iam.gserviceaccount.com does not have storage.objects.get access to the Google Cloud Storage object.)',
    );
    expect(outcome.stderr).not.toMatch(/listening on/);
    expect(existsSync(join(dir, 'aip-storage'))).toBe(false);

    // Allowed again: the two objects checked before are not fetched again.
    storage.requests.length = 0;
    const vertex = await startVertex(env);
    try {
      expect((await callJson(vertex.url, 'POST', '/predict', { instances: [{}] })).status).toBe(200);
      expect(vertex.stderr()).toContain('weights: aip-storage/config.json fetched before, checked');
      expect(storage.media('model/config.json')).toEqual([]);
      expect(storage.media('model/tokenizer/vocab.txt')).toEqual([]);
      expect(storage.media('model/weights.bin').length).toBeGreaterThan(0);
      expect(sha256(readFileSync(join(dir, 'aip-storage', 'weights.bin')))).toBe(sha256(big));
    } finally {
      await vertex.stop();
    }
  });
});

describe('gs:// in WEIGHTS_URL', () => {
  test('in any mode: an object and a folder, each checked, the folder under its own name', async () => {
    const dir = freshDir();
    const outcome = await runScript(supervisorBin, {
      mode: 'command_line',
      args: [fileModel],
      env: { ...cloudEnv(), WEIGHTS_URL: 'gs://bucket/model/weights.bin gs://bucket/model/tokenizer/', WEIGHTS_DIR: dir, WEIGHTS_NAME: 'weights.bin' },
      timeoutMs: 120_000,
    });
    expect(outcome.code, outcome.stderr).toBe(0);
    expect(stdoutJson(outcome)).toMatchObject({ path: join(dir, 'weights.bin'), size: 20 * MiB });
    expect(sha256(readFileSync(join(dir, 'weights.bin')))).toBe(sha256(big));
    expect(readFileSync(join(dir, 'tokenizer', 'vocab.txt'))).toEqual(vocab);
    expect(storage.requests.every((seen) => seen.authorization === `Bearer ${token}`)).toBe(true);
    // One object's metadata, then its bytes: no listing for it.
    expect(storage.requests.filter((seen) => seen.path === '/storage/v1/b/bucket/o/model/weights.bin' && !seen.query.has('alt'))).toHaveLength(1);
  });

  test('a folder of small files is fetched side by side, WEIGHTS_CONNECTIONS at a time and never more; each checked', async () => {
    const dir = freshDir();
    const hold = storage.holdMedia('many/');
    const running = runScript(supervisorBin, {
      mode: 'command_line',
      args: [fileModel],
      env: { ...cloudEnv(), WEIGHTS_CONNECTIONS: '3', WEIGHTS_URL: 'gs://bucket/many/', WEIGHTS_DIR: dir, WEIGHTS_NAME: 'many' },
      timeoutMs: 120_000,
    });
    // Three objects asked for at once, each answer held: one at a time would never get past the first.
    const three = await eventually(() => hold.held() >= 3, 30_000);
    hold.release();
    const outcome = await running;
    expect(three, outcome.stderr).toBe(true);
    expect(outcome.code, outcome.stderr).toBe(0);
    expect(hold.mostAtOnce()).toBe(3);
    for (const [index, data] of small.entries()) {
      expect(readFileSync(join(dir, 'many', `file-${index}.json`))).toEqual(data);
      expect(outcome.stderr).toContain(`weights: many/file-${index}.json fetched, size and MD5 checked`);
    }
  });

  test("an object whose name would leave the folder, or is a partial download's, fails the start (exit 69) naming it, before any is fetched", async () => {
    for (const [prefix, message] of [
      ['unsafe', 'the object "unsafe/sub/../../escape.bin" has no safe path below the prefix (an empty, "." or ".." segment, a backslash or NUL)'],
      ['clash', 'the object "clash/.config.json.partial.json" has a name kept for partial downloads (.NAME.partial, .NAME.partial.json)'],
    ] as const) {
      const dir = freshDir();
      const outcome = await runScript(supervisorBin, {
        mode: 'command_line',
        args: [fileModel],
        env: { ...cloudEnv(), WEIGHTS_URL: `gs://bucket/${prefix}/`, WEIGHTS_DIR: dir, WEIGHTS_NAME: prefix },
        timeoutMs: 120_000,
      });
      expect(outcome.code, outcome.stderr).toBe(69);
      expect(outcome.stderr).toContain(`error: WEIGHTS_URL gs://bucket/${prefix}/: ${message}`);
      expect(storage.requests.filter((seen) => seen.query.get('alt') === 'media')).toEqual([]);
      expect(existsSync(join(dir, prefix))).toBe(false);
    }
  });
});
