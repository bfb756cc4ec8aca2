// The admission queue's reservations (AdmissionQueue.reserve): places for the items of one request
// taken at once, or none; what the reservation holds is counted against the bound for everyone
// else, an item that leaves (answered, canceled, refused at a fault) gives its place back to the
// request, and release gives back the places no item holds.
import { describe, expect, test } from 'vitest';
import { Cancellation } from '../../src/engine/cancellation.js';
import { engineAround } from '../../src/engine/engine-base.js';
import { AdmissionQueue } from '../../src/serving/admission-queue.js';
import type { InferenceResult } from '../../src/types.js';

const done: InferenceResult = { 'content-type': 'text/plain', data: 'ok', success: true };

/** CONCURRENCY 1 + MAX_QUEUE 2, on an engine whose inferences end when the test says. */
function queueOfThree() {
  const held: (() => void)[] = [];
  const engine = engineAround(() => new Promise<InferenceResult>((resolve) => held.push(() => resolve(done))));
  return { queue: new AdmissionQueue(engine, { concurrency: 1, maxQueue: 2, inferenceTimeoutMs: 0 }), held };
}

const code = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    return (error as { code: string }).code;
  }
  return 'none';
};
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('AdmissionQueue.reserve', () => {
  test('all or none: more than the room left is refused with nothing taken; what is taken is room no one else gets', async () => {
    const { queue, held } = queueOfThree();
    const running = queue.submit({});
    expect(code(() => queue.reserve(3, 'items'))).toBe('AI_ERR_QUEUE_FULL');
    const reservation = queue.reserve(2, 'items');
    // Three places: one runs, two are the reservation's, though nothing of it is queued yet.
    expect(queue.refusal()?.code).toBe('AI_ERR_QUEUE_FULL');
    await expect(queue.submit({})).rejects.toMatchObject({ code: 'AI_ERR_QUEUE_FULL' });
    const items = [queue.submit({}, { reservation }), queue.submit({}, { reservation })];
    expect(queue.queueDepth).toBe(2);
    held[0]!();
    await running;
    await settle();
    held[1]!();
    held.length = 0;
    await items[0];
    reservation.release();
    await settle();
    // The first item's place went back to the request, then to everyone with release: one free.
    expect(queue.refusal()).toBeUndefined();
    held[0]!();
    await items[1];
  });

  test('an item canceled while it waits gives its place back to the request; release gives back the unused places', async () => {
    const { queue, held } = queueOfThree();
    const running = queue.submit({});
    const reservation = queue.reserve(2, 'items');
    const cancel = new Cancellation();
    const canceled = queue.submit({}, { reservation, signal: cancel });
    cancel.cancel();
    await expect(canceled).rejects.toMatchObject({ code: 'AI_ERR_CANCELED' });
    // Still the request's: two more of its items are admitted, and no one else's.
    await expect(queue.submit({})).rejects.toMatchObject({ code: 'AI_ERR_QUEUE_FULL' });
    const items = [queue.submit({}, { reservation }), queue.submit({}, { reservation })];
    // A third item finds its reservation full and is admitted as anyone is: the queue is full.
    await expect(queue.submit({}, { reservation })).rejects.toMatchObject({ code: 'AI_ERR_QUEUE_FULL' });
    reservation.release();
    for (let index = 0; index < 3; index++) {
      await settle();
      held[index]!();
    }
    await Promise.all([running, ...items]);
    expect(queue.refusal()).toBeUndefined();
    expect(code(() => queue.reserve(3, 'items'))).toBe('none');
  });
});
