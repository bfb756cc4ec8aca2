import { totalmem } from 'node:os';
import { getHeapStatistics } from 'node:v8';
import { AiIntegrationError } from './errors.js';
import type { AccessSettings } from './settings-parts/access.js';
import type { Environment } from './settings-parts/env-values.js';
import type { PredictionSettings } from './settings-parts/predictions.js';
import { checkQueueName, type QueueSettings } from './settings-parts/queue.js';
import type { UrlInputSettings } from './settings-parts/url-inputs.js';
import type { WorkerSettings } from './settings-parts/workers.js';
import { readSetting, settingsTable } from './settings-table.js';
import type { HttpSettings, RuntimeSettings, StartLoopOptions } from './types.js';

export { longestDurationMs } from './settings-parts/env-values.js';
export { deepestInputDepth, largestInputBytes } from './settings-table.js';

/** MAX_INPUT_DEPTH's default: far deeper than real inputs (a JSON config, a list of boxes) nest. */
export const defaultInputDepth = settingsTable.MAX_INPUT_DEPTH.default;

/**
 * The default budget for request bodies held at once: a quarter of the memory this process can
 * use (the container's limit, the machine's memory, or V8's heap limit, whichever is least, since
 * JSON bodies become strings on the heap), and never less than one body at the limit. A JSON body
 * is held up to about three times (bytes, text, decoded values) while it is read.
 */
export function defaultBufferedBytes(maxInputBytes: number): number {
  const constrained = process.constrainedMemory?.() ?? 0;
  const machine = constrained > 0 && constrained < totalmem() ? constrained : totalmem();
  const usable = Math.min(machine, getHeapStatistics().heap_size_limit);
  return Math.max(Math.floor(usable / 4), maxInputBytes);
}

/**
 * Reads the settings once, at start-up, from the table (src/settings-table.ts): the option, then
 * the environment, then the default. A malformed value, or one the runtime cannot honour, is the
 * operator's mistake and stops the program with a clear error before anything is served.
 */
export function readSettings(options: StartLoopOptions, env: Environment): RuntimeSettings {
  const maxInputBytes = readSetting(env, 'MAX_INPUT_BYTES', options.maxInputBytes);
  const maxInputBytesGiven = options.maxInputBytes !== undefined || (env.MAX_INPUT_BYTES?.trim() ?? '') !== '';
  return {
    selfTestRuns: readSetting(env, 'SELF_TEST_RUNS', options.selfTestRuns),
    maxInputBytes,
    maxInputBytesGiven,
    maxInputDepth: readSetting(env, 'MAX_INPUT_DEPTH', options.maxInputDepth),
    strictInputs: readSetting(env, 'STRICT_INPUTS', options.strictInputs),
    http: readHttpSettings(options.http ?? {}, env, maxInputBytes, maxInputBytesGiven),
    urlInputs: readUrlInputSettings(env, maxInputBytes),
    access: readAccessSettings(env),
    predictions: readPredictionSettings(env),
  };
}

function readHttpSettings(options: Partial<HttpSettings>, env: Environment, maxInputBytes: number, maxInputBytesGiven: boolean): HttpSettings {
  const port = readSetting(env, 'PORT', options.port);
  const maxBufferedBytes = readSetting(env, 'MAX_BUFFERED_BYTES', options.maxBufferedBytes) ?? defaultBufferedBytes(maxInputBytes);
  // Given both, a budget below the body limit is a mistake now; with MAX_INPUT_BYTES left to its
  // default, the HTTP core checks against the limit its mode applies (SageMaker's 6 MB).
  if (maxInputBytesGiven && maxBufferedBytes < maxInputBytes) {
    throw new AiIntegrationError(
      'AI_ERR_INVALID_OPTION',
      `MAX_BUFFERED_BYTES (${maxBufferedBytes}) is smaller than MAX_INPUT_BYTES (${maxInputBytes}), so a body at the limit could never be read; raise it or lower MAX_INPUT_BYTES`,
    );
  }
  return {
    port,
    host: readSetting(env, 'HOST', options.host),
    concurrency: readSetting(env, 'CONCURRENCY', options.concurrency),
    maxQueue: readSetting(env, 'MAX_QUEUE', options.maxQueue),
    inferenceTimeoutMs: readSetting(env, 'INFERENCE_TIMEOUT_MS', options.inferenceTimeoutMs),
    shutdownTimeoutMs: readSetting(env, 'SHUTDOWN_TIMEOUT_MS', options.shutdownTimeoutMs),
    maxFiles: readSetting(env, 'MAX_FILES', options.maxFiles),
    maxFields: readSetting(env, 'MAX_FIELDS', options.maxFields),
    maxParts: readSetting(env, 'MAX_PARTS', options.maxParts),
    maxBufferedBytes,
    maxConcurrentUploads: readSetting(env, 'MAX_CONCURRENT_UPLOADS', options.maxConcurrentUploads),
    maxConnections: readSetting(env, 'MAX_CONNECTIONS', options.maxConnections),
    headersTimeoutMs: readSetting(env, 'HEADERS_TIMEOUT_MS', options.headersTimeoutMs),
    requestTimeoutMs: readSetting(env, 'REQUEST_TIMEOUT_MS', options.requestTimeoutMs),
    keepAliveTimeoutMs: readSetting(env, 'KEEP_ALIVE_TIMEOUT_MS', options.keepAliveTimeoutMs),
    bodyIdleTimeoutMs: readSetting(env, 'BODY_IDLE_TIMEOUT_MS', options.bodyIdleTimeoutMs),
    minBodyBytesPerSecond: readSetting(env, 'MIN_BODY_BYTES_PER_SECOND', options.minBodyBytesPerSecond),
    bodyRateWindowMs: readSetting(env, 'BODY_RATE_WINDOW_MS', options.bodyRateWindowMs),
  };
}

