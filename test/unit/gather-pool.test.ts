import { describe, expect, test } from 'vitest';
import { BodyBudget } from '../../src/http/body-budget.js';
import type { GatherOwner } from '../../src/inputs/gather-buffer.js';
import { GatherPool, maxFreeBytes, pooledMinimumBytes } from '../../src/supervisor/gather-pool.js';
import { sharedValueThreshold } from '../../src/supervisor/shared-memory.js';
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';

/** An exchange that says it is done when the test says so. */
function owner(): GatherOwner & { done(): void } {
  const releases: (() => void)[] = [];
  return {
    whenDone: (release) => {
      releases.push(release);
      return true;
    },
    done: () => {
      for (const release of releases.splice(0)) release();
    },
  };
}

const length = 1_453_228;

describe('GatherPool', () => {
  test('a buffer goes back to the pool only when its exchange and every hold are done, then is lent again', () => {
    const pool = new GatherPool();
    const exchange = owner();
    const gathered = pool.allocate(length, exchange)!;
    expect(gathered.bytes.length).toBe(length);
    const inputs = { image: gathered.bytes.subarray(10, 1000), note: 'x' };
    const queued = pool.hold(inputs)!;
    const engine = pool.hold(inputs)!;
    exchange.done();
    queued.release();
    // The engine still holds it: a new body gets another buffer.
    const other = pool.allocate(length, owner())!;
    expect(other.bytes.buffer).not.toBe(gathered.bytes.buffer);
    expect(pool.reused).toBe(0);
    engine.release();
    engine.release(); // once only
    expect(pool.lent).toBe(1);
    // Its size: the body rounded up to a quarter of its power of two (1.5 MiB).
    expect(pool.freeByteCount).toBe(1.5 * 1024 * 1024);
    const again = pool.allocate(length - 5, owner())!;
    expect(again.bytes.buffer).toBe(gathered.bytes.buffer);
    expect(pool.reused).toBe(1);
  });

  test('a discarded hold keeps the buffer out of the pool for good', () => {
    const pool = new GatherPool();
    const exchange = owner();
    const gathered = pool.allocate(length, exchange)!;
    const hold = pool.hold({ image: gathered.bytes })!;
    hold.discard();
    exchange.done();
    expect(pool.lent).toBe(0);
    expect(pool.freeByteCount).toBe(0);
    expect(pool.allocate(length, owner())!.bytes.buffer).not.toBe(gathered.bytes.buffer);
  });

  test('holds find the buffers deep in lists and objects, each once, and none in inputs without them', () => {
    const pool = new GatherPool();
    const first = pool.allocate(100_000, owner())!;
    const second = pool.allocate(300_000, owner())!;
    expect(pool.hold({ text: 'hello', n: 1, bytes: Buffer.alloc(10) })).toBeUndefined();
    const hold = pool.hold({ list: [{ a: first.bytes.subarray(0, 5) }, [second.bytes]], again: first.bytes })!;
    expect(hold).toBeDefined();
    // Each counted once: one release ends this hold's share of both.
    hold.release();
    expect(pool.lent).toBe(2);
  });

  test('inputs it cannot see into (a Map) keep every lent buffer out of the pool', () => {
    const pool = new GatherPool();
    const exchanges = [owner(), owner()];
    const lent = exchanges.map((exchange) => pool.allocate(100_000, exchange)!);
    expect(pool.hold({ odd: new Map([['k', lent[0]!.bytes]]) })).toBeUndefined();
    for (const exchange of exchanges) exchange.done();
    expect(pool.freeByteCount).toBe(0);
    // One lent after the walk gave up is reused as before.
    const exchange = owner();
    const later = pool.allocate(100_000, exchange)!;
    exchange.done();
    expect(pool.allocate(100_000, owner())!.bytes.buffer).toBe(later.bytes.buffer);
  });

  test('a bare ArrayBuffer of a pool buffer is held like a view of it', () => {
    const pool = new GatherPool();
    const exchange = owner();
    const gathered = pool.allocate(100_000, exchange)!;
    const hold = pool.hold({ raw: gathered.bytes.buffer })!;
    exchange.done();
    expect(pool.freeByteCount).toBe(0);
    hold.release();
    expect(pool.freeByteCount).toBe(7 * 16 * 1024);
  });

  test.each([
    [
      'a class instance',
      (bytes: Buffer) => ({
        wrapped: new (class Box {
          constructor(readonly bytes: Buffer) {}
        })(bytes),
      }),
    ],
    ['an object with a symbol key', (bytes: Buffer) => ({ tagged: { [Symbol('hidden')]: bytes } })],
    ['more values than the walk takes', () => ({ tensor: Array.from({ length: 210_000 }, (_, index) => index) })],
  ])('inputs with %s keep every lent buffer out of the pool', (_, inputs) => {
    const pool = new GatherPool();
    const exchange = owner();
    const gathered = pool.allocate(100_000, exchange)!;
    expect(pool.hold(inputs(gathered.bytes))).toBeUndefined();
    exchange.done();
    expect(pool.freeByteCount).toBe(0);
  });

  test('inputs that still refer to a free buffer (while others are lent) take it out of the pool', () => {
    const pool = new GatherPool();
    pool.allocate(100_000, owner());
    const exchange = owner();
    const gathered = pool.allocate(100_000, exchange)!;
    exchange.done();
    expect(pool.freeByteCount).toBe(7 * 16 * 1024);
    pool.hold({ late: gathered.bytes });
    expect(pool.freeByteCount).toBe(0);
    expect(pool.allocate(100_000, owner())!.bytes.buffer).not.toBe(gathered.bytes.buffer);
  });

  test('only bodies from 64 KiB to the shared-memory threshold with an owner that can tell, and the free ones bounded', () => {
    const pool = new GatherPool();
    expect(pool.allocate(pooledMinimumBytes - 1, owner())).toBeUndefined();
    expect(pool.allocate(sharedValueThreshold + 1, owner())).toBeUndefined();
    expect(pool.allocate(100_000, undefined)).toBeUndefined();
    expect(pool.allocate(100_000, { whenDone: () => false })).toBeUndefined();
    expect(pool.lent).toBe(0);
    const bounded = new GatherPool();
    const exchanges = Array.from({ length: 6 }, () => owner());
    for (const exchange of exchanges) bounded.allocate(sharedValueThreshold, exchange);
    for (const exchange of exchanges) exchange.done();
    expect(bounded.freeByteCount).toBe(maxFreeBytes);
  });
});

describe('BodyReservation as the owner of gathered buffers', () => {
  const response = () => Object.assign(new EventEmitter(), { socket: null }) as unknown as ServerResponse;

  test('releases them once its response has closed and its handler has settled, in either order', () => {
    for (const order of [
      ['close', 'settled'],
      ['settled', 'close'],
    ]) {
      const budget = new BodyBudget(10_000_000, 4);
      const answer = response();
      const reservation = budget.admit(1000, answer);
      let released = 0;
      expect(reservation.whenDone(() => released++)).toBe(true);
      for (const step of order) {
        expect(released).toBe(0);
        if (step === 'close') answer.emit('close');
        else budget.handlerSettled(answer);
      }
      expect(released).toBe(1);
      // Too late for another.
      expect(reservation.whenDone(() => released++)).toBe(false);
    }
  });

  test('a response whose handler never says it settled never releases them', () => {
    const budget = new BodyBudget(10_000_000, 4);
    const answer = response();
    let released = 0;
    budget.admit(1000, answer).whenDone(() => released++);
    answer.emit('close');
    expect(released).toBe(0);
  });
});
