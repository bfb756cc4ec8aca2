// Output uploads (OUTPUT_UPLOAD_URL) in the platform modes, in real processes: MODE=lambda against
// the loopback Lambda runtime API, MODE=sagemaker under the supervisor, MODE=vertex run directly.
// The store is the loopback receiver (test/helpers/upload-receiver.ts), its hosts allowed.
import { spawn } from 'node:child_process';
import sharp from 'sharp';
import { request } from 'undici';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { startServer, type RunningServer } from '../helpers/http-server.js';
import { startRuntimeApi, type LambdaRuntimeApi } from '../helpers/lambda-runtime-api.js';
import { fixture, repoRoot } from '../helpers/run-process.js';
import { killProcessTree, supervisorBin } from '../helpers/supervisor.js';
import { startUploadReceiver, type UploadReceiver } from '../helpers/upload-receiver.js';
// @ts-expect-error: a fixture shim in plain JavaScript
import { expectedPng } from '../fixtures/image-output-model.mjs';

const imageModel = fixture('image-output-model.mjs');
const fieldsModel = fixture('fields-model.mjs');

let receiver: UploadReceiver;
const stops: (() => Promise<unknown>)[] = [];
beforeEach(async () => {
  receiver = await startUploadReceiver();
});
afterEach(async () => {
  await Promise.all(stops.splice(0).map((stop) => stop().catch(() => {})));
  await receiver.close();
});

/** The shade of a stored PNG (its fields-model files are one grey). */
async function shadeOf(bytes: Buffer | undefined): Promise<number> {
  expect(bytes, 'the file was stored').toBeDefined();
  const { channels } = await sharp(bytes!).stats();
  return Math.round(channels[0]!.mean);
}

describe('MODE=lambda with OUTPUT_UPLOAD_URL', () => {
  async function startFunction(script: string, upload: string): Promise<LambdaRuntimeApi> {
    const api = await startRuntimeApi();
    const env: Record<string, string> = {
      ...(process.env as Record<string, string>),
      MODE: 'lambda',
      AWS_LAMBDA_RUNTIME_API: api.address,
      OUTPUT_UPLOAD_URL: upload,
      URL_INPUTS_ALLOW_HOSTS: receiver.allowHosts,
    };
    delete env._X_AMZN_TRACE_ID;
    const child = spawn(process.execPath, [script], { cwd: repoRoot, env, stdio: ['ignore', 'ignore', 'ignore'] });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    stops.push(async () => {
      child.kill('SIGTERM');
      await exited;
      await api.close();
    });
    return api;
  }

  test("a plain event: the image is PUT under the invocation's request id and its URL answered, past a response limit its data URL would break", async () => {
    const api = await startFunction(imageModel, `${receiver.api}/signed/fn`);
    // Lambda's 6 MB limit, scaled down: the 16 kB PNG as a data URL would not fit in 8 kB.
    api.maxResponseBytes = 8000;
    const posted = await api.invoke({ width: 1024, shade: 7 }, { requestId: 'req-big' });
    expect(posted.status, posted.body.toString('utf8')).toBe(202);
    const url = `${receiver.bucket}/signed/fn/req-big/output.png`;
    const png: Buffer = await expectedPng(1024, 7);
    expect(posted.json()).toMatchObject({
      id: 'req-big',
      status: 'succeeded',
      output: url,
      content_type: 'image/png',
      uploads: [{ field: 'output', url, content_type: 'image/png', bytes: png.length }],
    });
    expect(receiver.stored.get('/signed/fn/req-big/output.png')).toEqual(png);
    expect(receiver.requests.at(-1)).toMatchObject({ server: 'bucket', contentType: 'image/png', predictionId: 'req-big' });
  });

  test('a function URL event: the native envelope as JSON; Accept naming the image gets its bytes and uploads nothing', async () => {
    const api = await startFunction(imageModel, `${receiver.api}/direct`);
    const event = (accept: string) => ({
      version: '2.0',
      rawPath: '/',
      rawQueryString: '',
      headers: { 'content-type': 'application/json', accept },
      requestContext: { http: { method: 'POST', path: '/' }, requestId: 'ctx' },
      body: JSON.stringify({ width: 16, shade: 3 }),
      isBase64Encoded: false,
    });
    const answer = (await api.invoke(event('*/*'), { requestId: 'url-1' })).json();
    expect(answer).toMatchObject({ statusCode: 200, isBase64Encoded: false, headers: { 'content-type': 'application/json; charset=utf-8' } });
    expect(JSON.parse(answer.body)).toMatchObject({ id: 'url-1', output: `${receiver.api}/public/direct/url-1/output.png`, content_type: 'image/png' });
    expect(receiver.stored.get('/direct/url-1/output.png')).toEqual(await expectedPng(16, 3));

    const raw = (await api.invoke(event('image/png'), { requestId: 'url-2' })).json();
    expect(raw).toMatchObject({ statusCode: 200, isBase64Encoded: true, headers: { 'content-type': 'image/png' } });
    expect(Buffer.from(raw.body, 'base64')).toEqual(await expectedPng(16, 3));
    expect(receiver.requests.map((received) => received.url)).toEqual(['/direct/url-1/output.png']);
  });

  test("a structured output: each file field's URL in its place, the data fields as they are; a refusing store is Function.UploadFailed", async () => {
    const api = await startFunction(fieldsModel, `${receiver.api}/direct/f`);
    const answer = (await api.invoke({ kind: 'fields', prompt: 'up' }, { requestId: 'st-1' })).json();
    const at = (name: string) => `${receiver.api}/public/direct/f/st-1/${name}`;
    expect(answer.output).toEqual({
      label: 'cat up',
      score: 0.93,
      count: 3,
      ok: true,
      meta: { tags: ['a', 'b'], nothing: null },
      mask: at('mask.png'),
      frames: [at('frames-0.png'), at('frames-1.png')],
    });
    expect(answer.uploads.map((file: { field: string }) => file.field).sort()).toEqual(['frames-0', 'frames-1', 'mask']);
    expect(await shadeOf(receiver.stored.get('/direct/f/st-1/mask.png'))).toBe(200);
    expect(await shadeOf(receiver.stored.get('/direct/f/st-1/frames-1.png'))).toBe(20);

    await stops.pop()!();
    const refusing = await startFunction(fieldsModel, `${receiver.api}/refuse`);
    const failed = await refusing.invoke({ kind: 'fields' }, { requestId: 'st-2' });
    expect(failed.kind).toBe('error');
    expect(failed.headers['lambda-runtime-function-error-type']).toBe('Function.UploadFailed');
    expect(failed.json()).toMatchObject({ errorType: 'AI_ERR_UPLOAD_FAILED', errorMessage: expect.stringMatching(/\/refuse\/st-2\/\S+ failed: HTTP 403/) });
  });
});

