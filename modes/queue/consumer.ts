import { DelayedError, Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { AiIntegrationError } from '../../src/errors.js';
import type { BackgroundWork, HttpCore } from '../../src/http/protocol.js';
import { outputValue } from '../../src/http/predict.js';
import { describeType } from '../../src/schema.js';
import type { QueueSettings } from '../../src/settings-parts/queue.js';
import { modelRecordKey, type ModelRecord } from '../../src/queue/model-record.js';
import { runtimeVersion } from '../../src/version.js';
import { jobFailure } from './job-outcome.js';

/** What a job's data must be: the inputs object in the JSON form every mode reads. */
interface JobData {
  inputs: Record<string, unknown>;
}

/** A job's return value: the native API's envelope. */
export interface JobResult {
  id: string;
  status: 'succeeded';
  output: unknown;
  content_type: string;
  metrics: { predict_time_ms: number; queue_time_ms: number };
}

// A lost Redis is retried for ever, with back-off from 50 ms to 5 s: a worker never gives up on
// its queue, and readiness says it is not connected meanwhile.
const reconnectDelay = (attempt: number) => Math.min(5000, 50 * 2 ** Math.min(attempt, 7));

/**
 * The consumer of MODE=queue: a BullMQ Worker on QUEUE_NAME whose jobs go through the core (the
 * same conversion, queue, limits, timeouts and supervisor restarts as an HTTP request), and a
 * Queue handle for the counts the metrics show. Jobs are taken as the model can run them: the
 * model's CONCURRENCY (times its batch size) plus one round waiting, so that other workers of the
 * fleet take the rest.
 */
export async function startConsumer(core: HttpCore, settings: QueueSettings): Promise<BackgroundWork> {
  const { context } = core;
  const { log } = context;
  const connection = new Redis(settings.redisUrl, { maxRetriesPerRequest: null, retryStrategy: reconnectDelay, lazyConnect: false });
  let connected = false;
  let lastError = 'connecting to Redis';
  // The model's schema and description, for gateways (MODE=http with QUEUE_BACKEND), written on
  // every connect so that a Redis that lost its data gets it again.
  const record: ModelRecord = {
    schema: context.schema,
    name: context.modelName,
    version: context.modelVersion,
    description: context.modelDescription,
    ...(context.output ? { output: context.output } : {}),
    ...(context.batch ? { batch: context.batch } : {}),
    runtime: runtimeVersion,
  };
  connection.on('ready', () => {
    if (!connected) log.info(`queue: connected to Redis, consuming ${JSON.stringify(settings.queueName)}`);
    connected = true;
    connection.set(modelRecordKey(settings.queueName), JSON.stringify(record)).catch((error: Error) => log.warn(`queue: could not publish the model's schema: ${error.message}`));
  });
  connection.on('close', () => {
    if (connected) log.warn('queue: the Redis connection closed; reconnecting with back-off');
    connected = false;
  });
  connection.on('error', (error: Error) => {
    // ioredis reports every failed reconnect; one line per new reason is enough.
    if (error.message !== lastError) log.warn(`queue: Redis: ${error.message}`);
    lastError = error.message;
  });

  // What the model runs at once (CONCURRENCY inferences or batches, in each of WORKERS model
  // processes), plus one round waiting.
  const batchSize = context.batch?.maxSize ?? 1;
  const processes = context.engine.workers?.().length ?? 1;
  const concurrency = context.settings.http.concurrency * batchSize * processes + batchSize;
  const worker = new Worker<JobData, JobResult>(settings.queueName, (job, token) => processJob(core, settings, job, token), {
    connection,
    concurrency,
    maxStalledCount: settings.maxStalledCount,
    lockDuration: settings.lockDurationMs,
    stalledInterval: settings.lockDurationMs,
    autorun: true,
  });
  worker.on('error', (error: Error) => {
    if (error.message !== lastError) log.warn(`queue: ${error.message}`);
    lastError = error.message;
  });
  const counts = new Queue(settings.queueName, { connection });
  core.metrics.registerQueue(async () => (connected ? await counts.getJobCounts('waiting', 'active', 'failed', 'completed', 'delayed') : {}));

  return {
    async stop() {
      // Takes no more jobs and waits for the running ones (their answers are written to Redis).
      await worker.close();
      await counts.close();
      connection.disconnect();
    },
    readiness: () => (connected ? { ready: true } : { ready: false, reason: `not connected to Redis (${lastError})` }),
  };
}

async function processJob(core: HttpCore, settings: QueueSettings, job: Job<JobData, JobResult>, token: string | undefined): Promise<JobResult> {
  const data = job.data as unknown;
  const inputs = data !== null && typeof data === 'object' && !Array.isArray(data) ? (data as { inputs?: unknown }).inputs : undefined;
  try {
    if (inputs === null || typeof inputs !== 'object' || Array.isArray(inputs)) {
      const got = inputs !== undefined ? `"inputs" as ${describeType(inputs)}` : data !== null && typeof data === 'object' && !Array.isArray(data) ? `an object without "inputs" (keys: ${Object.keys(data).slice(0, 5).join(', ') || 'none'})` : describeType(data);
      throw new AiIntegrationError('AI_ERR_MALFORMED_INPUT', `a job's data must be {"inputs": {...}}, got ${got}`);
    }
    const converted = await core.convert(inputs as Record<string, unknown>, 'data');
    checkSize(converted, core.context.settings.maxInputBytes);
    const prediction = await core.run(converted);
    return {
      id: job.id ?? '',
      status: 'succeeded',
      output: outputValue(prediction),
      content_type: prediction.result['content-type'],
      metrics: { predict_time_ms: round(prediction.predictMs), queue_time_ms: round(prediction.queueMs) },
    };
  } catch (error) {
    const failure = jobFailure(error, job.attemptsMade, settings.attempts);
    if (failure.notRun) {
      // Back to the queue at once, its attempts untouched, for another worker (or this one's successor).
      await job.moveToDelayed(Date.now(), token);
      throw new DelayedError(failure.message);
    }
    throw failure.final ? new UnrecoverableError(failure.message) : new Error(failure.message);
  }
}

// A job's data arrives parsed; its size is counted on what the model would get (binary inputs
// decoded, every string, nested ones too, and 8 bytes for any other value), against the same
// MAX_INPUT_BYTES as a request body. The nesting is bounded already (MAX_INPUT_DEPTH).
function checkSize(inputs: Record<string, unknown>, limit: number): void {
  let total = 0;
  const count = (name: string, value: unknown): void => {
    if (Buffer.isBuffer(value)) total += value.length;
    else if (typeof value === 'string') total += Buffer.byteLength(value);
    else if (value !== null && typeof value === 'object') for (const item of Object.values(value)) count(name, item);
    else total += 8;
    if (total > limit) throw new AiIntegrationError('AI_ERR_INPUT_TOO_LARGE', `the job's inputs are larger than MAX_INPUT_BYTES (${limit} bytes), at ${JSON.stringify(name)}`);
  };
  for (const [name, value] of Object.entries(inputs)) count(name, value);
}

const round = (milliseconds: number) => Math.round(milliseconds * 10) / 10;
