// MODE=openai's protocol in the test's process (test/helpers/in-process-service.ts): the mode's own
// code on the real HTTP core and the in-process engine, called by the official `openai` SDK over
// loopback; every answer and stream chunk is validated against OpenAI's own OpenAPI schemas.
// What needs a process (the supervisor, a throw, the example shims as built) is in test/e2e/openai.test.ts.
import OpenAI from 'openai';
import { afterEach, describe, expect, test } from 'vitest';
import { echoReply } from '../../shims/models/echo-chat.js';
import { hashedEmbedding } from '../../shims/models/hashed-embedding.js';
import { chatInputs, chatModel, completionInputs, completionModel, embeddingInputs, embeddingModel, text, toolCall } from '../../src/index.js';
import type { InferenceFunction, InputsSchema } from '../../src/types.js';
import { startInProcess, type InProcessService } from '../helpers/in-process-service.js';
import { openAiSchemaProblems, type OpenAiSchema } from '../helpers/openai-schemas.js';

const echoChat = chatModel(async function* (request, { signal }) {
  const reply = echoReply(request);
  if ('tool' in reply) {
    yield toolCall(reply.tool.name, reply.tool.arguments, 'call_1');
    return;
  }
  for (const token of reply.tokens) {
    signal.throwIfAborted();
    yield token;
  }
});
const echoCompletion = completionModel(async function* ({ prompt }) {
  for (const word of ` and ${prompt}`.split(/(?= )/)) yield word;
});
const hashed = embeddingModel(({ input, dimensions = 64 }) => input.map((item) => hashedEmbedding(item, dimensions)));

const services: InProcessService[] = [];
afterEach(async () => {
  await Promise.all(services.splice(0).map((service) => service.close()));
});

async function serve(inference: InferenceFunction<never>, schema: InputsSchema, env: Record<string, string> = {}, name = 'echo-chat') {
  const service = await startInProcess({ mode: 'openai', model: { inference, schema }, env, options: { name } });
  services.push(service);
  return { service, client: new OpenAI({ baseURL: `${service.url}/v1`, apiKey: env.AUTH_TOKEN ?? 'unused', maxRetries: 0 }) };
}

function expectShape(name: OpenAiSchema, body: unknown): void {
  expect(openAiSchemaProblems(name, body), JSON.stringify(body)).toBeUndefined();
}

/** The raw events of a streamed answer: each `data:` line, `[DONE]` as it is. */
function events(body: string): string[] {
  expect(body.endsWith('data: [DONE]\n\n'), body).toBe(true);
  return body
    .split('\n\n')
    .filter((event) => event !== '')
    .map((event) => {
      expect(event.startsWith('data: '), event).toBe(true);
      return event.slice(6);
    });
}

const user = (content: string) => [{ role: 'user' as const, content }];

