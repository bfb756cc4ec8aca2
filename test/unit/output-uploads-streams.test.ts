// Output uploads of streamed outputs, and cancels that stop an upload, through the modes' own code
// (in process, real HTTP on loopback). A streaming model's files upload as it yields them, named
// `<field>-<index>.<ext>`, and each event carries the URL; a cancel (native, Cog, a client gone)
// aborts a PUT the store holds open, and the prediction ends canceled, not failed.
import sharp from 'sharp';
import { request } from 'undici';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { image, output } from '../../src/index.js';
import type { InferenceFunction, InputsSchema } from '../../src/types.js';
import { startInProcess, type InProcessService } from '../helpers/in-process-service.js';
import { startUploadReceiver, type UploadReceiver } from '../helpers/upload-receiver.js';

const png = (shade: number) =>
  sharp({ create: { width: 4, height: 4, channels: 3, background: { r: shade, g: shade, b: shade } } })
    .png()
    .toBuffer();
const shades = [60, 120, 180];

// How the model's generator ended, once it has (its finally ran): stopped before its last chunk, or finished.
let generatorEnded: (how: 'stopped' | 'finished') => void = () => {};
const schema: InputsSchema = { kind: { type: 'choice', choices: ['images', 'fields', 'single', 'held'], default: 'images' } };
const model = async function* ({ kind }: { kind: string }, { signal }: { signal: AbortSignal }) {
  if (kind === 'single') return image(await png(9));
  let finished = false;
  try {
    for (const [step, shade] of shades.entries()) {
      yield kind === 'fields' ? output({ step, preview: image(await png(shade)) }) : image(await png(shade));
      // `held`: after its first chunk the model waits until it is stopped.
      if (kind === 'held') await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
    }
    finished = true;
  } finally {
    generatorEnded(finished ? 'finished' : 'stopped');
  }
} as unknown as InferenceFunction<never>;

let receiver: UploadReceiver;
const services: InProcessService[] = [];
beforeEach(async () => {
  receiver = await startUploadReceiver();
});
afterEach(async () => {
  await Promise.all(services.splice(0).map((service) => service.close()));
  await receiver.close();
});

async function serve(mode: 'http' | 'cog', env: Record<string, string>): Promise<InProcessService> {
  const service = await startInProcess({ mode, model: { inference: model, schema }, env: { URL_INPUTS_ALLOW_HOSTS: receiver.allowHosts, ...env } });
  services.push(service);
  return service;
}

/** The events of a server-sent event stream, in order, their data parsed. */
function events(text: string): { event: string; data: any }[] {
  return text
    .split('\n\n')
    .filter((block) => block.trim() !== '')
    .map((block) => {
      const lines = block.split('\n');
      const event = lines.find((line) => line.startsWith('event: '))!.slice(7);
      const data = lines
        .filter((line) => line.startsWith('data: '))
        .map((line) => line.slice(6))
        .join('\n');
      return { event, data: JSON.parse(data) };
    });
}

async function shadeOf(bytes: Buffer | undefined): Promise<number> {
  expect(bytes, 'the file was stored').toBeDefined();
  return Math.round((await sharp(bytes!).stats()).channels[0]!.mean);
}

const noDataUrl = (body: unknown) => expect(JSON.stringify(body)).not.toContain('data:');

