// MODE=openai as a process: the example shims as built, run directly and under the supervisor,
// called by the official `openai` SDK; a client that goes away (mid-stream, or before the answer)
// stops the model and frees its slot; a model that throws mid-stream ends the stream with an
// error event, and the supervisor restarts it with nothing else lost. The protocol's shapes are
// test/unit/openai-protocol.test.ts's.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { learnMarkovChain, markovWords } from '../../shims/models/markov-chat.js';
import { projectedEmbedding } from '../../shims/models/projected-embedding.js';
import { exampleShimNamed } from '../helpers/example-shims.js';
import { gateFiles } from '../helpers/gates.js';
import { startServer, stopOrKill, type RunningServer } from '../helpers/http-server.js';
import { openAiSchemaProblems } from '../helpers/openai-schemas.js';
import { fixture } from '../helpers/run-process.js';
import { eventually, supervisorBin } from '../helpers/supervisor.js';

const model = fixture('openai-chat-model.mjs');
const fables = learnMarkovChain(readFileSync(new URL('../../shims/models/fables.txt', import.meta.url), 'utf8'));
const scratch = mkdtempSync(join(tmpdir(), 'openai-e2e-'));
const gates = gateFiles('openai-gates-');
const servers: RunningServer[] = [];
let files = 0;
afterEach(async () => {
  gates.openAll();
  await Promise.all(servers.splice(0).map((server) => stopOrKill(server)));
});
afterAll(() => {
  gates.remove();
  rmSync(scratch, { recursive: true, force: true });
});

async function serve(shim: string, supervised: boolean, env: Record<string, string> = {}) {
  const callsFile = join(scratch, `calls-${++files}`);
  const settings = { MODE: 'openai', CALLS_FILE: callsFile, ...env };
  const server = supervised ? await startServer(supervisorBin, settings, [shim]) : await startServer(shim, settings);
  servers.push(server);
  const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: env.AUTH_TOKEN ?? 'unused', maxRetries: 0 });
  const calls = () => (existsSync(callsFile) ? readFileSync(callsFile, 'utf8').trim().split('\n') : []);
  return { server, client, calls };
}

const user = (content: string) => [{ role: 'user' as const, content }];