/** How URL inputs are fetched: URL_INPUTS, URL_FETCH_TIMEOUT_MS, URL_MAX_REDIRECTS, URL_INPUTS_ALLOW_PRIVATE, URL_INPUTS_ALLOW_HOSTS. */
export function readUrlInputSettings(env: Environment, maxInputBytes: number): UrlInputSettings {
  return {
    enabled: readSetting(env, 'URL_INPUTS'),
    maxBytes: maxInputBytes,
    timeoutMs: readSetting(env, 'URL_FETCH_TIMEOUT_MS'),
    maxRedirects: readSetting(env, 'URL_MAX_REDIRECTS'),
    allowPrivate: readSetting(env, 'URL_INPUTS_ALLOW_PRIVATE'),
    allowHosts: readSetting(env, 'URL_INPUTS_ALLOW_HOSTS'),
  };
}

/** AUTH_TOKEN (or AUTH_TOKEN_FILE, read once), ACCESS_LOG and LOG_FORMAT. */
export function readAccessSettings(env: Environment): AccessSettings {
  return { token: readSetting(env, 'AUTH_TOKEN'), accessLog: readSetting(env, 'ACCESS_LOG'), logFormat: readSetting(env, 'LOG_FORMAT') };
}

/** The settings of async predictions, cancel, webhooks and output uploads. */
export function readPredictionSettings(env: Environment): PredictionSettings {
  return {
    ttlMs: readSetting(env, 'PREDICTION_TTL_SECONDS') * 1000,
    maxPredictions: readSetting(env, 'MAX_PREDICTIONS'),
    cancelGraceMs: readSetting(env, 'CANCEL_GRACE_MS'),
    webhooks: {
      secret: readSetting(env, 'WEBHOOK_SECRET'),
      authToken: readSetting(env, 'WEBHOOK_AUTH_TOKEN'),
      authHosts: readSetting(env, 'WEBHOOK_AUTH_HOSTS'),
      timeoutMs: readSetting(env, 'WEBHOOK_TIMEOUT_MS'),
      concurrency: readSetting(env, 'WEBHOOK_CONCURRENCY'),
      receiverConcurrency: readSetting(env, 'WEBHOOK_RECEIVER_CONCURRENCY'),
      maxPending: readSetting(env, 'WEBHOOK_MAX_PENDING'),
      receiverMaxPending: readSetting(env, 'WEBHOOK_RECEIVER_MAX_PENDING'),
    },
    uploads: {
      url: readSetting(env, 'OUTPUT_UPLOAD_URL'),
      concurrency: readSetting(env, 'OUTPUT_UPLOAD_CONCURRENCY'),
      timeoutMs: readSetting(env, 'OUTPUT_UPLOAD_TIMEOUT_MS'),
      maxRedirects: readSetting(env, 'URL_MAX_REDIRECTS'),
      allowPrivate: readSetting(env, 'URL_INPUTS_ALLOW_PRIVATE'),
      allowHosts: readSetting(env, 'URL_INPUTS_ALLOW_HOSTS'),
    },
  };
}

/** What the supervisor bounds: how many workers, start failures, start-up time, and the grace between SIGTERM and SIGKILL. */
export interface SupervisorLimits extends WorkerSettings {
  maxStartFailures: number;
  startTimeoutMs: number;
  killGraceMs: number;
}

/** The supervisor's own settings, read once when it starts: a bad value stops it before any worker starts. */
export function readSupervisorLimits(env: Environment): SupervisorLimits {
  return {
    workers: readSetting(env, 'WORKERS'),
    devices: readSetting(env, 'GPUS'),
    maxStartFailures: readSetting(env, 'WORKER_MAX_START_FAILURES'),
    startTimeoutMs: readSetting(env, 'WORKER_START_TIMEOUT_MS'),
    killGraceMs: readSetting(env, 'WORKER_KILL_GRACE_MS'),
  };
}

/** MODE=queue's settings: a missing REDIS_URL or a bad value stops the worker (exit 3) before it connects. */
export function readQueueSettings(env: Environment, modelName: string): QueueSettings {
  const redisUrl = readSetting(env, 'REDIS_URL');
  if (redisUrl === undefined)
    throw new AiIntegrationError('AI_ERR_INVALID_OPTION', 'MODE=queue needs REDIS_URL, the Redis of the BullMQ queue (e.g. REDIS_URL=redis://redis:6379)');
  return {
    redisUrl,
    queueName: readQueueName(env, modelName),
    attempts: readSetting(env, 'QUEUE_ATTEMPTS'),
    maxStalledCount: readSetting(env, 'QUEUE_MAX_STALLED'),
    lockDurationMs: readSetting(env, 'QUEUE_LOCK_MS'),
  };
}

/** QUEUE_NAME, else the model's name; without a ':' (BullMQ builds its Redis keys as bull:name:...). */
export function readQueueName(env: Environment, modelName: string): string {
  return checkQueueName(readSetting(env, 'QUEUE_NAME') ?? modelName);
}