describe('streamed outputs with OUTPUT_UPLOAD_URL', () => {
  test('native SSE: each image chunk is uploaded as output-<index>.png and its event carries the URL; done lists every file', async () => {
    const service = await serve('http', { OUTPUT_UPLOAD_URL: `${receiver.api}/signed/s` });
    const response = await service.inject({
      method: 'POST',
      url: '/predict',
      body: { inputs: { kind: 'images' } },
      headers: { accept: 'text/event-stream', 'x-request-id': 'st-1' },
    });
    const stream = events(response.text());
    const id = stream.at(-1)!.data.id as string;
    const at = (name: string) => `${receiver.bucket}/signed/s/${id}/${name}`;
    expect(stream.map((event) => event.event)).toEqual(['output', 'output', 'output', 'done']);
    expect(stream.slice(0, 3).map((event) => event.data)).toEqual([at('output-0.png'), at('output-1.png'), at('output-2.png')]);
    const done = stream.at(-1)!.data;
    // The final result (the last image) is uploaded as a whole result is, beside the chunks.
    expect(done).toMatchObject({ status: 'succeeded', output: at('output.png'), content_type: 'image/png' });
    expect(done.uploads.map((file: { field: string }) => file.field)).toEqual(['output-0', 'output-1', 'output-2', 'output']);
    noDataUrl(stream);
    expect(await Promise.all([0, 1, 2].map((index) => shadeOf(receiver.stored.get(`/signed/s/${id}/output-${index}.png`))))).toEqual(shades);
    expect(receiver.requests.filter((received) => received.server === 'bucket').every((received) => received.predictionId === id)).toBe(true);
  });

  test("structured chunks: each state's file field is <field>-<index>.png, its data fields as they are", async () => {
    const service = await serve('http', { OUTPUT_UPLOAD_URL: `${receiver.api}/direct` });
    const response = await service.inject({ method: 'POST', url: '/predict', body: { inputs: { kind: 'fields' } }, headers: { accept: 'text/event-stream' } });
    const stream = events(response.text());
    const id = stream.at(-1)!.data.id as string;
    const at = (name: string) => `${receiver.api}/public/direct/${id}/${name}`;
    expect(stream.filter((event) => event.event === 'output').map((event) => event.data)).toEqual([
      { step: 0, preview: at('preview-0.png') },
      { step: 1, preview: at('preview-1.png') },
      { step: 2, preview: at('preview-2.png') },
    ]);
    expect(stream.at(-1)!.data).toMatchObject({ status: 'succeeded', output: { step: 2, preview: at('preview.png') } });
    expect(await shadeOf(receiver.stored.get(`/direct/${id}/preview-1.png`))).toBe(120);
  });

  test("Cog's event stream: each output event is the chunk's URL; the prediction's output is the final file's", async () => {
    const service = await serve('cog', { OUTPUT_UPLOAD_URL: `${receiver.api}/direct` });
    const response = await service.inject({
      method: 'POST',
      url: '/predictions',
      body: { id: 'cog-s', input: { kind: 'images' } },
      headers: { accept: 'text/event-stream' },
    });
    const stream = events(response.text());
    const at = (name: string) => `${receiver.api}/public/direct/cog-s/${name}`;
    expect(stream.filter((event) => event.event === 'output').map((event) => event.data)).toEqual([at('output-0.png'), at('output-1.png'), at('output-2.png')]);
    expect(stream.at(-1)).toMatchObject({ event: 'done', data: { id: 'cog-s', status: 'succeeded', output: at('output.png') } });
  });

  test('a store that refuses: the stream ends with the error event, no output event, and the model is stopped', async () => {
    const service = await serve('http', { OUTPUT_UPLOAD_URL: `${receiver.api}/refuse` });
    const ended = new Promise((resolve) => (generatorEnded = resolve));
    // The model yields one chunk, then waits: only the failed upload's stop ends it.
    const response = await service.inject({ method: 'POST', url: '/predict', body: { inputs: { kind: 'held' } }, headers: { accept: 'text/event-stream' } });
    const stream = events(response.text());
    expect(stream.map((event) => event.event)).toEqual(['error', 'done']);
    expect(stream[0]!.data).toMatchObject({ code: 'AI_ERR_UPLOAD_FAILED', message: expect.stringMatching(/"output-0" .* failed: HTTP 403$/) });
    expect(stream[1]!.data).toMatchObject({ status: 'failed', error: { code: 'AI_ERR_UPLOAD_FAILED' } });
    noDataUrl(stream);
    expect(await ended).toBe('stopped');
  });
});