describe('MODE=openai: models and chat completions, through the openai SDK', () => {
  test('GET /v1/models and /v1/models/{model}: the model served, by its name; another is 404 model_not_found', async () => {
    const { service, client } = await serve(echoChat, chatInputs);
    const listed = await service.inject({ url: '/v1/models' });
    expectShape('ListModelsResponse', listed.json());
    const models = [];
    for await (const model of client.models.list()) models.push(model);
    expect(models).toEqual([{ id: 'echo-chat', object: 'model', created: expect.any(Number), owned_by: 'ai-integration' }]);
    const one = await client.models.retrieve('echo-chat');
    expectShape('Model', one);
    expect(one.id).toBe('echo-chat');
    const missing = await client.models.retrieve('gpt-4o').catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(OpenAI.NotFoundError);
    expect(missing).toMatchObject({ status: 404, code: 'model_not_found', param: 'model', type: 'invalid_request_error' });
    expectShape('ErrorResponse', (await service.inject({ url: '/v1/models/gpt-4o' })).json());
  });

  test('a chat completion: the message, finish_reason, usage; n choices; max_tokens and max_completion_tokens; stop', async () => {
    const { service, client } = await serve(echoChat, chatInputs);
    const completion = await client.chat.completions.create({ model: 'echo-chat', messages: user('Hello there') });
    expectShape('CreateChatCompletionResponse', completion);
    expect(completion).toMatchObject({
      object: 'chat.completion',
      model: 'echo-chat',
      choices: [{ index: 0, message: { role: 'assistant', content: 'You said: Hello there', refusal: null }, logprobs: null, finish_reason: 'stop' }],
      usage: { prompt_tokens: 2, completion_tokens: 4, total_tokens: 6 },
    });
    expect(completion.id).toMatch(/^chatcmpl-/);

    const three = await client.chat.completions.create({ model: 'echo-chat', messages: user('a b c d'), n: 3, max_tokens: 2 });
    expectShape('CreateChatCompletionResponse', three);
    expect(three.choices.map((choice) => [choice.index, choice.message.content, choice.finish_reason])).toEqual([
      [0, 'You said:', 'length'],
      [1, 'You said:', 'length'],
      [2, 'You said:', 'length'],
    ]);
    expect(three.usage).toEqual({ prompt_tokens: 4, completion_tokens: 6, total_tokens: 10 });
    const newer = await client.chat.completions.create({ model: 'echo-chat', messages: user('a b c d'), max_completion_tokens: 3 });
    expect(newer.choices[0]!.message.content).toBe('You said: a');

    const stopped = await client.chat.completions.create({ model: 'echo-chat', messages: user('one two three four'), stop: [' thr', 'nothing'] });
    expect(stopped.choices[0]).toMatchObject({ message: { content: 'You said: one two' }, finish_reason: 'stop' });
    // The model need not be named: the one model there is answers.
    const unnamed = await service.inject({ method: 'POST', url: '/v1/chat/completions', body: { messages: user('hi') } });
    expect(unnamed.json().choices[0].message.content).toBe('You said: hi');
  });

  test('stream: true: a role chunk, a chunk per token, the finish, the usage with include_usage, then [DONE]; every chunk a CreateChatCompletionStreamResponse', async () => {
    const { service, client } = await serve(echoChat, chatInputs);
    const stream = await client.chat.completions.create({
      model: 'echo-chat',
      messages: user('Hello there'),
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    for (const chunk of chunks) expectShape('CreateChatCompletionStreamResponse', chunk);
    expect(chunks.map((chunk) => chunk.choices[0]?.delta)).toEqual([
      { role: 'assistant', content: '', refusal: null },
      { content: 'You' },
      { content: ' said:' },
      { content: ' Hello' },
      { content: ' there' },
      {},
      undefined,
    ]);
    expect(chunks.map((chunk) => chunk.choices[0]?.finish_reason ?? null)).toEqual([null, null, null, null, null, 'stop', null]);
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 2, completion_tokens: 4, total_tokens: 6 } });
    expect(chunks.slice(0, -1).every((chunk) => chunk.usage === null)).toBe(true);
    expect(new Set(chunks.map((chunk) => chunk.id)).size).toBe(1);

    // Without include_usage no chunk carries usage; the wire is `data: {json}` events and `data: [DONE]`.
    const raw = await service.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      body: { model: 'echo-chat', messages: user('a b c'), stream: true, n: 2, max_tokens: 2 },
    });
    expect(raw.status).toBe(200);
    expect(raw.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    const data = events(raw.text());
    expect(data.at(-1)).toBe('[DONE]');
    const parsed = data.slice(0, -1).map((event) => JSON.parse(event));
    for (const chunk of parsed) {
      expectShape('CreateChatCompletionStreamResponse', chunk);
      expect('usage' in chunk).toBe(false);
    }
    for (const index of [0, 1]) {
      const mine = parsed.flatMap((chunk) => chunk.choices).filter((choice: { index: number }) => choice.index === index);
      expect(mine.map((choice: { delta: { content?: string } }) => choice.delta.content ?? '').join('')).toBe('You said:');
      expect(mine.at(-1).finish_reason).toBe('length');
    }
  });

  test('tools: a tool call comes back as tool_calls (finish_reason tool_calls), streamed as a delta; tool results go back to the model', async () => {
    const { client } = await serve(echoChat, chatInputs);
    const tools = [
      {
        type: 'function' as const,
        function: { name: 'get_weather', description: 'the weather in a city', parameters: { type: 'object', properties: { text: { type: 'string' } } } },
      },
    ];
    const completion = await client.chat.completions.create({ model: 'echo-chat', messages: user('what does get_weather say?'), tools });
    expectShape('CreateChatCompletionResponse', completion);
    expect(completion.choices[0]).toMatchObject({
      message: {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"text":"what does get_weather say?"}' } }],
      },
      finish_reason: 'tool_calls',
    });
    const stream = await client.chat.completions.create({ model: 'echo-chat', messages: user('anything'), tools, tool_choice: 'required', stream: true });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    for (const chunk of chunks) expectShape('CreateChatCompletionStreamResponse', chunk);
    expect(chunks.map((chunk) => chunk.choices[0]!.delta.tool_calls).filter(Boolean)).toEqual([
      [{ index: 0, id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"text":"anything"}' } }],
    ]);
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe('tool_calls');

    const answered = await client.chat.completions.create({
      model: 'echo-chat',
      messages: [
        ...user('get_weather'),
        { role: 'assistant', content: null, tool_calls: completion.choices[0]!.message.tool_calls! },
        { role: 'tool', tool_call_id: 'call_1', content: 'sunny' },
      ],
      tools,
    });
    expect(answered.choices[0]!.message.content).toBe('The tool said: sunny');
    const json = await client.chat.completions.create({ model: 'echo-chat', messages: user('hi'), response_format: { type: 'json_object' } });
    expect(JSON.parse(json.choices[0]!.message.content!)).toEqual({ reply: 'You said: hi' });
  });

  test("a model that streams plain text chunks (the streaming contract, no helper) is a chat model too; a model's failure is a 500 in OpenAI's shape", async () => {
    const plain: InferenceFunction<never> = async function* (inputs: { messages: { content: string }[] }) {
      if (inputs.messages[0]!.content === 'fail') {
        yield { 'content-type': 'text/plain', data: null, success: false, error: 'no answer today' };
        return;
      }
      yield text('plain ');
      yield text('tokens');
    } as never;
    const { client } = await serve(plain, { messages: { type: 'json' } });
    const stream = await client.chat.completions.create({ model: 'echo-chat', messages: user('hi'), stream: true, stream_options: { include_usage: true } });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).toBe('plain tokens');
    expect(chunks.at(-1)!.usage).toEqual({ prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 });
    const whole = await client.chat.completions.create({ model: 'echo-chat', messages: user('hi') });
    expect(whole.choices[0]!.message.content).toBe('plain tokens');
    const failed = await client.chat.completions.create({ model: 'echo-chat', messages: user('fail') }).catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(OpenAI.InternalServerError);
    expect(failed).toMatchObject({ status: 500, type: 'server_error', code: 'AI_ERR_MODEL_FAILED' });
    expect((failed as Error).message).toContain('no answer today');
  });
});