describe('MODE=sagemaker (under the supervisor) with OUTPUT_UPLOAD_URL', () => {
  async function serve(script: string, upload: string): Promise<RunningServer> {
    const server = await startServer(supervisorBin, { MODE: 'sagemaker', OUTPUT_UPLOAD_URL: upload, URL_INPUTS_ALLOW_HOSTS: receiver.allowHosts }, [script]);
    stops.push(() => killProcessTree(server));
    return server;
  }
  const invoke = async (server: RunningServer, body: string, headers: Record<string, string>) => {
    const response = await request(`${server.url}/invocations`, { method: 'POST', headers, body });
    return { status: response.statusCode, type: String(response.headers['content-type']), body: Buffer.from(await response.body.arrayBuffer()) };
  };

  test('an invocation answers the URL as JSON under its request id; Accept: image/png the bytes; JSON Lines each line under <id>-<line>', async () => {
    const server = await serve(imageModel, `${receiver.api}/direct/sm`);
    const json = await invoke(server, JSON.stringify({ width: 12, shade: 40 }), { 'content-type': 'application/json', 'x-request-id': 'inv-1' });
    expect(json.status, json.body.toString()).toBe(200);
    expect(json.type).toBe('application/json');
    expect(JSON.parse(json.body.toString())).toBe(`${receiver.api}/public/direct/sm/inv-1/output.png`);
    expect(receiver.stored.get('/direct/sm/inv-1/output.png')).toEqual(await expectedPng(12, 40));

    // A 12-pixel image of `shade`, asked for with `accept`, under the request id `id`.
    const imageAccepting = (accept: string, shade: number, id: string) =>
      invoke(server, JSON.stringify({ width: 12, shade }), { 'content-type': 'application/json', accept, 'x-request-id': id });
    const raw = await imageAccepting('image/png', 41, 'inv-2');
    expect(raw.type).toBe('image/png');
    expect(raw.body).toEqual(await expectedPng(12, 41));

    // An Accept that takes no JSON form: the bytes when it takes the file's type, else 406; either
    // way nothing is uploaded (it would only end in 406).
    const loose = await imageAccepting('image/*', 42, 'inv-3');
    expect(loose.status, loose.body.toString()).toBe(200);
    expect(loose.type).toBe('image/png');
    expect(loose.body).toEqual(await expectedPng(12, 42));
    const refused = await imageAccepting('audio/*', 43, 'inv-4');
    expect(refused.status).toBe(406);

    const lines = await invoke(server, '{"shade": 1}\n{"shade": 2}\n', { 'content-type': 'application/jsonlines', 'x-request-id': 'batch' });
    expect(lines.status, lines.body.toString()).toBe(200);
    expect(
      lines.body
        .toString()
        .split('\n')
        .map((line) => JSON.parse(line)),
    ).toEqual([`${receiver.api}/public/direct/sm/batch-1/output.png`, `${receiver.api}/public/direct/sm/batch-2/output.png`]);
    expect(receiver.stored.get('/direct/sm/batch-2/output.png')).toEqual(await expectedPng(8, 2));
    expect(receiver.requests.map((received) => received.url).sort()).toEqual([
      '/direct/sm/batch-1/output.png',
      '/direct/sm/batch-2/output.png',
      '/direct/sm/inv-1/output.png',
    ]);
  });

  test("a structured output: its fields as JSON with each file's URL", async () => {
    const server = await serve(fieldsModel, `${receiver.api}/direct`);
    const answer = await invoke(server, JSON.stringify({ kind: 'fields', prompt: 'sm' }), { 'content-type': 'application/json', 'x-request-id': 'st' });
    expect(answer.status, answer.body.toString()).toBe(200);
    const output = JSON.parse(answer.body.toString());
    expect(output).toMatchObject({ label: 'cat sm', mask: `${receiver.api}/public/direct/st/mask.png` });
    expect(output.frames).toEqual([`${receiver.api}/public/direct/st/frames-0.png`, `${receiver.api}/public/direct/st/frames-1.png`]);
    expect(await shadeOf(receiver.stored.get('/direct/st/frames-0.png'))).toBe(10);
  });
});