describe('a cancel aborts an upload in flight', () => {
  /** Holds every PUT open until the test releases it. */
  const holdPuts = () => {
    let release!: () => void;
    receiver.hold = new Promise((resolve) => (release = resolve));
    return release;
  };
  const untilUploading = async () => {
    while (receiver.inFlight.now === 0) await new Promise((resolve) => setImmediate(resolve));
  };

  test('native cancel: the PUT is aborted and the prediction ends canceled', async () => {
    const service = await serve('http', { OUTPUT_UPLOAD_URL: `${receiver.api}/direct` });
    const release = holdPuts();
    const { id } = (
      await service.inject({ method: 'POST', url: '/predict', body: { inputs: { kind: 'single' } }, headers: { prefer: 'respond-async' } })
    ).json();
    await untilUploading();
    const canceled = await service.inject({ method: 'POST', url: `/predictions/${id}/cancel` });
    expect(await receiver.firstAbort()).toBe(`/direct/${id}/output.png`);
    release();
    expect(canceled.json()).toMatchObject({ id, status: 'canceled', error: { code: 'AI_ERR_CANCELED' } });
    expect((await service.inject({ url: `/predictions/${id}` })).json()).toMatchObject({ status: 'canceled' });
    expect(receiver.stored.size).toBe(0);
  });

  test('Cog cancel: the PUT is aborted and the prediction ends canceled', async () => {
    const service = await serve('cog', { OUTPUT_UPLOAD_URL: `${receiver.api}/direct` });
    const release = holdPuts();
    const started = await service.inject({
      method: 'PUT',
      url: '/predictions/cog-c',
      body: { input: { kind: 'single' } },
      headers: { prefer: 'respond-async' },
    });
    expect(started.status).toBe(202);
    await untilUploading();
    expect((await service.inject({ method: 'POST', url: '/predictions/cog-c/cancel' })).status).toBe(200);
    expect(await receiver.firstAbort()).toBe('/direct/cog-c/output.png');
    release();
    expect((await service.inject({ url: '/predictions/cog-c' })).json()).toMatchObject({ id: 'cog-c', status: 'canceled', output: null });
  });

  test("a streamed prediction's client gone: the chunk's PUT is aborted and the prediction ends canceled", async () => {
    const service = await serve('http', { OUTPUT_UPLOAD_URL: `${receiver.api}/direct` });
    const release = holdPuts();
    const client = new AbortController();
    const answered = request(`${service.url}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', 'x-request-id': 'gone' },
      body: JSON.stringify({ inputs: { kind: 'images' } }),
      signal: client.signal,
    }).then(async (response) => {
      const id = String(response.headers['x-prediction-id']);
      await response.body.dump().catch(() => {});
      return id;
    });
    await untilUploading();
    client.abort();
    const path = await receiver.firstAbort();
    release();
    expect(path).toMatch(/^\/direct\/\w+\/output-0\.png$/);
    const id = path.split('/')[2]!;
    await answered.catch(() => {});
    // The prediction ends once the aborted PUT has settled: polled, with the test's own limit.
    await vi.waitFor(
      async () =>
        expect((await service.inject({ url: `/predictions/${id}` })).json()).toMatchObject({ status: 'canceled', error: { code: 'AI_ERR_CANCELED' } }),
      { timeout: 10_000 },
    );
  });

  test('a synchronous /predict whose client is gone: the PUT is aborted', async () => {
    const service = await serve('http', { OUTPUT_UPLOAD_URL: `${receiver.api}/direct` });
    const release = holdPuts();
    const client = new AbortController();
    const answered = request(`${service.url}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'sync-gone' },
      body: JSON.stringify({ inputs: { kind: 'single' } }),
      signal: client.signal,
    }).catch(() => 'aborted');
    await untilUploading();
    client.abort();
    expect(await receiver.firstAbort()).toBe('/direct/sync-gone/output.png');
    release();
    expect(await answered).toBe('aborted');
    expect(receiver.stored.size).toBe(0);
  });
});