describe('MODE=openai: completions and embeddings', () => {
  test('a text completion, several prompts and n, echo; streamed as text_completion chunks', async () => {
    const { service, client } = await serve(echoCompletion, completionInputs, {}, 'echo-completion');
    const completion = await client.completions.create({ model: 'echo-completion', prompt: 'cats' });
    expectShape('CreateCompletionResponse', completion);
    expect(completion).toMatchObject({
      object: 'text_completion',
      choices: [{ index: 0, text: ' and cats', finish_reason: 'stop', logprobs: null }],
      usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 },
    });
    const many = await client.completions.create({ model: 'echo-completion', prompt: ['cats', 'dogs'], n: 2, max_tokens: 1, echo: true });
    expectShape('CreateCompletionResponse', many);
    expect(many.choices.map((choice) => choice.text)).toEqual(['cats and', 'cats and', 'dogs and', 'dogs and']);
    expect(many.usage).toEqual({ prompt_tokens: 2, completion_tokens: 4, total_tokens: 6 });
    const stream = await client.completions.create({ model: 'echo-completion', prompt: 'cats', stream: true, stream_options: { include_usage: true } });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    for (const chunk of chunks) expectShape('CompletionStreamChunk', chunk);
    expect(chunks.map((chunk) => chunk.choices[0]?.text ?? '').join('')).toBe(' and cats');
    expect(chunks.at(-1)!.usage).toEqual({ prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 });
    // A completion model is no chat model.
    const chat = await service.inject({ method: 'POST', url: '/v1/chat/completions', body: { messages: user('hi') } });
    expect(chat.status).toBe(404);
    expectShape('ErrorResponse', chat.json());
    expect(chat.json().error.message).toBe(
      'this model does not serve chat completions: that needs a "messages" input (chatInputs) in its schema; it serves /v1/completions, /v1/models',
    );
  });

  test('embeddings: a string or a list, float or base64, dimensions, usage; the SDK decodes base64 itself', async () => {
    const { service, client } = await serve(hashed, embeddingInputs, {}, 'hashed');
    const texts = ['the cat sat', 'the dog ran far'];
    const floats = await client.embeddings.create({ model: 'hashed', input: texts, encoding_format: 'float' });
    expectShape('CreateEmbeddingResponse', floats);
    expect(floats).toEqual({
      object: 'list',
      data: texts.map((item, index) => ({ object: 'embedding', index, embedding: hashedEmbedding(item, 64) })),
      model: 'hashed',
      usage: { prompt_tokens: 7, total_tokens: 7 },
    });
    // The SDK asks for base64 unless told, and decodes the float32 bytes.
    const decoded = await client.embeddings.create({ model: 'hashed', input: 'the cat sat', dimensions: 16 });
    expect(decoded.data[0]!.embedding).toEqual(Array.from(Float32Array.from(hashedEmbedding('the cat sat', 16))));
    const raw = await service.inject({ method: 'POST', url: '/v1/embeddings', body: { input: 'the cat sat', encoding_format: 'base64' } });
    expect(raw.json().data[0].embedding).toBe(Buffer.from(Float32Array.from(hashedEmbedding('the cat sat', 64)).buffer).toString('base64'));
    const tokens = await client.embeddings.create({ model: 'hashed', input: [[1, 2, 3]], encoding_format: 'float' });
    expect(tokens.data[0]!.embedding).toEqual(hashedEmbedding([1, 2, 3], 64));
    expect(tokens.usage).toEqual({ prompt_tokens: 3, total_tokens: 3 });
    for (const [body, param] of [
      [{ input: [] }, 'input'],
      [{ input: 'x', encoding_format: 'int8' }, 'encoding_format'],
      [{ input: 'x', dimensions: 0 }, 'dimensions'],
    ] as const) {
      const refused = await service.inject({ method: 'POST', url: '/v1/embeddings', body });
      expect(refused.status, refused.text()).toBe(400);
      expectShape('ErrorResponse', refused.json());
      expect(refused.json().error).toMatchObject({ type: 'invalid_request_error', param });
    }
  });
});

