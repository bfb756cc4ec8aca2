import sharp from 'sharp';
import { beforeAll, describe, expect, test } from 'vitest';
import { checkResult } from '../../src/result/check-result.js';
import { AiIntegrationError, InferenceThrewError, PredictionCanceledError } from '../../src/errors.js';
import { createInProcessEngine } from '../../src/engine/in-process-engine.js';
import { failure, image, json, text } from '../../src/result/result-helpers.js';
import { collectChunks, consumeStream, isInferenceStream, StreamStopped } from '../../src/result/result-stream.js';
import type { InferenceResult, InferenceStream } from '../../src/types.js';
import { makePng } from '../helpers/images.js';

let grey: Buffer;
let whiter: Buffer;
let white: Buffer;
beforeAll(async () => {
  const shade = (level: number) => makePng(8, 8, { r: level, g: level, b: level });
  [grey, whiter, white] = await Promise.all([shade(64), shade(128), shade(255)]);
});

/** A promise and the function that settles it, for a test to hold a generator and see its `finally` run. */
function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((settle) => (resolve = settle));
  return { promise, resolve };
}

// A hang fails the test here with a clear message instead of at the suite's timeout.
const within = <T>(promise: Promise<T>, what: string) =>
  Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} did not happen`)), 5_000).unref())]);

/** An async generator of `chunks` then `returned`, which records whether its `finally` ran. */
function generatorOf(chunks: readonly unknown[], returned?: InferenceResult) {
  const closed = deferred();
  const state = { closed: false, done: closed.promise };
  async function* stream() {
    try {
      for (const chunk of chunks) yield chunk as InferenceResult;
      return returned;
    } finally {
      state.closed = true;
      closed.resolve();
    }
  }
  return { stream: stream() as InferenceStream, state };
}

/** Consumes `stream` with a fresh signal, recording every chunk handed on. */
async function consume(stream: InferenceStream) {
  const seen: InferenceResult[] = [];
  const result = await consumeStream(stream, new AbortController().signal, (chunk) => seen.push(chunk));
  return { result, seen };
}

const invalidResult = (message: RegExp) =>
  expect.objectContaining({ name: 'AiIntegrationError', code: 'AI_ERR_INVALID_RESULT', message: expect.stringMatching(message) });

describe('isInferenceStream', () => {
  test('an async generator is a stream; a result, a promise, a string and null are not', async () => {
    const { stream } = generatorOf([text('a')]);
    expect(isInferenceStream(stream)).toBe(true);
    expect(isInferenceStream(text('a'))).toBe(false);
    const promised = Promise.resolve(text('a'));
    expect(isInferenceStream(promised)).toBe(false);
    expect(isInferenceStream('text')).toBe(false);
    expect(isInferenceStream(null)).toBe(false);
    await consume(stream);
  });
});

describe('consumeStream: the final result when the generator returns none', () => {
  test("text chunks are concatenated with the first chunk's content type; a text chunk of bytes counts as its UTF-8 text", async () => {
    const { stream, state } = generatorOf([
      text('# Hello', 'text/markdown'),
      text(' streaming'),
      { 'content-type': 'text/plain', data: Buffer.from(' wörld', 'utf8'), success: true },
    ]);
    const { result, seen } = await consume(stream);
    expect(result).toEqual({ 'content-type': 'text/markdown', data: '# Hello streaming wörld', success: true });
    expect(seen.map((chunk) => chunk.data)).toEqual(['# Hello', ' streaming', Buffer.from(' wörld', 'utf8')]);
    expect(state.closed).toBe(true);
  });

  test('JSON chunks become a JSON list, +json types included', async () => {
    const { stream } = generatorOf([
      json({ index: 0, word: 'Hello' }),
      json([1, 2]),
      { 'content-type': 'application/geo+json', data: '{"type":"Point"}', success: true },
      json(null),
    ]);
    const { result } = await consume(stream);
    expect(result['content-type']).toBe('application/json');
    expect(result.success).toBe(true);
    expect(JSON.parse(result.data as string)).toEqual([{ index: 0, word: 'Hello' }, [1, 2], { type: 'Point' }, null]);
  });

  test('image chunks: the last one is the result (the finished image after the progress images)', async () => {
    const last = image(white);
    const { stream } = generatorOf([image(grey), image(whiter), last]);
    const { result, seen } = await consume(stream);
    expect(result).toBe(last);
    expect(seen).toHaveLength(3);
    const stats = await sharp(result.data as Buffer).stats();
    expect(stats.channels.map((channel) => channel.mean)).toEqual([255, 255, 255]);
  });

  test('chunks of different kinds without a returned result are an invalid result that names the types', async () => {
    const { stream, state } = generatorOf([text('a caption'), image(grey)]);
    await expect(consume(stream)).rejects.toEqual(invalidResult(/different kinds \(text\/plain, image\/png\).*return the final result/));
    expect(state.closed).toBe(true);
  });

  test('a stream that ends without a chunk or a result is an invalid result', async () => {
    const { stream } = generatorOf([]);
    await expect(consume(stream)).rejects.toEqual(invalidResult(/ended without a chunk or a final result/));
    expect(() => collectChunks([])).toThrow(AiIntegrationError);
  });
});

describe('consumeStream: a returned result wins', () => {
  test('text chunks then a returned JSON summary: the summary is the result, the chunks were still handed on', async () => {
    const summary = json({ words: 2 });
    const { stream } = generatorOf([text('Hello'), text(' world')], summary);
    const { result, seen } = await consume(stream);
    expect(result).toBe(summary);
    expect(seen.map((chunk) => chunk.data)).toEqual(['Hello', ' world']);
  });

  test('mixed kinds are fine when the generator returns the final result; so is a stream of no chunks that returns one', async () => {
    const final = image(white);
    expect((await consume(generatorOf([text('drawing...'), image(grey)], final).stream)).result).toBe(final);
    const only = text('all at once');
    expect(await consume(generatorOf([], only).stream)).toEqual({ result: only, seen: [] });
  });
});

describe('consumeStream: chunks that end the stream', () => {
  test('a chunk that is not a valid result is an invalid result naming "chunk 2"; the generator is closed and makes nothing more', async () => {
    let madeAfter = false;
    const closed = deferred();
    async function* stream() {
      try {
        yield text('Hello');
        yield { 'content-type': 'text/plain', data: 42, success: true } as unknown as InferenceResult;
        madeAfter = true;
        yield text('never');
      } finally {
        closed.resolve();
      }
    }
    const seen: InferenceResult[] = [];
    await expect(consumeStream(stream(), new AbortController().signal, (chunk) => seen.push(chunk))).rejects.toEqual(
      invalidResult(/^chunk 2 of the stream is not a valid result: 'data' must be a string or a Buffer when success is true, got number 42$/),
    );
    await within(closed.promise, "the generator's finally");
    expect(madeAfter).toBe(false);
    expect(seen.map((chunk) => chunk.data)).toEqual(['Hello']);
  });

  test('a JSON chunk whose data is not JSON names its place too ("chunk 1")', async () => {
    const { stream, state } = generatorOf([{ 'content-type': 'application/json', data: '{"unfinished": ', success: true }, json(1)]);
    await expect(consume(stream)).rejects.toEqual(invalidResult(/^chunk 1 of the stream is not a valid result: /));
    await within(state.done, "the generator's finally");
  });

  test("a failure chunk (success: false) is the result, as the model's own failure; the generator is closed; it is not handed on as a chunk", async () => {
    let madeAfter = false;
    const closed = deferred();
    const gaveUp = failure('the model gave up halfway');
    async function* stream() {
      try {
        yield text('Hello');
        yield gaveUp;
        madeAfter = true;
        yield text('never');
      } finally {
        closed.resolve();
      }
    }
    const seen: InferenceResult[] = [];
    const result = await consumeStream(stream(), new AbortController().signal, (chunk) => seen.push(chunk));
    expect(result).toBe(gaveUp);
    expect(await checkResult(result)).toMatchObject({ ok: false });
    await within(closed.promise, "the generator's finally");
    expect(madeAfter).toBe(false);
    expect(seen.map((chunk) => chunk.data)).toEqual(['Hello']);
  });

  test('a throw from the generator propagates as it is, after the chunks before it', async () => {
    const broke = new Error('the stream broke halfway');
    async function* stream() {
      yield text('Hello');
      throw broke;
    }
    const seen: InferenceResult[] = [];
    await expect(consumeStream(stream(), new AbortController().signal, (chunk) => seen.push(chunk))).rejects.toBe(broke);
    expect(seen).toHaveLength(1);
  });
});

describe('consumeStream: the signal', () => {
  test('an abort while the generator works rejects at once with StreamStopped; the generator is closed when it next yields, and that chunk is never handed on', async () => {
    const controller = new AbortController();
    const working = deferred();
    const closed = deferred();
    let afterRelease = false;
    async function* stream() {
      try {
        yield text('Hello');
        await working.promise; // the model's own work, which ignores the signal
        yield text(' late');
        afterRelease = true;
        yield text(' never');
      } finally {
        closed.resolve();
      }
    }
    const seen: InferenceResult[] = [];
    const consumed = consumeStream(stream(), controller.signal, (chunk) => {
      seen.push(chunk);
      controller.abort();
    });
    // It rejects while the generator is still held: the stop does not wait for the model.
    await expect(within(consumed, 'the rejection')).rejects.toBeInstanceOf(StreamStopped);
    working.resolve();
    await within(closed.promise, "the generator's finally");
    expect(afterRelease).toBe(false);
    expect(seen.map((chunk) => chunk.data)).toEqual(['Hello']);
  });

  test('an abort while the generator waits on the signal itself: its finally runs', async () => {
    const controller = new AbortController();
    const closed = deferred();
    async function* stream(signal: AbortSignal) {
      try {
        yield text('Hello');
        await new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
        yield text(' never');
      } finally {
        closed.resolve();
      }
    }
    const consumed = consumeStream(stream(controller.signal), controller.signal, () => queueMicrotask(() => controller.abort()));
    await expect(consumed).rejects.toBeInstanceOf(StreamStopped);
    await within(closed.promise, "the generator's finally");
  });

  test("a signal aborted before the first chunk: StreamStopped, and the generator's body never runs", async () => {
    const controller = new AbortController();
    controller.abort();
    let started = false;
    async function* stream() {
      started = true;
      yield text('never');
    }
    await expect(consumeStream(stream(), controller.signal)).rejects.toBeInstanceOf(StreamStopped);
    expect(started).toBe(false);
  });
});

describe('consumeStream: onChunk', () => {
  test('each chunk is handed on as it comes, in order, before the next one is asked for', async () => {
    const order: string[] = [];
    async function* stream() {
      for (const word of ['one', 'two', 'three']) {
        order.push(`made ${word}`);
        yield text(word);
      }
      order.push('ended');
    }
    const result = await consumeStream(stream(), new AbortController().signal, (chunk) => order.push(`seen ${chunk.data as string}`));
    expect(order).toEqual(['made one', 'seen one', 'made two', 'seen two', 'made three', 'seen three', 'ended']);
    expect(result.data).toBe('onetwothree');
  });

  test('without onChunk the stream is still read and collected', async () => {
    const result = await consumeStream(generatorOf([json(1), json(2)]).stream, new AbortController().signal);
    expect(JSON.parse(result.data as string)).toEqual([1, 2]);
  });
});

describe('collectChunks', () => {
  const checked = async (results: InferenceResult[]) => Promise.all(results.map(async (result) => ({ result, report: await checkResult(result) })));

  test('text, JSON and other kinds, collected by the rules of a stream without a final result', async () => {
    expect(collectChunks(await checked([text('a', 'text/csv'), text('b')]))).toEqual({ 'content-type': 'text/csv', data: 'ab', success: true });
    expect(collectChunks(await checked([json({ a: 1 }), json('b')]))).toEqual({ 'content-type': 'application/json', data: '[{"a":1},"b"]', success: true });
    const last = image(whiter);
    expect(collectChunks(await checked([image(grey), last]))).toBe(last);
    expect(() => collectChunks([])).toThrow(/ended without a chunk/);
  });

  test('JSON and text are different kinds', async () => {
    expect(() =>
      collectChunks(
        checkedSync([
          ['application/json', '1'],
          ['text/plain', 'x'],
        ]),
      ),
    ).toThrow(/different kinds \(application\/json, text\/plain\)/);
  });
});

// Chunks with reports as checkResult gives them, for kinds whose report needs no decoding.
function checkedSync(chunks: [string, string][]) {
  return chunks.map(([type, data]) => ({
    result: { 'content-type': type, data, success: true } as InferenceResult,
    report: { ok: true, problems: [], summary: '', mediaType: type, ...(type === 'application/json' ? { json: JSON.parse(data) as unknown } : {}) },
  }));
}

describe('the in-process engine reads a stream', () => {
  const engineOf = (make: (signal: AbortSignal) => InferenceStream) => createInProcessEngine((_inputs, { signal }) => make(signal));

  test('the collected result, with every chunk handed to onChunk', async () => {
    const seen: unknown[] = [];
    const result = await engineOf(() => generatorOf([text('a'), text('b')]).stream).infer({}, { onChunk: (chunk) => seen.push(chunk.data) });
    expect(result.data).toBe('ab');
    expect(seen).toEqual(['a', 'b']);
  });

  test("a failure chunk is the model's failure (a result, not a throw); an invalid chunk is AI_ERR_INVALID_RESULT; a throw is InferenceThrewError", async () => {
    const gaveUp = failure('gave up');
    expect(await engineOf(() => generatorOf([text('a'), gaveUp]).stream).infer({})).toBe(gaveUp);
    await expect(engineOf(() => generatorOf([text('a'), { success: true }]).stream).infer({})).rejects.toEqual(invalidResult(/^chunk 2 /));
    const thrown = engineOf(() =>
      (async function* () {
        yield text('a');
        throw new Error('broke');
      })(),
    ).infer({});
    await expect(thrown).rejects.toBeInstanceOf(InferenceThrewError);
  });

  test('a canceled stream is a canceled prediction, and the generator is closed', async () => {
    const controller = new AbortController();
    const { stream, state } = generatorOf([text('a'), text('b'), text('c')]);
    const engine = engineOf(() => stream);
    await expect(engine.infer({}, { signal: controller.signal, onChunk: () => controller.abort() })).rejects.toBeInstanceOf(PredictionCanceledError);
    await within(state.done, "the generator's finally");
  });
});
