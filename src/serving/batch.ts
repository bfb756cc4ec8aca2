import { AiIntegrationError } from '../errors.js';
import type { Reservation } from './admission-queue.js';

/** Says which item of a batch an error belongs to (KServe's `batch item 2:`, Vertex's `instances[2].field:`). */
export type LocateError = (error: unknown, index: number) => unknown;

/**
 * Checks (converts) every item of a batch before any runs, so that a bad item costs the model no
 * work on the others; the first refusal, located, is the batch's. Returns each item's conversion.
 */
export async function checkBatch<I, C>(items: readonly I[], check: (item: I, index: number) => Promise<C>, locate: LocateError): Promise<C[]> {
  const checked: C[] = [];
  for (const [index, item] of items.entries()) {
    try {
      checked.push(await check(item, index));
    } catch (error) {
      throw locate(error, index);
    }
  }
  return checked;
}

/**
 * Runs every item and returns the results in order. A batch succeeds or fails whole: when items
 * fail, it fails with the first failing item's error, located, once every item has settled.
 */
export async function runBatch<I, R>(items: readonly I[], run: (item: I, index: number) => Promise<R>, locate: LocateError): Promise<R[]> {
  // A batch of one, the common request, needs no bookkeeping.
  if (items.length === 1) {
    try {
      return [await run(items[0]!, 0)];
    } catch (error) {
      throw locate(error, 0);
    }
  }
  const settled = await Promise.allSettled(items.map((item, index) => run(item, index)));
  const failed = settled.findIndex((outcome) => outcome.status === 'rejected');
  if (failed >= 0) throw locate((settled[failed] as PromiseRejectedResult).reason, failed);
  return settled.map((outcome) => (outcome as PromiseFulfilledResult<R>).value);
}

/**
 * Runs `work` with a place in the queue taken for each of `count` items at once (`reserve`, which
 * refuses with 429 when fewer are free now), so that a request of several items is admitted whole
 * or not at all, and gives back what is left when it is done. One item needs no reservation: its
 * own admission is the same check.
 * @example await withReservation((count, items) => core.reserve(count, items), converted.length, 'instances', (reservation) => ...)
 */
export async function withReservation<T>(
  reserve: (count: number, items: string) => Reservation,
  count: number,
  items: string,
  work: (reservation: Reservation | undefined) => Promise<T>,
): Promise<T> {
  if (count <= 1) return work(undefined);
  const reservation = reserve(count, items);
  try {
    return await work(reservation);
  } finally {
    reservation.release();
  }
}

/**
 * Refuses a request with more items than the admission queue can ever hold at once (each item
 * takes a place at once): 413 naming the limit, before any item is converted or run. A 429 would
 * invite a retry that can never succeed, after the model had run the items admitted.
 * @example checkBatchSize(instances.length, core.settings, 'instances')
 */
export function checkBatchSize(count: number, limits: { readonly concurrency: number; readonly maxQueue: number }, items: string): void {
  const most = limits.concurrency + limits.maxQueue;
  if (count <= most) return;
  throw new AiIntegrationError(
    'AI_ERR_INPUT_TOO_LARGE',
    `the request has ${count} ${items}; this server takes at most ${most} in one request (CONCURRENCY + MAX_QUEUE); send fewer per request, or raise MAX_QUEUE`,
  );
}