describe('MODE=vertex with OUTPUT_UPLOAD_URL', () => {
  test("each instance's files under <request id>-<index>: URLs in predictions, for a single file and a structured output", async () => {
    const serve = async (script: string) => {
      const server = await startServer(script, { MODE: 'vertex', OUTPUT_UPLOAD_URL: `${receiver.api}/signed/vx`, URL_INPUTS_ALLOW_HOSTS: receiver.allowHosts });
      stops.push(() => killProcessTree(server));
      return server;
    };
    const predict = async (server: RunningServer, body: unknown, id: string) => {
      const response = await request(`${server.url}/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-request-id': id },
        body: JSON.stringify(body),
      });
      const text = await response.body.text();
      expect(response.statusCode, text).toBe(200);
      return JSON.parse(text) as { predictions: any[] };
    };
    const images = await serve(imageModel);
    const answer = await predict(images, { instances: [{ shade: 90 }, { shade: 91 }], parameters: { width: 10 } }, 'vx-1');
    expect(answer.predictions).toEqual([`${receiver.bucket}/signed/vx/vx-1-0/output.png`, `${receiver.bucket}/signed/vx/vx-1-1/output.png`]);
    expect(receiver.stored.get('/signed/vx/vx-1-1/output.png')).toEqual(await expectedPng(10, 91));

    const fields = await serve(fieldsModel);
    const structured = await predict(fields, { instances: [{ kind: 'fields', prompt: 'vx' }] }, 'vx-2');
    expect(structured.predictions[0]).toMatchObject({
      label: 'cat vx',
      mask: `${receiver.bucket}/signed/vx/vx-2-0/mask.png`,
      frames: [`${receiver.bucket}/signed/vx/vx-2-0/frames-0.png`, `${receiver.bucket}/signed/vx/vx-2-0/frames-1.png`],
    });
    expect(await shadeOf(receiver.stored.get('/signed/vx/vx-2-0/mask.png'))).toBe(200);
  });
});
