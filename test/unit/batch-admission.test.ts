// A request of several items (KServe V1 instances, a KServe V2 batch, Vertex AI instances,
// SageMaker JSON Lines, OpenAI's n choices) that finds the queue with room for only some of them
// is admitted whole or not at all: 429 with Retry-After before any item runs, never a 429 after the
// model ran the items that got in (their work thrown away). Each mode runs in this process with a
// model that records what it ran and holds the inferences a test names until it lets them go.
import { afterEach, describe, expect, test } from 'vitest';
import { chatInputs, chatModel } from '../../src/index.js';
import { startInProcess, type InProcessService } from '../helpers/in-process-service.js';

let ran: string[] = [];
let letGo: () => void = () => {};
let held: Promise<void> = Promise.resolve();
function holdModels(): void {
  held = new Promise((resolve) => (letGo = resolve));
}

const recorder = {
  inference: async (inputs: { text: string }) => {
    ran.push(inputs.text);
    if (inputs.text.startsWith('hold')) await held;
    return { 'content-type': 'text/plain', data: inputs.text.toUpperCase(), success: true };
  },
  schema: { text: { type: 'text' } },
} as const;

const services: InProcessService[] = [];
afterEach(async () => {
  letGo();
  await Promise.all(services.splice(0).map((service) => service.close()));
  ran = [];
});

async function serve(mode: string, env: Record<string, string>, model: unknown = recorder): Promise<InProcessService> {
  const service = await startInProcess({ mode, model: model as never, env, options: { name: 'recorder' } });
  services.push(service);
  return service;
}

const gauge = async (service: InProcessService, name: string) =>
  Number(new RegExp(`^${name} (\\d+)$`, 'm').exec((await service.inject({ url: '/metrics' })).text())?.[1]);

/** Waits until the model runs `running` inferences and `queued` more wait; then the queue's room is known. */
async function occupied(service: InProcessService, running: number, queued: number): Promise<void> {
  await expect.poll(() => gauge(service, 'inferences_in_flight'), { timeout: 5000 }).toBe(running);
  await expect.poll(() => gauge(service, 'inference_queue_depth'), { timeout: 5000 }).toBe(queued);
}

/** Lets the held inferences go, and waits until nothing runs or waits: whatever was admitted has run. */
async function drain(service: InProcessService, pending: Promise<unknown>[]): Promise<void> {
  letGo();
  await Promise.all(pending);
  await occupied(service, 0, 0);
}

const texts = (prefix: string, count: number) => Array.from({ length: count }, (_, index) => `${prefix}${index}`);

describe.each([
  {
    mode: 'kserve',
    path: '/v1/models/recorder:predict',
    noun: 'instances',
    body: (items: string[]) => ({ instances: items.map((text) => ({ text })) }),
  },
  {
    mode: 'kserve',
    path: '/v2/models/recorder/infer',
    noun: 'batch items',
    body: (items: string[]) => ({ inputs: [{ name: 'text', shape: [items.length], datatype: 'BYTES', data: items }] }),
  },
  {
    mode: 'vertex',
    path: '/predict',
    noun: 'instances',
    body: (items: string[]) => ({ instances: items.map((text) => ({ text })) }),
  },
])('MODE=$mode $path', ({ mode, path, noun, body }) => {
  test(`${noun} more than the room left: 429 with Retry-After, and none of them ran; with room, all run`, async () => {
    // CONCURRENCY 1 + MAX_QUEUE 3: four places; one request runs and one waits, so two are free.
    const service = await serve(mode, { CONCURRENCY: '1', MAX_QUEUE: '3' });
    holdModels();
    const holding = texts('hold', 2).map((text) => service.inject({ method: 'POST', url: path, body: body([text]) }));
    await occupied(service, 1, 1);
    const refused = await service.inject({ method: 'POST', url: path, body: body(texts('batch', 3)) });
    expect(refused.status, refused.text()).toBe(429);
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.text()).toContain(`the queue has room for 2 of the 3 ${noun} of this request now (all are admitted together or none); retry later`);
    await drain(service, holding);
    expect(ran.filter((text) => text.startsWith('batch'))).toEqual([]);
    // The places come back: the same request now runs whole.
    const admitted = await service.inject({ method: 'POST', url: path, body: body(texts('batch', 3)) });
    expect(admitted.status, admitted.text()).toBe(200);
    expect(ran.filter((text) => text.startsWith('batch')).sort()).toEqual(texts('batch', 3));
  });
});

