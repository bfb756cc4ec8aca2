// Output uploads in real processes: MODE=queue workers upload each job's output file before the
// result goes to Redis (a real redis-server, a plain BullMQ producer), and MODE=http under the
// supervisor uploads a prediction's. The store is the loopback receiver, its hosts allowed.
import { Queue, QueueEvents, type Job } from 'bullmq';
import { request } from 'undici';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { startServer, type RunningServer } from '../helpers/http-server.js';
import { startRedis, type RunningRedis } from '../helpers/redis.js';
import { fixture } from '../helpers/run-process.js';
import { eventually, killProcessTree, supervisorBin } from '../helpers/supervisor.js';
import { startUploadReceiver, type UploadReceiver } from '../helpers/upload-receiver.js';
// @ts-expect-error: a fixture shim in plain JavaScript
import { expectedPng } from '../fixtures/image-output-model.mjs';

const model = fixture('image-output-model.mjs');
let receiver: UploadReceiver;
const containers: RunningServer[] = [];
const closers: { close: () => Promise<unknown> }[] = [];
let redis: RunningRedis | undefined;
beforeEach(async () => {
  receiver = await startUploadReceiver();
});
afterEach(async () => {
  await Promise.all(containers.splice(0).map((container) => killProcessTree(container)));
  await Promise.all(closers.splice(0).map((closer) => closer.close().catch(() => {})));
  await redis?.dispose();
  redis = undefined;
  await receiver.close();
});

async function healthy(container: RunningServer): Promise<boolean> {
  try {
    const response = await request(`${container.url}/health`);
    await response.body.dump();
    return response.statusCode === 200;
  } catch {
    return false;
  }
}

async function start(script: string, env: Record<string, string>, args: string[] = []): Promise<RunningServer> {
  const container = await startServer(script, { URL_INPUTS_ALLOW_HOSTS: receiver.allowHosts, ...env }, args);
  containers.push(container);
  expect(await eventually(() => healthy(container), 30_000), container.stderr()).toBe(true);
  return container;
}

describe('MODE=queue with OUTPUT_UPLOAD_URL', () => {
  async function worker(upload: string) {
    redis = await startRedis();
    await start(model, { MODE: 'queue', REDIS_URL: redis.url, QUEUE_NAME: 'uploads', OUTPUT_UPLOAD_URL: upload });
    const connection = { host: redis.host, port: redis.port };
    const queue = new Queue('uploads', { connection });
    const events = new QueueEvents('uploads', { connection, lastEventId: '0-0' });
    closers.push(events, queue);
    await queue.waitUntilReady();
    await events.waitUntilReady();
    return { queue, events };
  }

  test("the worker uploads the job's image (redirected to a signed URL); Redis holds its URL, not its bytes", async () => {
    const { queue, events } = await worker(`${receiver.api}/signed/jobs`);
    const job: Job = await queue.add('predict', { inputs: { width: 256, shade: 200 } });
    const result = await job.waitUntilFinished(events, 30_000);
    const url = `${receiver.bucket}/signed/jobs/${job.id}/output.png`;
    const png: Buffer = await expectedPng(256, 200);
    expect(result).toMatchObject({
      id: job.id,
      status: 'succeeded',
      output: url,
      content_type: 'image/png',
      uploads: [{ field: 'output', url, bytes: png.length }],
    });
    expect(receiver.stored.get(`/signed/jobs/${job.id}/output.png`)).toEqual(png);
    // The job as Redis holds it: its return value is the small envelope, with no base64 of the image.
    const stored = await queue.getJob(job.id!);
    const raw = JSON.stringify(stored!.returnvalue);
    expect(raw).not.toContain('data:');
    expect(raw.length).toBeLessThan(1000);
  });

  test('a store that fails twice: the job succeeds with the URL; one that refuses: the job fails with AI_ERR_UPLOAD_FAILED, not retried', async () => {
    const { queue, events } = await worker(`${receiver.api}/flaky`);
    const job = await queue.add('predict', { inputs: {} });
    expect((await job.waitUntilFinished(events, 30_000)).output).toBe(`${receiver.api}/public/flaky/${job.id}/output.png`);
    expect(receiver.requests.map((received) => received.status)).toEqual([503, 503, 201]);

    // A worker whose store refuses every file.
    await killProcessTree(containers.pop()!);
    await start(model, { MODE: 'queue', REDIS_URL: redis!.url, QUEUE_NAME: 'uploads', OUTPUT_UPLOAD_URL: `${receiver.api}/refuse` });
    const refused = await queue.add('predict', { inputs: {} }, { attempts: 3 });
    const error = await refused.waitUntilFinished(events, 30_000).then(
      () => 'succeeded',
      (thrown: Error) => thrown.message,
    );
    expect(error).toMatch(
      /^AI_ERR_UPLOAD_FAILED: uploading the output "output" \(image\/png, \d+ bytes\) to http:\/\/127\.0\.0\.1:\d+\/refuse\/\d+\/output\.png failed: HTTP 403$/,
    );
    expect((await queue.getJob(refused.id!))!.attemptsMade).toBe(1);
  });
});

