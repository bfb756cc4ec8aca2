/**
 * `ai-integration/queue`: a producer's client for a queue that MODE=queue workers consume. A
 * subpath of its own, so that `ai-integration` itself never loads BullMQ.
 * @example
 * const client = queueClient({ redisUrl: 'redis://localhost:6379', queueName: 'image-stats', schema });
 * const { output } = await client.predict({ image: jpegBuffer });
 */
import { Job, Queue, type QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { AiIntegrationError } from '../errors.js';
import type { PredictionEnvelope } from '../http/predict.js';
import type { Inputs, InputsSchema } from '../types.js';
import { errorOfFailedJob, jobData } from './envelope.js';
import { queueEventsFromNow } from './queue-events.js';

/** A finished job's answer: the native API's envelope. */
export type QueueResult = PredictionEnvelope;

export interface QueueClientOptions<S extends InputsSchema> {
  /** The queue's Redis: redis://host:port. */
  redisUrl: string;
  /** The queue's name (the workers' QUEUE_NAME). */
  queueName: string;
  /** The model's inputs schema, to type `inputs` (optional). */
  schema?: S;
  /** Tries of a job whose inference threw or whose worker died (the workers' QUEUE_ATTEMPTS bounds it too; default 1). */
  attempts?: number;
}

export interface QueueClient<S extends InputsSchema> {
  /** Adds a job and waits for its answer; a failed job rejects with the worker's error (its code kept). */
  predict(inputs: Inputs<S>, options?: { timeoutMs?: number }): Promise<QueueResult>;
  /** Adds a job and returns its id at once. */
  submit(inputs: Inputs<S>): Promise<string>;
  /** Waits for the answer of a job submitted earlier (here or elsewhere). */
  result(id: string, options?: { timeoutMs?: number }): Promise<QueueResult>;
  close(): Promise<void>;
}

/** A client for the queue `queueName` on `redisUrl`; binary inputs (Buffers) travel as base64. */
export function queueClient<S extends InputsSchema = InputsSchema>(options: QueueClientOptions<S>): QueueClient<S> {
  const redis = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue(options.queueName, { connection: redis });
  let events: Promise<QueueEvents> | undefined;
  const listening = () => (events ??= queueEventsFromNow(queue, redis));

  const submit = async (inputs: Inputs<S>) => {
    const job = await queue.add('predict', jobData(inputs as Record<string, unknown>), {
      attempts: options.attempts ?? 1,
      removeOnComplete: { age: 3600, count: 10_000 },
      removeOnFail: { age: 24 * 3600, count: 10_000 },
    });
    return job.id!;
  };

  const result = async (id: string, wait: { timeoutMs?: number } = {}) => {
    const queueEvents = await listening();
    const job = await Job.fromId(queue, id);
    if (!job)
      throw new AiIntegrationError(
        'AI_ERR_NOT_FOUND',
        `no job has the ID ${JSON.stringify(id)} in the queue ${JSON.stringify(options.queueName)} (unknown, or removed)`,
      );
    try {
      return (await job.waitUntilFinished(queueEvents, wait.timeoutMs)) as QueueResult;
    } catch (error) {
      const message = (error as Error).message;
      if (/timed out before finishing/.test(message))
        throw new AiIntegrationError('AI_ERR_TIMEOUT', `the job ${id} did not finish within ${wait.timeoutMs} ms`);
      throw errorOfFailedJob(message);
    }
  };

  return {
    submit,
    result,
    // Listening starts before the job is added, so its end cannot be missed.
    predict: async (inputs, wait) => {
      await listening();
      return result(await submit(inputs), wait);
    },
    close: async () => {
      await (await events?.catch(() => undefined))?.close();
      await queue.close();
      redis.disconnect();
    },
  };
}
