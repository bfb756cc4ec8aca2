// Where an inference's time went: the model's time as the engine that runs it measures it
// (InferOptions.onPredictTime), and the rest of the time since it was submitted as its wait. The
// clock is faked, so every figure is exact.
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { BatchingEngine } from '../../src/engine/batching-engine.js';
import { engineAround } from '../../src/engine/engine-base.js';
import { InferenceTimeoutError } from '../../src/errors.js';
import { createLogger } from '../../src/logger.js';
import { modelFaults } from '../../src/model-faults.js';
import { predictTimeOfEnvelope } from '../../src/queue/envelope.js';
import { AdmissionQueue } from '../../src/serving/admission-queue.js';
import type { InferOptions, InferenceResult } from '../../src/types.js';

const done: InferenceResult = { 'content-type': 'text/plain', data: 'ok', success: true };

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['performance'] });
});
afterEach(() => {
  vi.useRealTimers();
});

/** An engine whose inferences end when the test says, telling `onPredictTime` what the test says. */
function heldEngine() {
  const held: { options: InferOptions | undefined; finish: (predictMs?: number) => void }[] = [];
  const engine = engineAround(
    (_inputs, options) =>
      new Promise((resolve) => {
        held.push({
          options,
          finish: (predictMs) => {
            if (predictMs !== undefined) options?.onPredictTime?.(predictMs);
            resolve(done);
          },
        });
      }),
  );
  return { engine, held };
}

describe('the admission queue: queue time and predict time', () => {
  test("an engine that times the model (a worker's queue in between): predict time is its figure, the rest is queue time", async () => {
    const { engine, held } = heldEngine();
    const queue = new AdmissionQueue(engine, { concurrency: 4, maxQueue: 10, inferenceTimeoutMs: 0 });
    const outcome = queue.submit({});
    vi.advanceTimersByTime(900); // waiting inside the engine, then 30 ms of the model
    held[0]!.finish(30);
    expect(await outcome).toMatchObject({ predictMs: 30, queueMs: 870 });
  });

  test('an engine that says nothing started the model when it was handed the inference', async () => {
    const { engine, held } = heldEngine();
    const queue = new AdmissionQueue(engine, { concurrency: 1, maxQueue: 10, inferenceTimeoutMs: 0 });
    const first = queue.submit({});
    const second = queue.submit({});
    vi.advanceTimersByTime(100);
    held[0]!.finish();
    expect(await first).toMatchObject({ predictMs: 100, queueMs: 0 });
    await new Promise((resolve) => setImmediate(resolve)); // the first one's slot goes to the second
    expect(held).toHaveLength(2);
    vi.advanceTimersByTime(40);
    held[1]!.finish();
    expect(await second).toMatchObject({ predictMs: 40, queueMs: 100 });
  });

  test('a figure larger than the whole time (another clock) is capped: the queue time is never negative', async () => {
    const { engine, held } = heldEngine();
    const queue = new AdmissionQueue(engine, { concurrency: 1, maxQueue: 10, inferenceTimeoutMs: 0 });
    const outcome = queue.submit({});
    vi.advanceTimersByTime(10);
    held[0]!.finish(12);
    expect(await outcome).toMatchObject({ predictMs: 10, queueMs: 0 });
  });
});

describe('a batch model: the predict time runs from when its batch started, not from when it was handed in', () => {
  test('a request that waited for the batch before it reports the time of its own batch', async () => {
    const batches: ((results: InferenceResult[]) => void)[] = [];
    const engine = new BatchingEngine(() => new Promise((resolve) => batches.push(resolve)), { maxSize: 1 });
    const reported: number[] = [];
    const first = engine.infer({}, { onPredictTime: (ms) => reported.push(ms) });
    const second = engine.infer({}, { onPredictTime: (ms) => reported.push(ms) });
    expect(batches).toHaveLength(1);
    vi.advanceTimersByTime(500);
    batches[0]!([done]);
    await first;
    expect(batches).toHaveLength(2);
    vi.advanceTimersByTime(20);
    batches[1]!([done]);
    await second;
    expect(reported).toEqual([500, 20]);
  });
});

describe('a model stuck past its limit, run directly: the log and the probes name the limit that applied', () => {
  function faultsWithLog() {
    let logged = '';
    const log = createLogger(
      new Writable({
        write: (chunk, _encoding, callback) => {
          logged += String(chunk);
          callback();
        },
      }),
    );
    const engine = engineAround(() => Promise.resolve(done));
    return { faults: modelFaults(engine, log), logged: () => logged };
  }

  test('INFERENCE_TIMEOUT_MS', () => {
    const { faults, logged } = faultsWithLog();
    const verdict = faults.report(new InferenceTimeoutError({ ms: 3000, name: 'INFERENCE_TIMEOUT_MS' }));
    expect(verdict).toEqual({ end: true, exitCode: 70, reason: 'an inference ran past 3000 ms (INFERENCE_TIMEOUT_MS); the process exits to be restarted' });
    expect(logged()).toBe(
      'error: an inference ran past 3000 ms (INFERENCE_TIMEOUT_MS): the model is stuck, so this process exits to be restarted (run it under the supervisor, ai-integration shim.js, to replace the model in place)\n',
    );
  });

  test("a Lambda invocation's deadline", () => {
    const { faults, logged } = faultsWithLog();
    const limit = { ms: 2757, name: "the time left before the Lambda invocation's deadline, less LAMBDA_DEADLINE_MARGIN_MS of 200 ms" };
    const error = new InferenceTimeoutError(limit, undefined, `the inference did not finish within 2757 ms (${limit.name}); the process exits to be restarted`);
    const verdict = faults.report(error);
    expect(verdict).toMatchObject({
      reason:
        "an inference ran past 2757 ms (the time left before the Lambda invocation's deadline, less LAMBDA_DEADLINE_MARGIN_MS of 200 ms); the process exits to be restarted",
    });
    expect(logged()).not.toContain('INFERENCE_TIMEOUT_MS');
    expect(logged()).toContain(
      "error: an inference ran past 2757 ms (the time left before the Lambda invocation's deadline, less LAMBDA_DEADLINE_MARGIN_MS of 200 ms): the model is stuck",
    );
  });

  test('the error the client gets names the limit, and what happens to the model', () => {
    expect(new InferenceTimeoutError({ ms: 1000, name: 'INFERENCE_TIMEOUT_MS' }, 'the model worker is being replaced').message).toBe(
      'inference took longer than 1000 ms (INFERENCE_TIMEOUT_MS); the model worker is being replaced',
    );
  });
});

describe("a gateway: a job's predict time is the worker's figure, not the wait on the queue", () => {
  test("the envelope's metrics.predict_time_ms, when it has one", () => {
    expect(predictTimeOfEnvelope({ output: 1, content_type: 'application/json', metrics: { predict_time_ms: 2.5, queue_time_ms: 60_000 } })).toBe(2.5);
    expect(predictTimeOfEnvelope({ output: 1, content_type: 'application/json' })).toBeUndefined();
    expect(predictTimeOfEnvelope({ metrics: { predict_time_ms: '2.5' } })).toBeUndefined();
    expect(predictTimeOfEnvelope(null)).toBeUndefined();
  });
});