describe.each([
  ['run directly', false],
  ['under the supervisor', true],
])('MODE=openai (%s)', (_, supervised) => {
  test("the example shims: shims/chat.ts streams its Markov chain's words, the same for the same seed; shims/embeddings.ts embeds by onnxruntime as its reference in JavaScript does; the API key is AUTH_TOKEN", async () => {
    const { client: chat } = await serve(exampleShimNamed('chat'), supervised, { AUTH_TOKEN: 'sk-e2e' });
    const stream = await chat.chat.completions.create({
      model: 'fable-chat',
      messages: user('Tell me about the wolf'),
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    for (const chunk of chunks) expect(openAiSchemaProblems('CreateChatCompletionStreamResponse', chunk)).toBeUndefined();
    const expected = [...markovWords(fables, { seed: 0, prompt: 'Tell me about the wolf' })];
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).toBe(expected.join(''));
    expect(expected.join('')).toMatch(/wolf/i);
    expect(chunks.at(-1)!.usage).toMatchObject({ completion_tokens: expected.join('').split(' ').length });
    const answer = async (options: { seed?: number; max_tokens?: number; stop?: string[] }) => {
      const completion = await chat.chat.completions.create({ model: 'fable-chat', messages: user('Tell me about the wolf'), ...options });
      return completion.choices[0]!;
    };
    expect((await answer({ seed: 0 })).message.content).toBe(expected.join(''));
    const seeded = [...markovWords(fables, { seed: 7, prompt: 'Tell me about the wolf' })].join('');
    expect(seeded).not.toBe(expected.join(''));
    expect((await answer({ seed: 7 })).message.content).toBe(seeded);
    const short = await answer({ max_tokens: 3 });
    expect(short).toMatchObject({ finish_reason: 'length', message: { content: expected.slice(0, 3).join('') } });
    const stopAt = expected[4]!.trim();
    const stopped = await answer({ stop: [stopAt] });
    expect(stopped.finish_reason).toBe('stop');
    expect(stopped.message.content).toBe(expected.join('').slice(0, expected.join('').indexOf(stopAt)));
    const json = await chat.chat.completions.create({
      model: 'fable-chat',
      messages: user('Tell me about the wolf'),
      response_format: { type: 'json_object' },
    });
    expect(JSON.parse(json.choices[0]!.message.content!)).toEqual({ reply: expected.join('') });
    const tools = [{ type: 'function' as const, function: { name: 'lookup' } }];
    const called = await chat.chat.completions.create({ model: 'fable-chat', messages: user('please lookup cats'), tools });
    expect(called.choices[0]!.message.tool_calls).toEqual([
      { id: expect.stringMatching(/^call_/), type: 'function', function: { name: 'lookup', arguments: '{"text":"please lookup cats"}' } },
    ]);
    const anonymous = new OpenAI({ baseURL: chat.baseURL, apiKey: 'nope', maxRetries: 0 });
    await expect(anonymous.models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);

    const { client: embed } = await serve(exampleShimNamed('embeddings'), supervised);
    const texts = ['the cat sat', 'the cat ran', ''];
    const vectors = await embed.embeddings.create({ model: 'projected-embeddings', input: texts });
    expect(openAiSchemaProblems('CreateEmbeddingResponse', vectors)).toBeUndefined();
    // onnxruntime's float32 sums against the same sums in doubles.
    vectors.data.forEach((item, index) => {
      const expected = projectedEmbedding(texts[index]!);
      expect(item.embedding).toHaveLength(256);
      for (const [place, value] of item.embedding.entries()) expect(value).toBeCloseTo(expected[place]!, 5);
    });
    expect(vectors.data[2]!.embedding.every((value) => value === 0)).toBe(true);
    const shortVector = await embed.embeddings.create({ model: 'projected-embeddings', input: 'the cat sat', dimensions: 8 });
    expect(shortVector.data[0]!.embedding).toHaveLength(8);
    expect(Math.hypot(...shortVector.data[0]!.embedding)).toBeCloseTo(1, 5);
    const missing = await embed.chat.completions.create({ model: 'projected-embeddings', messages: user('hi') }).catch((error: unknown) => error);
    expect(missing).toMatchObject({ status: 404, type: 'invalid_request_error' });
  });

  test('a client that goes away mid-stream stops the model: its signal fires, its generator closes, and the one slot serves the next request at once', async () => {
    const { client, calls } = await serve(model, supervised, { CONCURRENCY: '1', MAX_QUEUE: '1' });
    const held = await client.chat.completions.create({ model: 'test-chat', messages: user(`hold streamed ${gates.gate()}`), stream: true });
    const reader = held[Symbol.asyncIterator]();
    expect((await reader.next()).value.choices[0].delta).toMatchObject({ role: 'assistant' });
    expect((await reader.next()).value.choices[0].delta).toEqual({ content: 'first' });
    held.controller.abort();
    expect(await eventually(() => calls().includes('aborted streamed') && calls().includes('closed streamed'), 20_000), calls().join('\n')).toBe(true);
    // The held gate never opens: the next request is served only because the slot was freed.
    const next = await client.chat.completions.create({ model: 'test-chat', messages: user('quick') });
    expect(next.choices[0]!.message.content).toBe('quick');
  });

  test('a client that goes away before the answer (not streaming) stops the model too', async () => {
    const { client, calls } = await serve(model, supervised, { CONCURRENCY: '1', MAX_QUEUE: '1' });
    const controller = new AbortController();
    const waiting = client.chat.completions
      .create({ model: 'test-chat', messages: user(`hold whole ${gates.gate()}`) }, { signal: controller.signal })
      .catch((error: unknown) => error);
    expect(await eventually(() => calls().includes('start whole'), 20_000)).toBe(true);
    controller.abort();
    expect(await waiting).toBeInstanceOf(OpenAI.APIUserAbortError);
    expect(await eventually(() => calls().includes('aborted whole') && calls().includes('closed whole'), 20_000), calls().join('\n')).toBe(true);
    const next = await client.chat.completions.create({ model: 'test-chat', messages: user('quick') });
    expect(next.choices[0]!.message.content).toBe('quick');
  });
});

describe('MODE=openai: a model that ignores its signal', () => {
  test('under the supervisor, a model answering whole that ignores its signal is stopped by the cancel rules: its worker is replaced after CANCEL_GRACE_MS and the next request is served', async () => {
    const { server, client, calls } = await serve(model, true, { CONCURRENCY: '1', MAX_QUEUE: '1', CANCEL_GRACE_MS: '300' });
    const controller = new AbortController();
    const waiting = client.chat.completions
      .create({ model: 'test-chat', messages: user(`stuck ignoring ${gates.gate()}`) }, { signal: controller.signal })
      .catch((error: unknown) => error);
    expect(await eventually(() => calls().includes('start ignoring'), 20_000)).toBe(true);
    controller.abort();
    expect(await waiting).toBeInstanceOf(OpenAI.APIUserAbortError);
    // The gate never opens: only a new worker can serve this.
    const next = await client.chat.completions.create({ model: 'test-chat', messages: user('quick') });
    expect(next.choices[0]!.message.content).toBe('quick');
    expect(calls()).toContain('aborted ignoring');
    expect(server.stderr()).toContain('CANCEL_GRACE_MS');
  });
});

describe('MODE=openai: a model that throws mid-stream', () => {
  test('under the supervisor: the stream ends with an error event, the worker restarts, and the request queued behind it is served', async () => {
    const { server, client, calls } = await serve(model, true, { CONCURRENCY: '1', MAX_QUEUE: '1' });
    const gate = gates.gate();
    const failing = await client.chat.completions.create({ model: 'test-chat', messages: user(`throw failing ${gate}`), stream: true });
    const reader = failing[Symbol.asyncIterator]();
    await reader.next();
    expect((await reader.next()).value.choices[0].delta).toEqual({ content: 'first' });
    const queued = client.chat.completions.create({ model: 'test-chat', messages: user('quick') });
    gates.openAll();
    const error = await reader.next().catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect(error).toMatchObject({ type: 'server_error', code: 'AI_ERR_INFERENCE_THREW' });
    expect((error as Error).message).toContain('thrown by failing');
    expect((await queued).choices[0]!.message.content).toBe('quick');
    expect(calls()).toContain('closed failing');
    expect(server.stderr()).toMatch(/restart/i);
    // The port never closed: the restarted model serves.
    expect((await client.chat.completions.create({ model: 'test-chat', messages: user('quick') })).choices[0]!.message.content).toBe('quick');
  });

  test('run directly: the stream ends with the error event, then the process exits to be restarted (exit 70)', async () => {
    const { server, client } = await serve(model, false);
    const gate = gates.gate();
    const failing = await client.chat.completions.create({ model: 'test-chat', messages: user(`throw alone ${gate}`), stream: true });
    const reader = failing[Symbol.asyncIterator]();
    await reader.next();
    await reader.next();
    gates.openAll();
    await expect(reader.next()).rejects.toMatchObject({ code: 'AI_ERR_INFERENCE_THREW' });
    expect(await server.exited).toEqual({ code: 70, signal: null });
  });
});
