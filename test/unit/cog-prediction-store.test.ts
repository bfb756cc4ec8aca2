import { describe, expect, test } from 'vitest';
import { PredictionStore } from '../../modes/cog/prediction-store.js';

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));
const store = (maxFinished = 10, maxBytes = 1000) => new PredictionStore<string>({ maxFinished, maxBytes, sizeOf: (answer) => answer.length });

describe('PredictionStore', () => {
  test('the same id gives the same prediction, running or finished, and runs the model once', async () => {
    const predictions = store();
    const running = deferred<string>();
    let runs = 0;
    const run = () => {
      runs++;
      return running.promise;
    };
    const first = predictions.getOrStart('a', run);
    const second = predictions.getOrStart('a', run);
    expect(first.created).toBe(true);
    expect(second.created).toBe(false);
    expect(second.prediction).toBe(first.prediction);
    expect(first.prediction.done).toBe(false);
    running.resolve('answer');
    expect(await second.prediction.answer).toBe('answer');
    await settle();
    expect(first.prediction.done).toBe(true);
    const third = predictions.getOrStart('a', run);
    expect(third.created).toBe(false);
    expect(await third.prediction.answer).toBe('answer');
    expect(runs).toBe(1);
    expect(predictions.counts).toEqual({ running: 0, finished: 1, finishedBytes: 6 });
  });

  test('a prediction that never ran (rejected) is forgotten, so that a retry with its id runs', async () => {
    const predictions = store();
    const refused = predictions.getOrStart('a', () => Promise.reject(new Error('queue full')));
    await expect(refused.prediction.answer).rejects.toThrow('queue full');
    await settle();
    expect(predictions.get('a')).toBeUndefined();
    const retry = predictions.getOrStart('a', () => Promise.resolve('ran'));
    expect(retry.created).toBe(true);
    expect(await retry.prediction.answer).toBe('ran');
  });

  test('bounded by count: the oldest finished answers go first; running predictions are never dropped', async () => {
    const predictions = store(2, 1000);
    const slow = deferred<string>();
    predictions.getOrStart('running', () => slow.promise);
    for (const id of ['a', 'b', 'c']) {
      predictions.getOrStart(id, () => Promise.resolve(id));
      await settle();
    }
    expect(predictions.get('a')).toBeUndefined();
    expect(predictions.get('b')?.done).toBe(true);
    expect(predictions.get('c')?.done).toBe(true);
    expect(predictions.get('running')?.done).toBe(false);
    expect(predictions.counts).toEqual({ running: 1, finished: 2, finishedBytes: 2 });
    slow.resolve('slow');
    await settle();
    expect(predictions.get('b')).toBeUndefined();
    expect(predictions.get('running')?.done).toBe(true);
  });

  test('bounded by bytes: older answers go until the total fits; the newest stays even when it alone is larger', async () => {
    const predictions = store(100, 10);
    for (const [id, answer] of [['a', 'xxxx'], ['b', 'yyyy'], ['c', 'zzzz']] as const) {
      predictions.getOrStart(id, () => Promise.resolve(answer));
      await settle();
    }
    expect(predictions.get('a')).toBeUndefined();
    expect(predictions.counts).toEqual({ running: 0, finished: 2, finishedBytes: 8 });
    predictions.getOrStart('huge', () => Promise.resolve('h'.repeat(50)));
    await settle();
    expect(predictions.counts).toEqual({ running: 0, finished: 1, finishedBytes: 50 });
    expect(await predictions.get('huge')!.answer).toHaveLength(50);
  });

  test('start (POST) always runs and replaces what the id held; an id the client did not choose is not kept once done', async () => {
    const predictions = store();
    predictions.getOrStart('a', () => Promise.resolve('first'));
    await settle();
    const replacing = deferred<string>();
    const second = predictions.start('a', () => replacing.promise, { keep: true });
    expect(predictions.get('a')).toBe(second);
    expect(predictions.counts).toEqual({ running: 1, finished: 0, finishedBytes: 0 });
    // The replaced prediction settling late does not take the id back.
    const older = deferred<string>();
    predictions.start('b', () => older.promise, { keep: true });
    const newer = predictions.start('b', () => Promise.resolve('newer'), { keep: true });
    older.resolve('older');
    await settle();
    expect(predictions.get('b')).toBe(newer);
    expect(await predictions.get('b')!.answer).toBe('newer');
    const anonymous = predictions.start('made-up', () => Promise.resolve('x'), { keep: false });
    expect(predictions.get('made-up')).toBe(anonymous);
    await settle();
    expect(predictions.get('made-up')).toBeUndefined();
    replacing.resolve('second');
    await settle();
    expect(await predictions.get('a')!.answer).toBe('second');
  });
});
