import { AiIntegrationError, InferenceThrewError, PredictionCanceledError } from '../errors.js';
import { plural } from '../plural.js';
import { describeType } from '../inputs/schema.js';
import { Cancellation } from './cancellation.js';
import { logModelLine } from './model-log.js';
import { EngineBase } from './engine-base.js';
import type { BatchInferenceContext, BatchInferenceFunction, BatchOptions, EngineLimits, InferOptions, InferenceResult, ModelSlots } from '../types.js';

/** The largest batch a model may ask for; a batch is one call holding every item's inputs in memory. */
export const largestBatchSize = 4096;

interface Item {
  inputs: Record<string, unknown>;
  cancellation: Cancellation | undefined;
  arrived: number;
  resolve: (result: InferenceResult) => void;
  reject: (error: unknown) => void;
  stopListening: (() => void) | undefined;
  onLog: InferOptions['onLog'];
  onPredictTime: InferOptions['onPredictTime'];
  /** The running batch it is part of, once it runs. */
  batch: RunningBatch | undefined;
}

interface RunningBatch {
  items: Item[];
  /** Canceled once every item is. */
  cancellation: Cancellation;
  /** When the batch function was called: each item's predict time runs from here, not from its wait to be gathered. */
  started: number;
}

// The signal of an item that cannot be canceled (a one-shot mode's): it never aborts.
const neverAborted = new AbortController().signal;

/** The batch function's context; the AbortSignals are made when the model first reads them. */
function contextOf(batch: RunningBatch): BatchInferenceContext {
  let signals: readonly AbortSignal[] | undefined;
  return {
    get signal() {
      return batch.cancellation.signal;
    },
    get signals() {
      return (signals ??= batch.items.map((item) => item.cancellation?.signal ?? neverAborted));
    },
    // A line goes to every prediction of the batch that follows its logs, or once to stderr.
    log(message: string) {
      const followed = batch.items.filter((item) => item.onLog);
      if (followed.length === 0) logModelLine(message, undefined);
      for (const item of followed) logModelLine(message, item.onLog);
    },
  };
}

/** Checks the `batch` option of startLoop: a bad one stops the model before it serves. */
export function checkBatchOptions(batch: BatchOptions): Required<BatchOptions> {
  const { maxSize, maxWaitMs = 0 } = batch as Partial<BatchOptions>;
  if (!Number.isSafeInteger(maxSize) || maxSize! < 1 || maxSize! > largestBatchSize) {
    throw new AiIntegrationError(
      'AI_ERR_INVALID_OPTION',
      `startLoop option batch.maxSize must be an integer from 1 to ${largestBatchSize}, got ${describeType(maxSize)}`,
    );
  }
  if (typeof maxWaitMs !== 'number' || !Number.isFinite(maxWaitMs) || maxWaitMs < 0 || maxWaitMs > 60_000) {
    throw new AiIntegrationError(
      'AI_ERR_INVALID_OPTION',
      `startLoop option batch.maxWaitMs must be a number of milliseconds from 0 to 60000, got ${describeType(maxWaitMs)}`,
    );
  }
  return { maxSize: maxSize!, maxWaitMs };
}

/**
 * The engine of a batch model, in the process that holds it (run directly, or in each worker).
 * Requests wait here and run as batches: when the model has a free slot (CONCURRENCY batches run
 * at once), whatever waits goes at once, up to `maxSize`, so an idle model never delays a request
 * (only to the end of the current turn of the event loop, so that requests that came together,
 * a KServe batch, run together); while the model is busy, requests gather and the next batch is
 * full. With `maxWaitMs`, an idle model waits that long after the first request for a fuller batch.
 * Each result answers its own request; a throw fails the whole batch (and restarts the model).
 */
export class BatchingEngine extends EngineBase {
  // It gathers requests into batches itself, so it takes every request at once.
  readonly capabilities = { restartsInPlace: false, enforcesTimeout: false, schedulesOwnWork: true };
  private readonly waiting: Item[] = [];
  private running = 0;
  /** Requests in the batches running now. */
  private runningItems = 0;
  private concurrency = 1;
  private flushScheduled = false;
  /**
   * Set when a batch threw: the model is in a bad state, so nothing more runs on it. What waits
   * stays unanswered: the process exits, and the supervisor gives it to the next worker.
   */
  private broken = false;
  /**
   * Run directly, requests still waiting when a batch throws are refused at once (the process is
   * about to exit); a supervised worker leaves them unanswered for the supervisor to re-send.
   */
  private afterThrow: 'refuse' | 'keep' = 'refuse';
  private timer: NodeJS.Timeout | undefined;
  private readonly options: Required<BatchOptions>;

  constructor(
    private readonly batchFunction: BatchInferenceFunction<Record<string, unknown>>,
    options: BatchOptions,
  ) {
    super();
    this.options = checkBatchOptions(options);
  }

