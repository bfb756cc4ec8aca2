import { afterEach, describe, expect, test, vi } from 'vitest';
import { batchItemError, checkBatch, runBatch } from '../../modes/kserve/batch.js';
import { AiIntegrationError, InferenceThrewError, InvalidInputError } from '../../src/errors.js';

describe('batches', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  test('results come back in the order of the items, whatever order they finish in', async () => {
    vi.useFakeTimers();
    const delays = [30, 0, 10];
    const finished: number[] = [];
    const running = runBatch(delays, async (delay, index) => {
      await new Promise((resolve) => setTimeout(resolve, delay));
      finished.push(index);
      return `item ${index}`;
    });
    await vi.runAllTimersAsync();
    expect(await running).toEqual(['item 0', 'item 1', 'item 2']);
    expect(finished).toEqual([1, 2, 0]);
  });

  test('the first failing item fails the batch, once every item has settled, naming its index and keeping its code', async () => {
    vi.useFakeTimers();
    const settled: number[] = [];
    let settledWhenItFailed: number[] = [];
    const failing = runBatch([0, 1, 2, 3], async (item) => {
      await new Promise((resolve) => setTimeout(resolve, item === 3 ? 20 : 0));
      settled.push(item);
      if (item === 2) throw new InferenceThrewError(new Error('CUDA error'));
      if (item === 3) throw new AiIntegrationError('AI_ERR_MODEL_FAILED', 'no face found');
      return item;
    }).catch((caught: unknown) => {
      settledWhenItFailed = [...settled];
      return caught;
    });
    await vi.runAllTimersAsync();
    const error = await failing;
    expect(settledWhenItFailed.sort()).toEqual([0, 1, 2, 3]);
    expect(error).toBeInstanceOf(AiIntegrationError);
    expect((error as AiIntegrationError).code).toBe('AI_ERR_INFERENCE_THREW');
    expect((error as AiIntegrationError).httpStatus).toBe(500);
    expect((error as Error).message).toBe('batch item 2: the inference function threw: CUDA error');
  });

  test('a batch of one fails with its error unchanged', async () => {
    const original = new InvalidInputError('strength', 'expected a number, got the string "x"');
    await expect(runBatch([0], async () => Promise.reject(original))).rejects.toBe(original);
  });

  test('checkBatch refuses a bad item before any runs, naming it and its field', async () => {
    const checked: string[] = [];
    const error = await checkBatch(['ok', 'bad', 'never'], async (item) => {
      checked.push(item);
      if (item === 'bad') throw new InvalidInputError('image', 'is not an image');
    }).catch((caught: unknown) => caught);
    expect(checked).toEqual(['ok', 'bad']);
    expect((error as AiIntegrationError).message).toBe('batch item 1: image: is not an image');
    expect((error as AiIntegrationError).field).toBe('image');
    expect((error as AiIntegrationError).code).toBe('AI_ERR_INVALID_INPUT');
  });

  test('errors that are not the library’s pass through unchanged', () => {
    const error = new TypeError('boom');
    expect(batchItemError(error, 3, 5)).toBe(error);
  });
});
