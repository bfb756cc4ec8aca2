import { describe, expect, test } from 'vitest';
import { Cancellation } from '../../src/engine/cancellation.js';

describe('Cancellation', () => {
  test('listeners run once, in order, on cancel; a removed one does not; a late one is never called', () => {
    const cancellation = new Cancellation();
    const calls: string[] = [];
    cancellation.onCancel(() => calls.push('first'));
    const remove = cancellation.onCancel(() => calls.push('removed'));
    cancellation.onCancel(() => calls.push('second'));
    remove();
    expect(cancellation.aborted).toBe(false);
    cancellation.cancel();
    cancellation.cancel();
    expect(calls).toEqual(['first', 'second']);
    expect(cancellation.aborted).toBe(true);
    cancellation.onCancel(() => calls.push('late'));
    expect(calls).toEqual(['first', 'second']);
  });

  test('its AbortSignal is made on first use and aborts with it, before or after', () => {
    const early = new Cancellation();
    const signal = early.signal;
    expect(early.signal).toBe(signal);
    expect(signal.aborted).toBe(false);
    let aborted = 0;
    signal.addEventListener('abort', () => aborted++);
    early.cancel();
    expect(signal.aborted).toBe(true);
    expect(aborted).toBe(1);
    const late = new Cancellation();
    late.cancel();
    expect(late.signal.aborted).toBe(true);
  });

  test('of(): itself, nothing, or one that follows an AbortSignal and hands the model that same signal', () => {
    const own = new Cancellation();
    expect(Cancellation.of(own)).toBe(own);
    expect(Cancellation.of(undefined)).toBeUndefined();
    const controller = new AbortController();
    const following = Cancellation.of(controller.signal)!;
    expect(following.signal).toBe(controller.signal);
    let canceled = false;
    following.onCancel(() => (canceled = true));
    controller.abort();
    expect(canceled).toBe(true);
    expect(following.aborted).toBe(true);
    expect(Cancellation.of(AbortSignal.abort())!.aborted).toBe(true);
  });
});
