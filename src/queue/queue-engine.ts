import { Queue, type QueueEvents, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { Cancellation } from '../engine/cancellation.js';
import { AiIntegrationError, PredictionCanceledError } from '../errors.js';
import { EngineBase } from '../engine/engine-base.js';
import type { EngineLimits, InferOptions, InferenceResult, Logger, OutputDescription } from '../types.js';
import { errorOfFailedJob, jobData, predictTimeOfEnvelope, resultOfEnvelope } from './envelope.js';
import { queueEventsFromNow } from './queue-events.js';
import { connectRedis, type TrackedRedis } from './redis-connection.js';

// How often the gateway reads how many workers consume the queue (for readiness).
const workersCheckMs = 2000;

/**
 * The engine of a gateway (QUEUE_BACKEND): it runs no model. Each inference becomes a job on the
 * queue that MODE=queue workers consume, and its answer is the job's result, so that every mode's
 * API (the page, /predict, async predictions, KServe, Cog...) serves a fleet. Past MAX_QUEUE
 * waiting jobs a new one is refused (429); readiness needs Redis and at least one worker.
 */
export class QueueEngine extends EngineBase {
  // Nothing a request does can break a model here (the models run in the workers), so the mode
  // keeps serving; the timeout counts the wait for a worker, so it is this engine's to keep.
  readonly capabilities = { restartsInPlace: true, enforcesTimeout: true, schedulesOwnWork: false };
  private workerCount = 0;
  private maxQueue = Number.POSITIVE_INFINITY;
  private timeoutMs = 0;
  private readonly timer: NodeJS.Timeout;
  /** The model's output description, as its workers published it: which fields of a structured output are files. */
  outputDescription: OutputDescription | undefined;

  private constructor(
    private readonly connection: TrackedRedis,
    private readonly queue: Queue,
    private readonly queueEvents: QueueEvents,
    readonly queueName: string,
  ) {
    super();
    this.timer = setInterval(() => void this.checkWorkers(), workersCheckMs).unref();
  }

  static async open(redisUrl: string, queueName: string, log: Logger): Promise<QueueEngine> {
    let engine: QueueEngine | undefined;
    const connection = connectRedis(redisUrl, log, () => void engine?.checkWorkers());
    const queue = new Queue(queueName, { connection: connection.redis });
    engine = new QueueEngine(connection, queue, await queueEventsFromNow(queue, connection.redis), queueName);
    void engine.checkWorkers(); // Redis may have connected while the events were opened
    return engine;
  }

  /** The Redis connection, for reading what the workers published. */
  get redis(): Redis {
    return this.connection.redis;
  }

  override configure(limits: EngineLimits): { prefetch: number } {
    // The queue is the queue: every request goes to Redis at once, and MAX_QUEUE bounds the jobs
    // waiting there; the timeout counts the wait for a worker too.
    if (limits.maxQueue !== undefined) this.maxQueue = limits.maxQueue;
    this.timeoutMs = limits.inferenceTimeoutMs;
    return { prefetch: 1_000_000 };
  }

  override readiness(): { ready: boolean; reason?: string } {
    if (!this.connection.connected) return { ready: false, reason: `not connected to Redis (${this.connection.lastError})` };
    if (this.workerCount === 0)
      return { ready: false, reason: `no worker consumes the queue ${JSON.stringify(this.queueName)} (start containers with MODE=queue)` };
    return { ready: true };
  }

  async infer(inputs: Record<string, unknown>, options?: InferOptions): Promise<InferenceResult> {
    const cancellation = Cancellation.of(options?.signal);
    if (cancellation?.aborted) throw new PredictionCanceledError('the prediction was canceled before it ran');
    const waiting = await this.waitingCount();
    if (waiting >= this.maxQueue)
      throw new AiIntegrationError(
        'AI_ERR_QUEUE_FULL',
        `${waiting} jobs wait in the queue ${JSON.stringify(this.queueName)} (MAX_QUEUE is ${this.maxQueue}); retry later`,
      );
    // Finished jobs are kept a while (for a look with BullMQ's tools), then go.
    const job: Job = await this.queue.add('predict', jobData(inputs), {
      removeOnComplete: { age: 3600, count: 10_000 },
      removeOnFail: { age: 24 * 3600, count: 10_000 },
    });
    // A job still waiting is taken off the queue, and the request answered at once; one a
    // worker runs cannot be stopped from here (the cancel is then reported as not stopped).
    let taken!: (error: Error) => void;
    const removed = new Promise<never>((_, reject) => (taken = reject));
    removed.catch(() => {});
    const stopListening = cancellation?.onCancel(() => {
      void this.removeIfWaiting(job).then(
        (wasWaiting) => wasWaiting && taken(new PredictionCanceledError('the prediction was canceled before a worker took its job')),
      );
    });
    try {
      const envelope: unknown = await Promise.race([job.waitUntilFinished(this.queueEvents, this.timeoutMs > 0 ? this.timeoutMs : undefined), removed]);
      if (cancellation?.aborted) throw new PredictionCanceledError('the prediction was canceled; its job had already run');
      const result = resultOfEnvelope(envelope, this.outputDescription);
      // The worker timed the model; the gateway's own clock counts the job's wait on the queue too.
      const predictMs = predictTimeOfEnvelope(envelope);
      if (predictMs !== undefined) options?.onPredictTime?.(predictMs);
      return result;
    } catch (error) {
      if (error instanceof AiIntegrationError) throw error;
      const message = (error as Error).message;
      if (/timed out before finishing/.test(message))
        throw new AiIntegrationError(
          'AI_ERR_TIMEOUT',
          `the job did not finish within ${this.timeoutMs} ms (INFERENCE_TIMEOUT_MS), waiting for a worker included`,
        );
      throw errorOfFailedJob(message);
    } finally {
      stopListening?.();
    }
  }

  // The queue's length costs a Redis round trip. Far from MAX_QUEUE, a reading up to 50 ms old,
  // plus the jobs this gateway added since, is enough to know there is room; near it (past half),
  // every request reads it afresh, so that the 429 is exact where it matters.
  private waiting: { count: number; readAt: number; addedSince: number } | undefined;
  private async waitingCount(): Promise<number> {
    const now = performance.now();
    const known = this.waiting;
    if (known && now - known.readAt <= 50 && known.count + known.addedSince < this.maxQueue / 2) return known.count + known.addedSince++;
    const count = await this.queue.getWaitingCount();
    this.waiting = { count, readAt: now, addedSince: 1 };
    return count;
  }

  private async removeIfWaiting(job: Job): Promise<boolean> {
    try {
      if ((await job.getState()) !== 'waiting') return false;
      await job.remove();
      return true;
    } catch {
      return false; // taken by a worker meanwhile: it runs to its end
    }
  }

  private async checkWorkers(): Promise<void> {
    if (!this.connection.connected) return;
    try {
      this.workerCount = (await this.queue.getWorkers()).length;
    } catch {
      // the next check will tell
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.queueEvents.close();
    await this.queue.close();
    this.connection.redis.disconnect();
  }
}
