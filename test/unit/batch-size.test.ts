// One request that holds several inputs objects (KServe V1 instances, a KServe V2 batch, Vertex
// AI instances, SageMaker JSON Lines, OpenAI's n choices), against what the queue can ever hold at once
// (CONCURRENCY + MAX_QUEUE): past it, 413 naming the limit before the model runs once, never a
// 429 that no retry could get past. Each mode runs in this process with a model that counts its calls.
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { chatInputs, chatModel, completionInputs, completionModel } from '../../src/index.js';
import { startInProcess, type InProcessService } from '../helpers/in-process-service.js';

// CONCURRENCY 1 + MAX_QUEUE 3.
const limit = 4;
const env = { CONCURRENCY: '1', MAX_QUEUE: String(limit - 1) };
const tooMany = (noun: string) =>
  `the request has ${limit + 1} ${noun}; this server takes at most ${limit} in one request (CONCURRENCY + MAX_QUEUE); send fewer per request, or raise MAX_QUEUE`;

let calls = 0;
const counter = {
  inference: (inputs: { text: string }) => {
    calls++;
    return { 'content-type': 'text/plain', data: inputs.text.toUpperCase(), success: true };
  },
  schema: { text: { type: 'text' } },
} as const;
afterEach(() => {
  calls = 0;
});

const texts = (count: number) => Array.from({ length: count }, (_, index) => `t${index}`);

describe.each([
  {
    mode: 'kserve',
    path: '/v1/models/counter:predict',
    noun: 'instances',
    body: (count: number) => ({ instances: texts(count).map((text) => ({ text })) }),
    errorOf: (body: any) => body.error,
  },
  {
    mode: 'kserve',
    path: '/v2/models/counter/infer',
    noun: 'batch items',
    body: (count: number) => ({ inputs: [{ name: 'text', shape: [count], datatype: 'BYTES', data: texts(count) }] }),
    errorOf: (body: any) => body.error,
  },
  {
    mode: 'vertex',
    path: '/predict',
    noun: 'instances',
    body: (count: number) => ({ instances: texts(count).map((text) => ({ text })) }),
    errorOf: (body: any) => body.error,
  },
])('MODE=$mode $path', ({ mode, path, noun, body, errorOf }) => {
  let service: InProcessService;
  beforeAll(async () => {
    service = await startInProcess({ mode, model: counter, env, options: { name: 'counter' } });
  });
  afterAll(async () => {
    await service.close();
  });

  test(`${limit + 1} ${noun}: 413 naming the limit, and the model never ran`, async () => {
    const answer = await service.inject({ method: 'POST', url: path, body: body(limit + 1) });
    expect(answer.status, answer.text()).toBe(413);
    expect(answer.headers['retry-after']).toBeUndefined();
    expect(errorOf(answer.json())).toBe(tooMany(noun));
    expect(calls).toBe(0);
  });

  test(`${limit} ${noun}: every one runs once`, async () => {
    const answer = await service.inject({ method: 'POST', url: path, body: body(limit) });
    expect(answer.status, answer.text()).toBe(200);
    expect(calls).toBe(limit);
  });
});

describe('MODE=sagemaker application/jsonlines', () => {
  let service: InProcessService;
  beforeAll(async () => {
    service = await startInProcess({ mode: 'sagemaker', model: counter, env, options: { name: 'counter' } });
  });
  afterAll(async () => {
    await service.close();
  });

  // Batch transform's mini-batches hold thousands of records: the lines run a few at a time, so
  // however many there are, they never fill the queue, and no count limit applies.
  test(`many more lines than ${limit}: every line runs once, in a window that never fills the queue`, async () => {
    const lines = texts(limit * 10);
    const answer = await service.inject({
      method: 'POST',
      url: '/invocations',
      headers: { 'content-type': 'application/jsonlines' },
      body: `${lines.map((text) => JSON.stringify({ text })).join('\n')}\n`,
    });
    expect(answer.status, answer.text()).toBe(200);
    expect(calls).toBe(lines.length);
    expect(answer.text().trim().split('\n')).toEqual(lines.map((text) => JSON.stringify(text.toUpperCase())));
  });
});

describe('MODE=openai: n choices (and prompts times n) are items too', () => {
  let service: InProcessService;
  beforeAll(async () => {
    const chat = chatModel(async function* () {
      calls++;
      yield 'ok';
    });
    const complete = completionModel(async function* () {
      calls++;
      yield 'ok';
    });
    // One model serving both: the chat and completion inputs side by side, as a shim may declare them.
    service = await startInProcess({
      mode: 'openai',
      model: {
        inference: ((inputs: Record<string, unknown>, context: never) => ('messages' in inputs ? chat : complete)(inputs as never, context)) as never,
        schema: { ...chatInputs, ...completionInputs, messages: { ...chatInputs.messages, required: false } } as never,
      },
      env,
      options: { name: 'counter' },
    });
  });
  afterAll(async () => {
    await service.close();
  });

  test.each([
    ['/v1/chat/completions', { messages: [{ role: 'user', content: 'hi' }], n: limit + 1 }, `${limit + 1} choices (n)`],
    ['/v1/completions', { prompt: ['a', 'b', 'c'], n: 2 }, '6 choices (prompts times n)'],
  ])(`%s past ${limit} choices: 413 naming the limit, and the model never ran`, async (url, body, count) => {
    const answer = await service.inject({ method: 'POST', url, body: { model: 'counter', ...body } });
    expect(answer.status, answer.text()).toBe(413);
    expect(answer.json().error.message).toBe(
      `the request has ${count}; this server takes at most ${limit} in one request (CONCURRENCY + MAX_QUEUE); send fewer per request, or raise MAX_QUEUE`,
    );
    expect(calls).toBe(0);
  });
});
