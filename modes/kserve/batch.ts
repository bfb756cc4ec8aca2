import { AiIntegrationError } from '../../src/errors.js';
import { checkBatch as checkEach, runBatch as runEach } from '../../src/serving/batch.js';

/**
 * Runs every item of a batch and returns the results in order, failing whole with the first
 * failing item's error, prefixed with the item's index (for a batch of more than one).
 * @example await runBatch(items, (item) => core.infer(item, route))
 */
export function runBatch<I, R>(items: readonly I[], run: (item: I, index: number) => Promise<R>): Promise<R[]> {
  return runEach(items, run, (error, index) => batchItemError(error, index, items.length));
}

/** Checks (converts) every item before any runs, naming the first bad one; returns each item's conversion. */
export function checkBatch<I, C>(items: readonly I[], check: (item: I) => Promise<C>): Promise<C[]> {
  return checkEach(items, check, (error, index) => batchItemError(error, index, items.length));
}

/** An item's error, saying which item, with its code (and so its status) kept. */
export function batchItemError(error: unknown, index: number, size: number): unknown {
  if (size <= 1 || !(error instanceof AiIntegrationError)) return error;
  const field = error.field === undefined ? {} : { field: error.field };
  return new AiIntegrationError(error.code, `batch item ${index}: ${error.message}`, { ...field, cause: error });
}