  infer(inputs: Record<string, unknown>, options?: InferOptions): Promise<InferenceResult> {
    const cancellation = Cancellation.of(options?.signal);
    if (cancellation?.aborted) return Promise.reject(new PredictionCanceledError('the prediction was canceled before it ran'));
    return new Promise((resolve, reject) => {
      const item: Item = {
        inputs,
        cancellation,
        arrived: performance.now(),
        resolve,
        reject,
        stopListening: undefined,
        onLog: options?.onLog,
        onPredictTime: options?.onPredictTime,
        batch: undefined,
      };
      if (cancellation) item.stopListening = cancellation.onCancel(() => this.cancel(item));
      this.waiting.push(item);
      this.schedule();
    });
  }

  /** CONCURRENCY is how many batches run at once; the mode may hand over two rounds of full batches. */
  override configure(limits: EngineLimits): { prefetch: number } {
    this.concurrency = Math.max(1, limits.concurrency);
    if (limits.afterThrow) this.afterThrow = limits.afterThrow;
    this.schedule();
    return { prefetch: 2 * this.concurrency * this.options.maxSize - this.concurrency };
  }

  /**
   * A batch model's slots are requests, not batches: CONCURRENCY batches of up to batch.maxSize,
   * held by the requests running and those gathered for the next batch, as the supervised engine
   * counts a batch worker's. Counted in batches, Cog's health check would say BUSY while one
   * request runs, and a router that waits for READY would never let a batch grow past one.
   */
  modelSlots(): ModelSlots {
    const total = this.concurrency * this.options.maxSize;
    return { held: Math.min(this.runningItems + this.waiting.length, total), total };
  }

  private cancel(item: Item): void {
    const index = this.waiting.indexOf(item);
    if (index !== -1) {
      this.waiting.splice(index, 1);
      item.reject(new PredictionCanceledError('the prediction was canceled before it ran'));
      return;
    }
    // Running: its result is dropped when the batch returns; the batch stops when all its items are canceled.
    const batch = item.batch;
    if (batch && batch.items.every((other) => other.cancellation?.aborted)) batch.cancellation.cancel();
  }

  private schedule(): void {
    if (this.broken || this.running >= this.concurrency || this.waiting.length === 0) return;
    if (this.waiting.length >= this.options.maxSize) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.flush();
      return;
    }
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    const { maxWaitMs } = this.options;
    if (maxWaitMs === 0) {
      setImmediate(() => this.flush());
      return;
    }
    const waited = performance.now() - this.waiting[0]!.arrived;
    this.timer = setTimeout(() => this.flush(), Math.max(0, maxWaitMs - waited));
  }

  private flush(): void {
    this.flushScheduled = false;
    this.timer = undefined;
    while (!this.broken && this.running < this.concurrency && this.waiting.length > 0) this.run(this.waiting.splice(0, this.options.maxSize));
  }

  private run(items: Item[]): void {
    this.running++;
    this.runningItems += items.length;
    const batch: RunningBatch = { items, cancellation: new Cancellation(), started: performance.now() };
    for (const item of items) item.batch = batch;
    this.events.emit('batch', items.length);
    let returned: InferenceResult[] | Promise<InferenceResult[]>;
    const settle = (outcome: { results: unknown } | { thrown: unknown }) => {
      this.running--;
      this.runningItems -= items.length;
      for (const item of items) item.stopListening?.();
      this.answer(batch, outcome);
      this.schedule();
    };
    try {
      returned = this.batchFunction(
        items.map((item) => item.inputs),
        contextOf(batch),
      );
    } catch (thrown) {
      settle({ thrown });
      return;
    }
    Promise.resolve(returned).then(
      (results) => settle({ results }),
      (thrown: unknown) => settle({ thrown }),
    );
  }

  private answer(batch: RunningBatch, outcome: { results: unknown } | { thrown: unknown }): void {
    const { items } = batch;
    const canceled = (item: Item) => item.cancellation?.aborted === true;
    if ('thrown' in outcome) {
      // Every item canceled and the model stopped: it honoured the cancel; otherwise a throw fails the batch.
      const error = batch.cancellation.aborted
        ? new PredictionCanceledError('the prediction was canceled; the model stopped')
        : new InferenceThrewError(outcome.thrown);
      if (error instanceof InferenceThrewError) {
        this.broken = true;
        if (this.afterThrow === 'refuse') {
          const refusal = new AiIntegrationError('AI_ERR_NOT_READY', 'the model failed and the process is restarting; retry shortly');
          for (const waiting of this.waiting.splice(0)) waiting.reject(refusal);
        }
      }
      for (const item of items) item.reject(error);
      return;
    }
    const { results } = outcome;
    if (!Array.isArray(results) || results.length !== items.length) {
      const got = Array.isArray(results) ? plural(results.length, 'result') : describeType(results);
      const error = new AiIntegrationError(
        'AI_ERR_INVALID_RESULT',
        `the batch function must return an array of one result per input (${plural(items.length, 'input')} in this batch, in order), got ${got}`,
      );
      for (const item of items)
        canceled(item) ? item.reject(new PredictionCanceledError('the prediction was canceled; the model stopped')) : item.reject(error);
      return;
    }
    const predictMs = performance.now() - batch.started;
    for (const [index, item] of items.entries()) {
      if (canceled(item)) item.reject(new PredictionCanceledError('the prediction was canceled; the model stopped'));
      else {
        item.onPredictTime?.(predictMs);
        item.resolve(results[index] as InferenceResult);
      }
    }
  }
}