describe('MODE=sagemaker application/jsonlines', () => {
  const lines = (items: string[]) => `${items.map((text) => JSON.stringify({ text })).join('\n')}\n`;
  const invoke = (service: InProcessService, items: string[]) =>
    service.inject({ method: 'POST', url: '/invocations', headers: { 'content-type': 'application/jsonlines' }, body: lines(items) });

  test('lines run CONCURRENCY at a time; with fewer places free than that, 429 before any line runs, and the places stay held until the last line', async () => {
    // CONCURRENCY 2 + MAX_QUEUE 1: two requests run, one place is free; one transform at a time, so a request's lines run two at a time.
    const service = await serve('sagemaker', { CONCURRENCY: '2', MAX_QUEUE: '1', SAGEMAKER_MAX_CONCURRENT_TRANSFORMS: '1' });
    holdModels();
    const holding = texts('hold', 2).map((text) => service.inject({ method: 'POST', url: '/invocations', body: { text } }));
    await occupied(service, 2, 0);
    const refused = await invoke(service, texts('line', 3));
    expect(refused.status, refused.text()).toBe(429);
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.text()).toContain('the queue has room for 1 of the 2 lines at once of this request now');
    await drain(service, holding);
    expect(ran.filter((text) => text.startsWith('line'))).toEqual([]);

    // Admitted, the request keeps its two places between its lines: while its first lines run, a
    // request from elsewhere takes the one free place, and the rest of the lines still run.
    holdModels();
    const request = invoke(service, ['hold-line0', 'hold-line1', 'line2', 'line3']);
    await occupied(service, 2, 0);
    const other = service.inject({ method: 'POST', url: '/invocations', body: { text: 'other' } });
    await occupied(service, 2, 1);
    expect((await service.inject({ method: 'POST', url: '/invocations', body: { text: 'refused' } })).status).toBe(429);
    letGo();
    const answer = await request;
    expect(answer.status, answer.text()).toBe(200);
    expect(answer.text().trim().split('\n')).toEqual(['"HOLD-LINE0"', '"HOLD-LINE1"', '"LINE2"', '"LINE3"']);
    expect((await other).status).toBe(200);
    expect(ran).not.toContain('refused');
  });
});

describe('MODE=openai: n choices', () => {
  const chat = {
    inference: chatModel(async function* (request) {
      const content = String(request.messages.at(-1)?.content);
      ran.push(content);
      if (content.startsWith('hold')) await held;
      yield `echo ${content}`;
    }),
    schema: chatInputs,
  };
  const complete = (service: InProcessService, content: string, n: number, stream = false) =>
    service.inject({ method: 'POST', url: '/v1/chat/completions', body: { model: 'recorder', messages: [{ role: 'user', content }], n, stream } });

  test.each([false, true])(
    'stream %s: n more than the room left is 429 before any choice runs (and before a stream opens); with room, all run',
    async (stream) => {
      const service = await serve('openai', { CONCURRENCY: '1', MAX_QUEUE: '2' }, chat);
      holdModels();
      const holding = [complete(service, 'hold', 1)];
      await occupied(service, 1, 0);
      const refused = await complete(service, 'choices', 3, stream);
      expect(refused.status, refused.text()).toBe(429);
      expect(refused.headers['content-type']).toMatch(/^application\/json/);
      expect(refused.json().error.message).toContain('the queue has room for 2 of the 3 choices of this request now');
      await drain(service, holding);
      expect(ran).toEqual(['hold']);
      const admitted = await complete(service, 'choices', 2, stream);
      expect(admitted.status, admitted.text()).toBe(200);
      expect(ran).toEqual(['hold', 'choices', 'choices']);
    },
  );
});
