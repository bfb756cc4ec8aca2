import { Cancellation } from '../engine/cancellation.js';
import { holdGathered, type InputsHold } from '../inputs/gather-buffer.js';
import { AiIntegrationError, InferenceTimeoutError, PredictionCanceledError, inferenceTimeoutName } from '../errors.js';
import { plural } from '../plural.js';
import { TimeoutSweep } from './timeout-sweep.js';
import type { Engine, InferenceResult } from '../types.js';

/** What one scheduled inference gives back, with where its time went. */
export interface ScheduledOutcome {
  result: InferenceResult;
  /** The time it waited: for a slot here, then inside the engine (a worker's queue, the trip to it) until the model started. */
  queueMs: number;
  /** The time the model spent on it, as the engine measured it where the model runs. */
  predictMs: number;
}

interface Job {
  inputs: Record<string, unknown>;
  /** When a running job times out; set when it starts. */
  deadline: number | undefined;
  timedOut: boolean;
  enqueued: number;
  /** How long the model ran it, when the engine says (see InferOptions.onPredictTime). */
  predictMs: number | undefined;
  resolve: (outcome: ScheduledOutcome) => void;
  reject: (error: unknown) => void;
  cancellation: Cancellation | undefined;
  stopListening: (() => void) | undefined;
  onStart: (() => void) | undefined;
  onChunk: ((chunk: InferenceResult) => void) | undefined;
  onLog: ((text: string) => void) | undefined;
  onPredictTime: ((ms: number) => void) | undefined;
  /** The reservation whose place it holds, if any: the place goes back to it when the job leaves. */
  reservation: QueueReservation | undefined;
  /** Its inputs' reused gather buffers (under the supervisor), held while it waits here: the engine holds them once it has the job. */
  gathered: InputsHold | undefined;
}

/** What a submitted inference may carry: the signal that cancels it, and who to tell when it starts. */
export interface SubmitOptions {
  /** Canceling it drops the job from the queue, or, once it runs, reaches the model (its `signal`). */
  signal?: AbortSignal | Cancellation;
  /** Called when the job leaves the queue for the engine. */
  onStart?: () => void;
  /** Takes a streamed result's chunks as they come (`Engine.infer`'s `onChunk`). */
  onChunk?: (chunk: InferenceResult) => void;
  /** Takes the model's log lines for this inference (`Engine.infer`'s `onLog`). */
  onLog?: (text: string) => void;
  /** Told the model's time once it returns, whatever it returned (a failure it reported has its time too). */
  onPredictTime?: (ms: number) => void;
  /** A place taken for it beforehand (`AdmissionQueue.reserve`): no bound refuses it while the reservation has one free. */
  reservation?: Reservation;
}

/**
 * Places held in the admission queue for the items of one request, taken all at once
 * (`AdmissionQueue.reserve`), so that a request of several items is admitted whole or not at all:
 * none of its items is refused after others ran. Pass it with each item's `submit`; a place an
 * item leaves (answered, canceled) serves the request's next item.
 */
export interface Reservation {
  /** Gives back the places no item holds now (call it once the request is done); items still running keep theirs until they leave. */
  release(): void;
}

class QueueReservation implements Reservation {
  /** Items holding one of its places now (queued or running). */
  inUse = 0;
  open = true;

  constructor(
    readonly places: number,
    private readonly onRelease: (unused: number) => void,
  ) {}

