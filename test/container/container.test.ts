/**
 * The Dockerfile template, built and run for real with podman and runc: a local base image made
 * from this machine's node (no registry to pull from), the example image built from it, and every
 * mode run in it, including the supervisor as PID 1 under a throwing load and `podman stop`.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import sharp from 'sharp';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { multipartForm } from '../helpers/example-shims.js';
import { solidImage } from '../helpers/images.js';
import { startRuntimeApi } from '../helpers/lambda-runtime-api.js';
import { loadWithThrows } from '../helpers/load-with-throws.js';
import { freePort, podman, podmanText, runCommand } from '../helpers/podman.js';
import { fixture, pythonPickle, stdoutJson } from '../helpers/run-process.js';
import { eventually, processState } from '../helpers/supervisor.js';

const baseImage = 'localhost/ai-integration-test-node:20';
const image = 'localhost/ai-integration-example:test';
const containers: string[] = [];
let photo: Buffer; // a 64 x 48 blue PNG

beforeAll(async () => {
  photo = await solidImage(64, 48, { r: 30, g: 120, b: 200 });
  const base = await runCommand('docker/local-base-image.sh', [baseImage]);
  expect(base.code, base.stderr).toBe(0);
  const build = await runCommand('docker/example.sh', ['build'], {
    env: { ENGINE: 'podman', IMAGE: image, BASE_IMAGE: baseImage, EXTRA_FILES: fixture('http-model.mjs'), NO_BUILD: '1' },
    timeoutMs: 600_000,
  });
  expect(build.code, build.stderr).toBe(0);
}, 900_000);

afterAll(async () => {
  if (containers.length > 0) await podman(['rm', '-f', ...containers]);
});

/** `podman run --rm` of a one-shot mode, stdin piped in. */
function runOnce(env: Record<string, string>, args: string[] = [], stdin?: Buffer | string) {
  const flags = Object.entries(env).flatMap(([name, value]) => ['-e', `${name}=${value}`]);
  return podman(['run', '--rm', '-i', '--no-healthcheck', ...flags, image, ...args], { stdin });
}

/** Starts the image detached with MODE=http on a published loopback port; resolves once /health says 200. */
async function serve(args: string[] = [], env: Record<string, string> = {}): Promise<{ name: string; url: string }> {
  const name = `ai-integration-test-${randomUUID().slice(0, 8)}`;
  const port = await freePort();
  const flags = Object.entries({ MODE: 'http', ...env }).flatMap(([key, value]) => ['-e', `${key}=${value}`]);
  await podmanText(['run', '-d', '--name', name, '--health-interval', 'disable', '-p', `127.0.0.1:${port}:5000`, ...flags, image, ...args]);
  containers.push(name);
  const url = `http://127.0.0.1:${port}`;
  const ready = () =>
    request(`${url}/health`).then(
      async (response) => {
        await response.body.dump();
        return response.statusCode === 200;
      },
      () => false,
    );
  if (await eventually(ready, 60_000)) return { name, url };
  throw new Error(`the container did not become ready:\n${(await podman(['logs', name])).stderr}`);
}

/** The host's view of the container's PID 1. */
async function hostPidOfInit(name: string): Promise<number> {
  return Number(await podmanText(['inspect', '--format', '{{.State.Pid}}', name]));
}

describe('docker/example.sh', () => {
  test('runs every mode in the example image and checks each answer', async () => {
    const outcome = await runCommand('docker/example.sh', ['run'], { env: { ENGINE: 'podman', IMAGE: image, PORT: String(await freePort()) } });
    expect(outcome.code, outcome.stderr).toBe(0);
    for (const mode of ['test_model_integration', 'test_single_image', 'test_inputs_dict_json', 'test_inputs_pickled_dict', 'command_line', 'http']) {
      expect(outcome.stderr).toContain(`== MODE=${mode}`);
    }
    expect(outcome.stderr).toContain('== every mode answered as expected');
  });
});

