import { AiIntegrationError } from '../../src/errors.js';

/**
 * Runs every item of a batch and returns the results in order. A batch succeeds or fails whole:
 * when items fail, the request fails with the error of the first failing item, its message
 * prefixed with the item's index (for a batch of more than one), once every item has settled.
 * @example await runBatch(items, (item) => core.predict(item, 'data', route))
 */
export async function runBatch<I, R>(items: readonly I[], run: (item: I, index: number) => Promise<R>): Promise<R[]> {
  // A batch of one, the common request, needs no bookkeeping (its error is its own, unprefixed).
  if (items.length === 1) return [await run(items[0]!, 0)];
  const settled = await Promise.allSettled(items.map((item, index) => run(item, index)));
  const failed = settled.findIndex((outcome) => outcome.status === 'rejected');
  if (failed >= 0) throw batchItemError((settled[failed] as PromiseRejectedResult).reason, failed, items.length);
  return settled.map((outcome) => (outcome as PromiseFulfilledResult<R>).value);
}

/**
 * Checks (converts) every item before any runs (`check` throws for a bad one), so that a bad item
 * costs the model no work on the others; returns what `check` made of each, in order.
 */
export async function checkBatch<I, C>(items: readonly I[], check: (item: I) => Promise<C>): Promise<C[]> {
  if (items.length === 1) return [await check(items[0]!)];
  const checked: C[] = [];
  for (const [index, item] of items.entries()) {
    try {
      checked.push(await check(item));
    } catch (error) {
      throw batchItemError(error, index, items.length);
    }
  }
  return checked;
}

/** An item's error, saying which item, with its code (and so its status) kept. */
export function batchItemError(error: unknown, index: number, size: number): unknown {
  if (size <= 1 || !(error instanceof AiIntegrationError)) return error;
  const field = error.field === undefined ? {} : { field: error.field };
  return new AiIntegrationError(error.code, `batch item ${index}: ${error.message}`, { ...field, cause: error });
}