describe("MODE=openai: OpenAI's errors for every failure, ours included", () => {
  test('401 without the API key (AUTH_TOKEN), 400 naming the field, 400 for a value the schema refuses, tools to a model that takes none', async () => {
    const { service, client } = await serve(echoChat, chatInputs, { AUTH_TOKEN: 'sk-test' });
    const anonymous = new OpenAI({ baseURL: `${service.url}/v1`, apiKey: 'wrong', maxRetries: 0 });
    const refused = await anonymous.chat.completions.create({ model: 'echo-chat', messages: user('hi') }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(refused).toMatchObject({ status: 401, code: 'invalid_api_key', type: 'invalid_request_error', param: null });
    expectShape('ErrorResponse', (await service.inject({ url: '/v1/models' })).json());
    expect((await service.inject({ url: '/health' })).status).toBe(200);

    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ messages: 'hi' }, 'messages', /^messages: expected a list of messages/],
      [{ messages: [{ role: 'robot', content: 'x' }] }, 'messages', /^messages: \[0\]\.role must be one of/],
      [{ messages: user('x'), temperature: 7 }, 'temperature', /^temperature: 7 is/],
      [{ messages: user('x'), n: 0 }, 'n', /^n: expected an integer from 1 to 128/],
      [{ messages: user('x'), stop: [1] }, 'stop', /^stop: expected a string or a list of up to 4 strings/],
      [{ messages: user('x'), stream: 'yes' }, 'stream', /^stream: expected true or false/],
    ];
    for (const [body, param, message] of cases) {
      const answer = await client.chat.completions.create({ model: 'echo-chat', ...body } as never).catch((error: unknown) => error);
      expect(answer, JSON.stringify(body)).toBeInstanceOf(OpenAI.BadRequestError);
      expect(answer).toMatchObject({ status: 400, param, type: 'invalid_request_error' });
      expect((answer as InstanceType<typeof OpenAI.BadRequestError>).error).toMatchObject({ message: expect.stringMatching(message) });
    }
    const notJson = await service.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      headers: { authorization: 'Bearer sk-test', 'content-type': 'application/json' },
      body: '{',
    });
    expect(notJson.status).toBe(400);
    expectShape('ErrorResponse', notJson.json());

    const { client: plainClient } = await serve(
      chatModel(() => 'ok'),
      { messages: { type: 'json' } },
    );
    const tools = await plainClient.chat.completions
      .create({ model: 'echo-chat', messages: user('x'), tools: [{ type: 'function', function: { name: 'f' } }] })
      .catch((error: unknown) => error);
    expect(tools).toMatchObject({ status: 400, param: 'tools', error: { message: 'tools: this model does not take tools: its schema has no "tools" input' } });
  });

  test('429 when the queue is full (RateLimitError, Retry-After), and a client that goes away frees its slot at once: the model sees its signal', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let aborted!: () => void;
    const sawAbort = new Promise<void>((resolve) => (aborted = resolve));
    let firstToken!: () => void;
    const tokenSent = new Promise<void>((resolve) => (firstToken = resolve));
    const model = chatModel(async function* ({ messages }, { signal }) {
      const said = (messages[0]!.content as string) ?? '';
      if (said !== 'hold') {
        yield 'quick';
        return;
      }
      signal.addEventListener('abort', () => aborted());
      yield 'first';
      firstToken();
      await Promise.race([released, sawAbort]);
      yield 'never';
    });
    const { client } = await serve(model, chatInputs, { CONCURRENCY: '1', MAX_QUEUE: '0' });
    const held = await client.chat.completions.create({ model: 'echo-chat', messages: user('hold'), stream: true });
    const reader = held[Symbol.asyncIterator]();
    expect((await reader.next()).value.choices[0].delta.role).toBe('assistant');
    await tokenSent;
    const full = await client.chat.completions.create({ model: 'echo-chat', messages: user('x') }).catch((error: unknown) => error);
    expect(full).toBeInstanceOf(OpenAI.RateLimitError);
    expect(full).toMatchObject({ status: 429, code: 'AI_ERR_QUEUE_FULL', type: 'rate_limit_error' });
    expect((full as InstanceType<typeof OpenAI.RateLimitError>).headers.get('retry-after')).toBe('1');

    // The client goes away mid-stream: the model's signal aborts, and the one slot is free for the next request.
    held.controller.abort();
    await sawAbort;
    const next = await client.chat.completions.create({ model: 'echo-chat', messages: user('x') });
    expect(next.choices[0]!.message.content).toBe('quick');
    release();
  });
});