describe('the example image, one-shot modes', () => {
  test('docker run -e MODE=test_model_integration IMAGE: exit 0 and the statistics of the gray image', async () => {
    const outcome = await runOnce({ MODE: 'test_model_integration' });
    expect(outcome.code, outcome.stderr).toBe(0);
    expect(outcome.stderr).toContain('Self-test passed: 5/5 inferences succeeded and every check passed.');
    expect(stdoutJson(outcome)).toMatchObject({ width: 600, height: 400, format: 'jpeg', grayscale: true });
  });

  test('an image piped into -i (test_single_image), a JSON dict into another shim, a pickle from python3', async () => {
    const single = await runOnce({ MODE: 'test_single_image' }, [], photo);
    expect(single.code, single.stderr).toBe(0);
    expect(stdoutJson(single)).toMatchObject({ width: 64, height: 48, format: 'png', dominant: { r: 24, g: 120, b: 200 } });

    const dict = await runOnce({ MODE: 'test_inputs_dict_json' }, ['keywords.js'], JSON.stringify({ text: 'the cat sat on the cat mat', top: 2 }));
    expect(dict.code, dict.stderr).toBe(0);
    expect(stdoutJson(dict)).toEqual({
      words: 4,
      keywords: [
        { word: 'cat', count: 2, share: 0.5 },
        { word: 'mat', count: 1, share: 0.25 },
      ],
    });

    const pickle = pythonPickle(`{'image': bytes.fromhex(${JSON.stringify(photo.toString('hex'))}), 'precision': 0}`, 2);
    const pickled = await runOnce({ MODE: 'test_inputs_pickled_dict' }, [], pickle);
    expect(pickled.code, pickled.stderr).toBe(0);
    expect(stdoutJson(pickled).channels).toEqual({ red: { mean: 30, stdev: 0 }, green: { mean: 120, stdev: 0 }, blue: { mean: 200, stdev: 0 } });
  });

  test('another shim of the image named as the command: IMAGE blend.js with a JSON dict piped in writes a JPEG', async () => {
    const outcome = await runOnce(
      { MODE: 'test_inputs_dict_json' },
      ['blend.js'],
      JSON.stringify({ style: photo.toString('base64'), content: photo.toString('base64'), strength: 0.3 }),
    );
    expect(outcome.code, outcome.stderr).toBe(0);
    expect(await sharp(outcome.stdout).metadata()).toMatchObject({ format: 'jpeg', width: 64, height: 48 });
  });

  test('several files in one command line, as docs/how-to/containers.md writes it: a mounted folder, @path and stdin', async () => {
    // The container runs as uid 1000: the mounted folder must be readable by it.
    const folder = mkdtempSync(join(tmpdir(), 'container-files-'));
    try {
      chmodSync(folder, 0o755);
      const style = await solidImage(32, 24, { r: 220, g: 20, b: 20 });
      writeFileSync(join(folder, 'style.png'), style, { mode: 0o644 });
      writeFileSync(join(folder, 'photo.png'), photo, { mode: 0o644 });
      const volume = ['-v', `${folder}:/data:ro`];
      const run = (args: string[], stdin?: Buffer) =>
        podman(['run', '--rm', '-i', '--no-healthcheck', '-e', 'MODE=command_line', ...volume, image, 'blend.js', ...args], { stdin });

      // All style: the red file named with @path, resized to the blue content read from stdin.
      const fromStdin = await run(['--style', '@/data/style.png', '--content', '-', '--strength', '1'], photo);
      expect(fromStdin.code, fromStdin.stderr).toBe(0);
      const red = await sharp(fromStdin.stdout).stats();
      expect(await sharp(fromStdin.stdout).metadata()).toMatchObject({ format: 'jpeg', width: 64, height: 48 });
      expect(red.channels.map((channel) => Math.round(channel.mean / 10))).toEqual([22, 2, 2]);

      // All content: both files by their paths inside the container.
      const fromPaths = await run(['--style', '/data/style.png', '--content', '/data/photo.png', '--strength', '0']);
      expect(fromPaths.code, fromPaths.stderr).toBe(0);
      const blue = await sharp(fromPaths.stdout).stats();
      expect(blue.channels.map((channel) => Math.round(channel.mean / 10))).toEqual([3, 12, 20]);

      // Two inputs on stdin is a usage error, before the model runs.
      const twice = await run(['--style', '-', '--content', '@-'], photo);
      expect(twice.code).toBe(2);
      expect(twice.stderr).not.toMatch(/^\s+at /m);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  test('bad input inside the container is a clear error with exit 2, no stack trace', async () => {
    const outcome = await runOnce({ MODE: 'test_inputs_dict_json' }, [], '{"image": ');
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toMatch(/stdin is not valid JSON/);
    expect(outcome.stderr).not.toMatch(/^\s+at /m);
  });
});

describe('the example image, MODE=http', () => {
  test('the page, /predict and readiness on a published port; the HEALTHCHECK passes; PID 1 is the supervisor, not root', async () => {
    const { name, url } = await serve();
    const page = await (await request(`${url}/`)).body.text();
    expect(page).toContain('name="image"');
    expect(page).toContain('name="precision"');
    const predicted = await request(`${url}/predict`, { method: 'POST', body: multipartForm({ image: photo, precision: '0' }) });
    expect(predicted.statusCode).toBe(200);
    expect(await predicted.body.json()).toMatchObject({ status: 'succeeded', output: { width: 64, height: 48 } });
    expect(await (await request(`${url}/health`)).body.json()).toMatchObject({ status: 'ready' });

    const health = await podman(['healthcheck', 'run', name]);
    expect(health.code, health.stdout.toString() + health.stderr).toBe(0);

    const init = await hostPidOfInit(name);
    const status = readFileSync(`/proc/${init}/status`, 'utf8');
    expect(status).toMatch(/^NSpid:\s+\d+\s+1$/m);
    expect(status).toMatch(/^Uid:\s+1000\s/m);
    expect(readFileSync(`/proc/${init}/cmdline`, 'utf8').split('\0')).toEqual(['node', '/model/node_modules/ai-integration/dist/cli.js', 'shim.js', '']);
  });

  test('a throw under load with the supervisor as PID 1: the port stays up, nothing is lost, readiness dips and returns', async () => {
    const { url, name } = await serve(['http-model.mjs'], { START_DELAY_MS: '300', MAX_QUEUE: '200' });
    const total = 60;
    const { connectionErrors, outcomes, readiness } = await loadWithThrows(url, total, 4, 20);
    expect(connectionErrors).toBe(0);
    expect(outcomes).toHaveLength(total);
    const throwing = outcomes.filter((outcome) => outcome.throwing);
    expect(throwing).toHaveLength(3);
    for (const outcome of throwing)
      expect(outcome).toMatchObject({ status: 500, error: 'the inference function threw: CUDA error: device-side assert triggered' });
    const others = outcomes.filter((outcome) => !outcome.throwing);
    expect(others.filter((outcome) => outcome.status !== 200 || outcome.note !== `request ${outcome.index}`)).toEqual([]);
    expect(readiness).toContain(503);
    expect(readiness.at(-1)).toBe(200);
    expect(await (await request(`${url}/metrics`)).body.text()).toMatch(/^model_restarts_total\{cause="threw"\} 3$/m);
    expect((await podman(['logs', name])).stderr).toContain('Restarting the model worker; requests that wait are served by the new one.');
  });

  test('orphaned processes in the container are reaped by the supervisor as PID 1', async () => {
    const { url, name } = await serve(['http-model.mjs']);
    const answer = await request(`${url}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: { action: 'orphan', delay_ms: 300 } }),
    });
    const { orphan } = ((await answer.body.json()) as { output: { orphan: number } }).output;
    const reaped = async () => (await podman(['logs', name])).stderr.includes(`reaped orphaned process ${orphan}`);
    expect(await eventually(reaped, 15_000)).toBe(true);
    const init = await hostPidOfInit(name);
    const children = readFileSync(`/proc/${init}/task/${init}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
    expect(children.map((pid) => processState(pid)?.state).filter((state) => state === 'Z')).toEqual([]);
  });

  test('podman stop: the in-flight request is answered and the container exits 0 by itself within the 2 s grace', async () => {
    const { url, name } = await serve(['http-model.mjs']);
    const inFlight = request(`${url}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: { delay_ms: 800, note: 'in flight' } }),
    });
    // In flight before the stop: the metrics say so (polled: the model's files are in the container).
    const running = async () => /^inferences_in_flight 1$/m.test(await (await request(`${url}/metrics`)).body.text());
    expect(await eventually(running, 20_000)).toBe(true);
    // -t 2: podman sends SIGTERM, then SIGKILL after 2 s, which would make the exit code 137.
    const stop = podman(['stop', '-t', '2', name]);
    const answer = await inFlight;
    expect(answer.statusCode).toBe(200);
    expect(((await answer.body.json()) as { output: { received: { note: string } } }).output.received.note).toBe('in flight');
    expect((await stop).code).toBe(0);
    expect(await podmanText(['inspect', '--format', '{{.State.ExitCode}}', name])).toBe('0');
    expect((await podman(['logs', name])).stderr).toContain('SIGTERM: draining in-flight and queued work, then exiting');
  });
});

/** Starts the image detached on a published loopback port; resolves once `healthPath` answers 200. */
// `isReady`: what a ready answer looks like beyond its 200 (Cog's health check is 200 while STARTING too).
async function serveOn(
  containerPort: number,
  healthPath: string,
  env: Record<string, string>,
  args: string[] = [],
  isReady: (body: string) => boolean = () => true,
): Promise<{ name: string; url: string }> {
  const name = `ai-integration-test-${randomUUID().slice(0, 8)}`;
  const port = await freePort();
  const flags = Object.entries(env).flatMap(([key, value]) => ['-e', `${key}=${value}`]);
  await podmanText(['run', '-d', '--name', name, '--health-interval', 'disable', '-p', `127.0.0.1:${port}:${containerPort}`, ...flags, image, ...args]);
  containers.push(name);
  const url = `http://127.0.0.1:${port}`;
  const ready = () =>
    request(`${url}${healthPath}`).then(
      async (response) => response.statusCode === 200 && isReady(await response.body.text()),
      () => false,
    );
  if (await eventually(ready, 60_000)) return { name, url };
  throw new Error(`the container did not become ready:\n${(await podman(['logs', name])).stderr}`);
}

const postJson = async (url: string, body: unknown, headers: Record<string, string> = {}) => {
  const response = await request(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: response.statusCode, headers: response.headers, body: (await response.body.json()) as any };
};

describe('the example image, protocol and platform modes', () => {
  test('MODE=kserve on 8080: ready, and a V2 infer with the image as a base64 BYTES tensor', async () => {
    const { url } = await serveOn(8080, '/v2/health/ready', { MODE: 'kserve' });
    const answer = await postJson(`${url}/v2/models/image-stats/infer`, {
      inputs: [{ name: 'image', datatype: 'BYTES', shape: [1], data: [photo.toString('base64')] }],
    });
    expect(answer.status).toBe(200);
    expect(answer.body.model_name).toBe('image-stats');
    expect(JSON.parse(answer.body.outputs[0].data[0])).toMatchObject({ width: 64, height: 48, format: 'png' });
  });

  test('MODE=cog on 5000: READY, and a prediction with the image as a data: URL', async () => {
    const { url } = await serveOn(5000, '/health-check', { MODE: 'cog' }, [], (body) => JSON.parse(body).status === 'READY');
    expect((await (await request(`${url}/health-check`)).body.json()) as any).toMatchObject({ status: 'READY' });
    const answer = await postJson(`${url}/predictions`, { input: { image: `data:image/png;base64,${photo.toString('base64')}` } });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ status: 'succeeded', output: { width: 64, height: 48, format: 'png' } });
  });

  test('SageMaker starts the image with the argument serve and no MODE: /ping, and /invocations with a raw image', async () => {
    const { url } = await serveOn(8080, '/ping', {}, ['serve']);
    const response = await request(`${url}/invocations`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: photo });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(await response.body.json()).toMatchObject({ width: 64, height: 48, format: 'png' });
  });

  test('MODE=vertex with the variables Vertex sets: the health and predict routes it names', async () => {
    const env = {
      MODE: 'vertex',
      AIP_HTTP_PORT: '7080',
      AIP_HEALTH_ROUTE: '/v1/endpoints/1/deployedModels/2/health',
      AIP_PREDICT_ROUTE: '/v1/endpoints/1/deployedModels/2:predict',
    };
    const { url } = await serveOn(7080, env.AIP_HEALTH_ROUTE, env);
    const answer = await postJson(`${url}${env.AIP_PREDICT_ROUTE}`, { instances: [{ image: { b64: photo.toString('base64') } }] });
    expect(answer.status).toBe(200);
    expect(answer.body.predictions).toHaveLength(1);
    expect(answer.body.predictions[0]).toMatchObject({ width: 64, height: 48, format: 'png' });
  });
});

describe('the example image, MODE=lambda', () => {
  test('as Lambda runs it: the runtime API at AWS_LAMBDA_RUNTIME_API, one invocation with the image as base64, answered in the envelope', async () => {
    const api = await startRuntimeApi();
    const name = `ai-integration-test-${randomUUID().slice(0, 8)}`;
    try {
      // The host network: the container reaches the tests' runtime API on the host's loopback, as
      // the function reaches Lambda's on its own.
      await podmanText([
        'run',
        '-d',
        '--name',
        name,
        '--network',
        'host',
        '--health-interval',
        'disable',
        '-e',
        'MODE=lambda',
        '-e',
        `AWS_LAMBDA_RUNTIME_API=${api.address}`,
        image,
      ]);
      containers.push(name);
      const posted = await api.invoke({ image: photo.toString('base64') }, { requestId: 'container-1', timeoutMs: 60_000 });
      expect(posted.kind).toBe('response');
      expect(posted.json()).toMatchObject({
        id: 'container-1',
        status: 'succeeded',
        output: { width: 64, height: 48, format: 'png' },
        content_type: 'application/json',
      });
    } finally {
      await api.close();
    }
  });
});
