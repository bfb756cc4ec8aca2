import { checkBatch } from '../../src/serving/batch.js';
import { lineError } from './errors.js';

/**
 * Runs `run` on every item, at most `window` at once, starting them in order, and returns the
 * results in order. Why a window: a batch transform mini-batch may hold thousands of records, and
 * submitting them all at once would fill the queue (429) for everyone. After a failure no further
 * item starts; once the running ones settle, the error of the earliest failing item is thrown,
 * prefixed with its line (counted from 1).
 */
export async function runLines<I, R>(items: readonly I[], window: number, run: (item: I, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const failures: { index: number; error: unknown }[] = [];
  const lane = async () => {
    while (failures.length === 0 && next < items.length) {
      const index = next++;
      try {
        results[index] = await run(items[index]!, index);
      } catch (error) {
        failures.push({ index, error });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(window, items.length)) }, lane));
  if (failures.length > 0) {
    const first = failures.reduce((earliest, failure) => (failure.index < earliest.index ? failure : earliest));
    throw lineError(first.error, first.index + 1);
  }
  return results;
}

/** Converts every item before any runs (`check` throws for a bad one, which is named by its line), so a bad line costs the model no work. */
export function checkLines<I, C>(items: readonly I[], check: (item: I) => Promise<C>): Promise<C[]> {
  return checkBatch(items, check, (error, index) => lineError(error, index + 1));
}