describe('MODE=http under the supervisor with OUTPUT_UPLOAD_URL', () => {
  test('POST /predict answers the URL; the store got the bytes with their content type', async () => {
    const server = await start(supervisorBin, { MODE: 'http', OUTPUT_UPLOAD_URL: `${receiver.api}/signed` }, [model]);
    const response = await request(`${server.url}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'proc-1' },
      body: JSON.stringify({ inputs: { width: 32, shade: 5 } }),
    });
    const body = (await response.body.json()) as any;
    expect(response.statusCode).toBe(200);
    expect(body.output).toBe(`${receiver.bucket}/signed/proc-1/output.png`);
    expect(receiver.stored.get('/signed/proc-1/output.png')).toEqual(await expectedPng(32, 5));
    expect(receiver.requests.at(-1)).toMatchObject({ server: 'bucket', contentType: 'image/png', predictionId: 'proc-1' });
  });
});

describe('streamed outputs under the supervisor with OUTPUT_UPLOAD_URL', () => {
  /** The events of a server-sent event stream, their data parsed. */
  const events = (text: string) =>
    text
      .split('\n\n')
      .filter((block) => block.trim() !== '')
      .map((block) => {
        const lines = block.split('\n');
        const data = lines.filter((line) => line.startsWith('data: ')).map((line) => line.slice(6));
        return { event: lines.find((line) => line.startsWith('event: '))!.slice(7), data: JSON.parse(data.join('\n')) };
      });
  const stream = async (server: RunningServer, inputs: Record<string, unknown>) => {
    const response = await request(`${server.url}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ inputs }),
    });
    return events(await response.body.text());
  };

  test("image chunks and structured states from the worker: each event carries its file's URL, the store has each chunk's bytes", async () => {
    const images = await start(supervisorBin, { MODE: 'http', OUTPUT_UPLOAD_URL: `${receiver.api}/direct` }, [fixture('stream-model.mjs')]);
    const streamed = await stream(images, { prompt: 'p', kind: 'image' });
    const done = streamed.at(-1)!;
    expect(done).toMatchObject({ event: 'done', data: { status: 'succeeded', content_type: 'image/png' } });
    const at = (name: string) => `${receiver.api}/public/direct/${done.data.id}/${name}`;
    expect(streamed.slice(0, -1).map((event) => event.data)).toEqual([at('output-0.png'), at('output-1.png'), at('output-2.png')]);
    expect(done.data.output).toBe(at('output.png'));
    // The last chunk is the final result: the same bytes, stored twice under their two names.
    expect(receiver.stored.get(`/direct/${done.data.id}/output-2.png`)).toEqual(receiver.stored.get(`/direct/${done.data.id}/output.png`));

    const fields = await start(supervisorBin, { MODE: 'http', OUTPUT_UPLOAD_URL: `${receiver.api}/direct` }, [fixture('fields-model.mjs')]);
    const states = await stream(fields, { kind: 'stream', prompt: 'q' });
    const id = states.at(-1)!.data.id;
    expect(states.filter((event) => event.event === 'output').map((event) => event.data)).toEqual(
      [0, 1, 2].map((index) => ({ step: index + 1, prompt: 'q', preview: `${receiver.api}/public/direct/${id}/preview-${index}.png` })),
    );
    expect(JSON.stringify(states)).not.toContain('data:');
  });
});
