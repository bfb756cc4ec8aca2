// MODE=openai called by the Vercel AI SDK's OpenAI-compatible provider (`@ai-sdk/openai-compatible`
// with `ai`), in the test's process (test/helpers/in-process-service.ts): text, a stream with its
// usage, a tool call, embeddings, and errors surfaced as the SDK's typed APICallError.
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { APICallError, embedMany, generateText, jsonSchema, streamText, tool } from 'ai';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { echoReply } from '../../shims/models/echo-chat.js';
import { hashedEmbedding } from '../../shims/models/hashed-embedding.js';
import { chatInputs, chatModel, embeddingInputs, embeddingModel, toolCall } from '../../src/index.js';
import { startInProcess, type InProcessService } from '../helpers/in-process-service.js';

let chat: InProcessService;
let embeddings: InProcessService;
beforeAll(async () => {
  const echoChat = chatModel(async function* (request) {
    const reply = echoReply(request);
    if ('tool' in reply) {
      yield toolCall(reply.tool.name, reply.tool.arguments, 'call_7');
      return;
    }
    for (const token of reply.tokens) yield token;
  });
  chat = await startInProcess({
    mode: 'openai',
    model: { inference: echoChat, schema: chatInputs },
    env: { AUTH_TOKEN: 'sk-ai' },
    options: { name: 'echo-chat' },
  });
  const hashed = embeddingModel(({ input }) => input.map((item) => hashedEmbedding(item, 32)));
  embeddings = await startInProcess({ mode: 'openai', model: { inference: hashed, schema: embeddingInputs }, options: { name: 'hashed' } });
});
afterAll(async () => {
  await Promise.all([chat.close(), embeddings.close()]);
});

const provider = (url: string, apiKey = 'sk-ai') => createOpenAICompatible({ name: 'ai-integration', baseURL: `${url}/v1`, apiKey, includeUsage: true });

describe('MODE=openai through the Vercel AI SDK', () => {
  test('generateText and streamText: the text, the finish reason and the usage', async () => {
    const model = provider(chat.url)('echo-chat');
    const generated = await generateText({ model, prompt: 'Hello there', maxRetries: 0 });
    expect(generated.text).toBe('You said: Hello there');
    expect(generated.finishReason).toBe('stop');
    expect(generated.usage).toMatchObject({ inputTokens: 2, outputTokens: 4, totalTokens: 6 });

    const streamed = streamText({ model, prompt: 'Hi you', maxRetries: 0 });
    const parts: string[] = [];
    for await (const text of streamed.textStream) parts.push(text);
    expect(parts).toEqual(['You', ' said:', ' Hi', ' you']);
    expect(await streamed.usage).toMatchObject({ inputTokens: 2, outputTokens: 4, totalTokens: 6 });
    expect(await streamed.finishReason).toBe('stop');
  });

  test('a tool call, with its arguments parsed', async () => {
    const result = await generateText({
      model: provider(chat.url)('echo-chat'),
      prompt: 'ask get_weather',
      tools: {
        get_weather: tool({
          description: 'the weather',
          inputSchema: jsonSchema<{ text: string }>({ type: 'object', properties: { text: { type: 'string' } } }),
        }),
      },
      maxRetries: 0,
    });
    expect(result.finishReason).toBe('tool-calls');
    expect(result.toolCalls).toMatchObject([{ toolCallId: 'call_7', toolName: 'get_weather', input: { text: 'ask get_weather' } }]);
  });

  test('embedMany: one vector per value, in order', async () => {
    const values = ['the cat', 'a dog'];
    const { embeddings: vectors, usage } = await embedMany({ model: provider(embeddings.url).textEmbeddingModel('hashed'), values, maxRetries: 0 });
    expect(vectors).toEqual(values.map((value) => hashedEmbedding(value, 32)));
    expect(usage).toEqual({ tokens: 4 });
  });

  test("errors are the SDK's APICallError with OpenAI's message: 401, 404, 400", async () => {
    const failure = (promise: Promise<unknown>) =>
      promise.then(
        () => undefined,
        (error: unknown) => error,
      );
    const unauthorized = await failure(generateText({ model: provider(chat.url, 'wrong')('echo-chat'), prompt: 'x', maxRetries: 0 }));
    expect(APICallError.isInstance(unauthorized)).toBe(true);
    expect(unauthorized).toMatchObject({ statusCode: 401, message: 'the bearer token is not the one this service expects' });
    const unknown = await failure(generateText({ model: provider(chat.url)('gpt-4o'), prompt: 'x', maxRetries: 0 }));
    expect(unknown).toMatchObject({ statusCode: 404, message: expect.stringContaining('The model `gpt-4o` does not exist') });
    const invalid = await failure(generateText({ model: provider(chat.url)('echo-chat'), prompt: 'x', temperature: 9, maxRetries: 0 }));
    expect(invalid).toMatchObject({ statusCode: 400, message: expect.stringMatching(/^temperature: 9 is/) });
  });

  test('429 when the queue is full: a retryable APICallError', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let holding!: () => void;
    const held = new Promise<void>((resolve) => (holding = resolve));
    const slow = chatModel(async function* () {
      holding();
      await released;
      yield 'done';
    });
    const busy = await startInProcess({
      mode: 'openai',
      model: { inference: slow, schema: chatInputs },
      env: { CONCURRENCY: '1', MAX_QUEUE: '0' },
      options: { name: 'slow' },
    });
    try {
      const model = provider(busy.url)('slow');
      const first = generateText({ model, prompt: 'x', maxRetries: 0 });
      await held;
      const refused = await generateText({ model, prompt: 'y', maxRetries: 0 }).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(APICallError.isInstance(refused)).toBe(true);
      expect(refused).toMatchObject({ statusCode: 429, isRetryable: true, message: expect.stringContaining('the queue is full') });
      release();
      expect((await first).text).toBe('done');
    } finally {
      release();
      await busy.close();
    }
  });
});
