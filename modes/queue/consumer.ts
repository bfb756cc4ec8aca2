import { DelayedError, Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import { AiIntegrationError } from '../../src/errors.js';
import type { BackgroundWork, HttpCore } from '../../src/http/protocol.js';
import { predictionEnvelope, type PredictionEnvelope } from '../../src/http/predict.js';
import { connectRedis } from '../../src/queue/redis-connection.js';
import { describeType } from '../../src/inputs/schema.js';
import type { QueueSettings } from '../../src/settings-parts/queue.js';
import { modelRecordKey, type ModelRecord } from '../../src/queue/model-record.js';
import { runtimeVersion } from '../../src/version.js';
import { jobFailure } from './job-outcome.js';

/** What a job's data must be: the inputs object in the JSON form every mode reads. */
interface JobData {
  inputs: Record<string, unknown>;
}

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
  let announced = false;
  const tracked = connectRedis(settings.redisUrl, log, (redis) => {
    if (!announced) log.info(`queue: connected to Redis, consuming ${JSON.stringify(settings.queueName)}`);
    announced = true;
    redis
      .set(modelRecordKey(settings.queueName), JSON.stringify(record))
      .catch((error: Error) => log.warn(`queue: could not publish the model's schema: ${error.message}`));
  });
  const connection = tracked.redis;

  const batchSize = context.batch?.maxSize ?? 1;
  const processes = Math.max(1, context.engine.workers().length);
  const concurrency = context.settings.http.concurrency * batchSize * processes + batchSize;
  const worker = new Worker<JobData, PredictionEnvelope>(settings.queueName, (job, token) => processJob(core, settings, job, token), {
    connection,
    concurrency,
    maxStalledCount: settings.maxStalledCount,
    lockDuration: settings.lockDurationMs,
    stalledInterval: settings.lockDurationMs,
    autorun: true,
  });
  // BullMQ repeats the connection's errors here: one line per new reason, as for the connection.
  let lastWorkerError = '';
  worker.on('error', (error: Error) => {
    if (error.message !== lastWorkerError && error.message !== tracked.lastError) log.warn(`queue: ${error.message}`);
    lastWorkerError = error.message;
  });
  const counts = new Queue(settings.queueName, { connection });
  core.metrics.registerQueue(async () => (tracked.connected ? await counts.getJobCounts('waiting', 'active', 'failed', 'completed', 'delayed') : {}));

  return {
    async stop() {
      // Takes no more jobs and waits for the running ones (their answers are written to Redis).
      // Without Redis, BullMQ's close would wait for commands held until Redis is back (8 s and
      // more: until SHUTDOWN_TIMEOUT_MS): nothing can be written, so the worker lets go at once.
      // A job still running when Redis went away keeps its lock until it lapses; then another
      // worker takes it again (BullMQ's stalled jobs).
      if (tracked.connected) {
        const lost = new Promise<void>((resolve) => connection.once('close', resolve));
        await Promise.race([Promise.all([worker.close(), counts.close()]), lost]);
      } else {
        await Promise.all([worker.close(true), counts.close()]);
      }
      // Fails what still waits on the shared connection (a close cut short when Redis went away meanwhile).
      connection.disconnect();
    },
    readiness: () => (tracked.connected ? { ready: true } : { ready: false, reason: `not connected to Redis (${tracked.lastError})` }),
  };
}

async function processJob(
  core: HttpCore,
  settings: QueueSettings,
  job: Job<JobData, PredictionEnvelope>,
  token: string | undefined,
): Promise<PredictionEnvelope> {
  const data = job.data as unknown;
  const inputs = data !== null && typeof data === 'object' && !Array.isArray(data) ? (data as { inputs?: unknown }).inputs : undefined;
  try {
    if (inputs === null || typeof inputs !== 'object' || Array.isArray(inputs)) {
      const got =
        inputs !== undefined
          ? `"inputs" as ${describeType(inputs)}`
          : data !== null && typeof data === 'object' && !Array.isArray(data)
            ? `an object without "inputs" (keys: ${Object.keys(data).slice(0, 5).join(', ') || 'none'})`
            : describeType(data);
      throw new AiIntegrationError('AI_ERR_MALFORMED_INPUT', `a job's data must be {"inputs": {...}}, got ${got}`);
    }
    const converted = await core.convert(inputs as Record<string, unknown>, 'data');
    checkSize(converted, core.context.settings.maxInputBytes);
    // The model's log lines (context.log) become the job's logs (BullMQ's Job.log, getJobLogs).
    const onLog = (text: string) => void job.log(text.endsWith('\n') ? text.slice(0, -1) : text).catch(() => {});
    const id = job.id ?? '';
    // Output files go to storage here, in the worker, so the job's result in Redis holds their URLs, not their bytes.
    return predictionEnvelope(id, await core.uploadOutputs(await core.run(converted, { onLog }), { predictionId: id }));
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
    if (total > limit)
      throw new AiIntegrationError('AI_ERR_INPUT_TOO_LARGE', `the job's inputs are larger than MAX_INPUT_BYTES (${limit} bytes), at ${JSON.stringify(name)}`);
  };
  for (const [name, value] of Object.entries(inputs)) count(name, value);
}
