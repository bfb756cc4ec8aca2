import { AiIntegrationError } from '../../src/errors.js';
import type { Engine, InferenceResult } from '../../src/types.js';

/** What one scheduled inference gives back, with where its time went. */
export interface ScheduledOutcome {
  result: InferenceResult;
  queueMs: number;
  predictMs: number;
}

interface Job {
  inputs: Record<string, unknown>;
  enqueued: number;
  resolve: (outcome: ScheduledOutcome) => void;
  reject: (error: unknown) => void;
  clientGone: (() => boolean) | undefined;
}

export interface SchedulerLimits {
  concurrency: number;
  maxQueue: number;
  /** 0 for no timeout. */
  inferenceTimeoutMs: number;
}

/**
 * Runs inferences through the engine with bounded concurrency and a bounded queue. A request
 * past the queue is refused at once (429); a request whose client has gone is skipped when its
 * turn comes; an inference past its timeout answers 504 but keeps its slot until the model returns,
 * so the model never runs more inferences at once than allowed.
 */
export class InferenceScheduler {
  private running = 0;
  private readonly queue: Job[] = [];
  private accepting = true;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly engine: Engine,
    private readonly limits: SchedulerLimits,
  ) {}

  get queueDepth(): number {
    return this.queue.length;
  }

  get inFlight(): number {
    return this.running;
  }

  /**
   * Queues an inference; rejects with our errors for a full queue, a timeout or a shutdown.
   * `clientGone` is asked when the job's turn comes: a client that left is not run for.
   */
  submit(inputs: Record<string, unknown>, clientGone?: () => boolean): Promise<ScheduledOutcome> {
    if (!this.accepting) return Promise.reject(new AiIntegrationError('AI_ERR_NOT_READY', 'the server is shutting down and takes no new work'));
    if (this.running >= this.limits.concurrency && this.queue.length >= this.limits.maxQueue) {
      return Promise.reject(new AiIntegrationError('AI_ERR_QUEUE_FULL', `the queue is full (${this.limits.maxQueue} requests waiting); retry later`));
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ inputs, enqueued: performance.now(), resolve, reject, clientGone });
      this.pump();
    });
  }

  /** Stops taking work; queued and running inferences still finish. */
  stopAccepting(): void {
    this.accepting = false;
  }

  /** Refuses every queued request with `error` (after the model threw, no one should run on it). */
  rejectQueued(error: unknown): void {
    for (const job of this.queue.splice(0)) job.reject(error);
    this.notifyIfIdle();
  }

  /** Resolves when nothing runs and nothing waits. */
  whenIdle(): Promise<void> {
    if (this.running === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    while (this.running < this.limits.concurrency && this.queue.length > 0) {
      const job = this.queue.shift()!;
      if (job.clientGone?.()) job.reject(new AiIntegrationError('AI_ERR_MALFORMED_INPUT', 'the client closed the request before it ran'));
      else this.start(job);
    }
    this.notifyIfIdle();
  }

  private start(job: Job): void {
    this.running++;
    const started = performance.now();
    const queueMs = started - job.enqueued;
    let settled = false;
    const timer =
      this.limits.inferenceTimeoutMs > 0
        ? setTimeout(() => {
            settled = true;
            job.reject(new AiIntegrationError('AI_ERR_TIMEOUT', `inference took longer than ${this.limits.inferenceTimeoutMs} ms (INFERENCE_TIMEOUT_MS)`));
          }, this.limits.inferenceTimeoutMs)
        : undefined;
    this.engine.infer(job.inputs).then(
      (result) => {
        if (!settled) job.resolve({ result, queueMs, predictMs: performance.now() - started });
      },
      (error: unknown) => {
        if (!settled) job.reject(error);
      },
    ).finally(() => {
      clearTimeout(timer);
      settled = true;
      this.running--;
      this.pump();
      this.notifyIfIdle();
    });
  }

  private notifyIfIdle(): void {
    if (this.running !== 0 || this.queue.length !== 0) return;
    for (const waiter of this.idleWaiters.splice(0)) waiter();
  }
}
