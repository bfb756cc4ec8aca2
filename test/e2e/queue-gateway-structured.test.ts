// A structured output (`output({ ... })` with file fields) through the gateway (QUEUE_BACKEND) and
// MODE=queue workers, against a real redis-server: its files come back as data: URLs, or as the
// URLs the workers uploaded them to (OUTPUT_UPLOAD_URL on the workers), or as the gateway uploaded
// them (OUTPUT_UPLOAD_URL on the gateway). The store is the loopback receiver.
import sharp from 'sharp';
import { request } from 'undici';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { startServer, type RunningServer } from '../helpers/http-server.js';
import { startRedis, type RunningRedis } from '../helpers/redis.js';
import { fixture } from '../helpers/run-process.js';
import { eventually, killProcessTree, supervisorBin } from '../helpers/supervisor.js';
import { startUploadReceiver, type UploadReceiver } from '../helpers/upload-receiver.js';

const fieldsModel = fixture('fields-model.mjs');
let redis: RunningRedis;
let receiver: UploadReceiver;
const servers: RunningServer[] = [];
let queues = 0;
let queueName: string;

beforeEach(async () => {
  [redis, receiver] = await Promise.all([startRedis(), startUploadReceiver()]);
  queueName = `structured-${++queues}`;
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => killProcessTree(server)));
  await Promise.all([redis.dispose(), receiver.close()]);
});

async function fleet(model: string, workerEnv: Record<string, string> = {}, gatewayEnv: Record<string, string> = {}): Promise<string> {
  const worker = await startServer(model, {
    MODE: 'queue',
    REDIS_URL: redis.url,
    QUEUE_NAME: queueName,
    URL_INPUTS_ALLOW_HOSTS: receiver.allowHosts,
    ...workerEnv,
  });
  servers.push(worker);
  // The gateway runs no model: its schema and output description come from the worker.
  const gateway = await startServer(supervisorBin, { MODE: 'http', QUEUE_BACKEND: redis.url, QUEUE_NAME: queueName, ...gatewayEnv });
  servers.push(gateway);
  expect(await eventually(async () => (await request(`${gateway.url}/health`)).statusCode === 200, 30_000), gateway.stderr()).toBe(true);
  return gateway.url;
}

async function predict(url: string, inputs: Record<string, unknown>, headers: Record<string, string> = {}) {
  const response = await request(`${url}/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ inputs }),
  });
  const text = await response.body.text();
  return { status: response.statusCode, text, body: JSON.parse(text) as Record<string, any> };
}

/** The PNG a data: URL (or stored file) holds: its size and grey. */
async function pngOf(value: string | Buffer | undefined) {
  expect(value).toBeDefined();
  let bytes = value as Buffer;
  if (typeof value === 'string') {
    expect(value).toMatch(/^data:image\/png;base64,/);
    bytes = Buffer.from(value.slice(value.indexOf(',') + 1), 'base64');
  }
  const { width, height } = await sharp(bytes).metadata();
  return { width, height, shade: Math.round((await sharp(bytes).stats()).channels[0]!.mean) };
}

describe('the gateway with a structured output', () => {
  test('without uploads: the data fields as they are, each file a data: URL holding its PNG, as the model served directly answers', async () => {
    const url = await fleet(fieldsModel);
    const answer = await predict(url, { kind: 'fields', prompt: 'gw' });
    expect(answer.status, answer.text).toBe(200);
    expect(answer.body).toMatchObject({
      status: 'succeeded',
      content_type: 'application/json',
      output: { label: 'cat gw', score: 0.93, count: 3, ok: true, meta: { tags: ['a', 'b'], nothing: null } },
    });
    expect(await pngOf(answer.body.output.mask)).toEqual({ width: 4, height: 3, shade: 200 });
    expect(await Promise.all(answer.body.output.frames.map(pngOf))).toEqual([
      { width: 4, height: 3, shade: 10 },
      { width: 4, height: 3, shade: 20 },
    ]);
    // The same answer as the model's own service gives.
    const direct = await startServer(fieldsModel);
    servers.push(direct);
    const directAnswer = await predict(direct.url, { kind: 'fields', prompt: 'gw' });
    expect(answer.body.output).toEqual(directAnswer.body.output);
    expect(answer.body.content_type).toBe(directAnswer.body.content_type);
  });

  test("with workers that upload: each file field is the worker's uploaded URL, `uploads` lists them, no data: URL anywhere", async () => {
    const url = await fleet(fieldsModel, { OUTPUT_UPLOAD_URL: `${receiver.api}/direct/w` });
    const answer = await predict(url, { kind: 'fields', prompt: 'up' });
    expect(answer.status, answer.text).toBe(200);
    expect(answer.text).not.toContain('data:');
    const jobId = answer.body.uploads?.[0]?.url.split('/').at(-2);
    const at = (name: string) => `${receiver.api}/public/direct/w/${jobId}/${name}`;
    expect(answer.body).toMatchObject({
      status: 'succeeded',
      content_type: 'application/json',
      output: { label: 'cat up', score: 0.93, mask: at('mask.png'), frames: [at('frames-0.png'), at('frames-1.png')] },
    });
    expect(answer.body.uploads.map((file: { field: string }) => file.field).sort()).toEqual(['frames-0', 'frames-1', 'mask']);
    expect(await pngOf(receiver.stored.get(`/direct/w/${jobId}/mask.png`))).toEqual({ width: 4, height: 3, shade: 200 });
  });

  test("with the gateway uploading (OUTPUT_UPLOAD_URL on the gateway): the worker's data: URLs become files again, uploaded under the gateway's prediction id", async () => {
    const url = await fleet(fieldsModel, {}, { OUTPUT_UPLOAD_URL: `${receiver.api}/direct/g`, URL_INPUTS_ALLOW_HOSTS: receiver.allowHosts });
    const answer = await predict(url, { kind: 'fields', prompt: 'at the gateway' }, { 'x-request-id': 'gw-1' });
    expect(answer.status, answer.text).toBe(200);
    expect(answer.text).not.toContain('data:');
    const at = (name: string) => `${receiver.api}/public/direct/g/gw-1/${name}`;
    expect(answer.body).toMatchObject({
      id: 'gw-1',
      output: {
        label: 'cat at the gateway',
        meta: { tags: ['a', 'b'], nothing: null },
        mask: at('mask.png'),
        frames: [at('frames-0.png'), at('frames-1.png')],
      },
    });
    expect(answer.body.uploads.map((file: { field: string }) => file.field)).toEqual(['mask', 'frames-0', 'frames-1']);
    expect(await pngOf(receiver.stored.get('/direct/g/gw-1/frames-1.png'))).toEqual({ width: 4, height: 3, shade: 20 });
  });
});