  release(): void {
    if (!this.open) return;
    this.open = false;
    this.onRelease(this.places - this.inUse);
  }
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
 * so the model never runs more inferences at once than allowed. (An engine that enforces the
 * timeout itself, the supervisor's, gets 0 here: it replaces the worker and frees the slot.)
 */
export class AdmissionQueue {
  private running = 0;
  /** Places reserved and not held by a job now: taken from the bound as if they were queued. */
  private reserved = 0;
  /** Running inferences past their timeout: answered with 504, the model has not returned. */
  private stuckCount = 0;
  private readonly queue: Job[] = [];
  private accepting = true;
  private idleWaiters: (() => void)[] = [];
  // An array, not a Set: a long-lived Set every job enters and leaves keeps jobs in the old copies
  // of its table until the next mark-compact (see PendingRequests), so they would all be promoted.
  private readonly runningJobs: Job[] = [];
  private readonly sweeper = new TimeoutSweep(
    () => this.limits.inferenceTimeoutMs,
    () => this.sweep(),
  );

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

  /** How many inferences ran past their timeout and have not returned: the model is stuck. */
  get stuck(): number {
    return this.stuckCount;
  }

  /**
   * Queues an inference; rejects with our errors for a full queue, a timeout, a shutdown or a
   * cancel. An aborted `signal` takes a queued job out of the queue at once; a running one gets
   * the signal in the engine, which stops the model (or says it could not).
   */
  submit(inputs: Record<string, unknown>, options: SubmitOptions = {}): Promise<ScheduledOutcome> {
    const { onStart, onChunk, onLog, onPredictTime } = options;
    const held = options.reservation instanceof QueueReservation && options.reservation.open && options.reservation.inUse < options.reservation.places;
    const refusal = held && this.accepting ? undefined : this.refusal();
    if (refusal) return Promise.reject(refusal);
    const cancellation = Cancellation.of(options.signal);
    if (cancellation?.aborted) return Promise.reject(new PredictionCanceledError('the prediction was canceled before it ran'));
    const reservation = held ? (options.reservation as QueueReservation) : undefined;
    if (reservation) {
      reservation.inUse++;
      this.reserved--;
    }
    return new Promise((resolve, reject) => {
      // The job is made whole: nothing made after it is written into it (see SupervisedEngine.infer
      // for what that costs when V8 allocates it in the old generation).
      let stopListening: (() => void) | undefined;
      const job: Job = {
        inputs,
        enqueued: performance.now(),
        predictMs: undefined,
        deadline: undefined,
        timedOut: false,
        resolve,
        reject,
        cancellation,
        stopListening: cancellation ? () => stopListening?.() : undefined,
        onStart,
        onChunk,
        onLog,
        onPredictTime,
        reservation,
        gathered: holdGathered(inputs),
      };
      if (cancellation) {
        stopListening = cancellation.onCancel(() => {
          const index = this.queue.indexOf(job);
          if (index === -1) return; // running: the engine has the cancellation
          this.queue.splice(index, 1);
          this.leave(job);
          job.gathered?.release();
          job.reject(new PredictionCanceledError('the prediction was canceled before it ran'));
          this.notifyIfIdle();
        });
      }
      this.queue.push(job);
      this.pump();
    });
  }

  /** The error `submit` would refuse a new job with now (a full queue, a shutdown), if any. */
  refusal(): AiIntegrationError | undefined {
    if (!this.accepting) return new AiIntegrationError('AI_ERR_NOT_READY', 'the server is shutting down and takes no new work');
    if (this.room() <= 0) {
      return new AiIntegrationError('AI_ERR_QUEUE_FULL', `the queue is full (${plural(this.limits.maxQueue, 'request')} waiting); retry later`);
    }
    return undefined;
  }

  /**
   * Takes `count` places at once for the items of one request, or none: 429 (AI_ERR_QUEUE_FULL)
   * when fewer are free now, 503 while shutting down, before any item is submitted, so no item
   * runs for a request answered 429. Release it once the request is done.
   * @example const reservation = queue.reserve(items.length, 'instances'); try { ... } finally { reservation.release(); }
   */
  reserve(count: number, items: string): Reservation {
    if (!this.accepting) throw new AiIntegrationError('AI_ERR_NOT_READY', 'the server is shutting down and takes no new work');
    const room = Math.max(0, this.room());
    if (count > room) {
      throw new AiIntegrationError(
        'AI_ERR_QUEUE_FULL',
        `the queue has room for ${room} of the ${count} ${items} of this request now (all are admitted together or none); retry later`,
      );
    }
    this.reserved += count;
    return new QueueReservation(count, (unused) => {
      this.reserved -= unused;
    });
  }

  // Places free under the bound: CONCURRENCY (plus what the engine takes ahead) running, MAX_QUEUE
  // waiting, less what reservations hold. The pump keeps the queue empty while a slot is free, so
  // this is the old rule (every slot taken and the queue full) when nothing is reserved.
  private room(): number {
    return this.limits.concurrency + this.limits.maxQueue - this.running - this.queue.length - this.reserved;
  }

  // A job is done with its place: a reservation still open gets it back for its next item.
  private leave(job: Job): void {
    const { reservation } = job;
    if (!reservation) return;
    job.reservation = undefined;
    reservation.inUse--;
    if (reservation.open) this.reserved++;
  }

  /** Stops taking work; queued and running inferences still finish. */
  stopAccepting(): void {
    this.accepting = false;
  }

  /** Refuses every queued request with `error` (after the model threw, no one should run on it). */
  rejectQueued(error: unknown): void {
    for (const job of this.queue.splice(0)) {
      this.leave(job);
      job.gathered?.release();
      job.reject(error);
    }
    this.notifyIfIdle();
  }

  /** Resolves when nothing runs and nothing waits (a stuck inference is not waited for: it has had its answer). */
  whenIdle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    while (this.running < this.limits.concurrency && this.queue.length > 0) {
      this.start(this.queue.shift()!);
    }
    this.notifyIfIdle();
  }

  private start(job: Job): void {
    this.running++;
    const started = performance.now();
    const { inferenceTimeoutMs } = this.limits;
    if (inferenceTimeoutMs > 0) {
      job.deadline = started + inferenceTimeoutMs;
      this.runningJobs.push(job);
      this.sweeper.start();
    }
    job.onStart?.();
    // An engine with a queue of its own (the supervisor's workers, a batch model) says how long the
    // model ran it; the rest of the time since it was submitted is its wait.
    const inferred = this.engine.infer(job.inputs, {
      signal: job.cancellation,
      onChunk: job.onChunk,
      onLog: job.onLog,
      onPredictTime: (ms) => (job.predictMs = ms),
    });
    // The engine holds the buffers now, for as long as it needs them.
    job.gathered?.release();
    inferred
      .then(
        (result) => {
          if (job.timedOut) return;
          const finished = performance.now();
          const predictMs = Math.min(job.predictMs ?? finished - started, finished - job.enqueued);
          job.onPredictTime?.(predictMs);
          // Its place goes back before the answer, so that the request's next item finds it.
          this.leave(job);
          job.resolve({ result, queueMs: finished - job.enqueued - predictMs, predictMs });
        },
        (error: unknown) => {
          if (job.timedOut) return;
          this.leave(job);
          job.reject(error);
        },
      )
      .finally(() => {
        job.stopListening?.();
        // A timed-out inference keeps its slot until the model really returns.
        if (job.timedOut) this.stuckCount--;
        const index = this.runningJobs.indexOf(job);
        if (index !== -1) this.runningJobs.splice(index, 1);
        if (this.runningJobs.length === 0) this.sweeper.stop();
        this.running--;
        this.leave(job);
        this.pump();
      });
  }

  private sweep(): void {
    const now = performance.now();
    for (const job of this.runningJobs) {
      if (!job.timedOut && job.deadline !== undefined && now >= job.deadline) {
        job.timedOut = true;
        this.stuckCount++;
        job.reject(new InferenceTimeoutError({ ms: this.limits.inferenceTimeoutMs, name: inferenceTimeoutName }));
      }
    }
    this.notifyIfIdle();
  }

  private isIdle(): boolean {
    return this.running === this.stuckCount && this.queue.length === 0;
  }

  private notifyIfIdle(): void {
    if (!this.isIdle()) return;
    for (const waiter of this.idleWaiters.splice(0)) waiter();
  }
}
