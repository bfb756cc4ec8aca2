import { constants as bufferConstants } from 'node:buffer';
import { totalmem } from 'node:os';
import { getHeapStatistics } from 'node:v8';
import { AiIntegrationError } from './errors.js';
import { accessVariables } from './settings-parts/access.js';
import { predictionsVariables } from './settings-parts/predictions.js';
import { readUrlInputSettings, urlInputsVariables } from './settings-parts/url-inputs.js';
import { flagSetting, integerSetting, type Environment } from './settings-parts/env-values.js';
import { readWorkerSettings, workersVariables, type WorkerSettings } from './settings-parts/workers.js';
import { queueVariables } from './settings-parts/queue.js';
import type { HttpSettings, RuntimeSettings, StartLoopOptions } from './types.js';

/** The Python library's HTTP body limit, used for every input that a mode reads whole. */
const defaultMaxInputBytes = 100 * 1024 * 1024;

/**
 * The largest MAX_INPUT_BYTES the runtime can honour: a JSON body or stdin is decoded into one
 * string, and V8 strings stop at this length (about 512 MB).
 */
export const largestInputBytes = bufferConstants.MAX_STRING_LENGTH;

/** Node's timers turn a delay past 2^31-1 ms into 1 ms, so longer durations are refused. */
export const longestDurationMs = 2 ** 31 - 1;

/**
 * The deepest nesting an input value may have. Inputs cross to the model worker by structured
 * clone, which recurses and overflows the stack somewhere past 2,000 levels; 1000 is far from it.
 */
export const deepestInputDepth = 1000;

/** MAX_INPUT_DEPTH's default: far deeper than real inputs (a JSON config, a list of boxes) nest. */
export const defaultInputDepth = 128;

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

/** The environment variables the runtime itself reads (every mode's own are in its description), with what each sets. */
export const runtimeVariables = {
  MODE: 'the mode to run (unset: list the modes, then run command_line)',
  SELF_TEST_RUNS: 'how many inferences test_model_integration runs (default 5)',
  MAX_INPUT_BYTES: `most bytes read from stdin, an input file or an HTTP request body (default 104857600, 100 MB; at most ${largestInputBytes})`,
  MAX_INPUT_DEPTH: `deepest nesting of arrays and objects in one input value (default 128, at most ${deepestInputDepth})`,
  STRICT_INPUTS: 'true: reject inputs the schema does not list (default false: pass them through)',
  PORT: "the HTTP port (default the mode's: 5000, 8080 for kserve)",
  AI_INTEGRATION_SHIM: "the shim the supervisor runs when its first argument is not a script (the container template sets shim.js), so that `docker run IMAGE --image photo.jpg` and `docker run IMAGE serve` work",
  MODEL_NAME: "the model's name in every protocol (default the `name` option, else the shim's file name)",
  MODEL_VERSION: "the model's version in every protocol (default the `version` option, else 1)",
  HOST: 'the HTTP address to listen on (default 0.0.0.0)',
  CONCURRENCY: 'inferences the HTTP mode runs at once (default 1)',
  MAX_QUEUE: 'HTTP requests that may wait for a free inference slot; more get 429 (default 64)',
  INFERENCE_TIMEOUT_MS: 'longest inference before the HTTP request gets 504 and the model is replaced; 0 for none (default 300000)',
  SHUTDOWN_TIMEOUT_MS: 'how long SIGTERM waits for in-flight and queued HTTP work (default 8000)',
  MAX_FILES: 'most files in one multipart body (default 16)',
  MAX_FIELDS: 'most non-file fields in one multipart body (default 256)',
  MAX_PARTS: 'most parts in one multipart body (default 512)',
  MAX_BUFFERED_BYTES: 'bytes of HTTP request bodies held in memory at once; past it, 503 with Retry-After (default a quarter of the usable memory)',
  MAX_CONCURRENT_UPLOADS: 'HTTP request bodies read at once; past it, 503 with Retry-After (default 32)',
  MAX_CONNECTIONS: 'open HTTP connections; 8 more are kept for health probes and metrics (default 1024)',
  HEADERS_TIMEOUT_MS: 'longest time a client may take to send its request headers (default 20000)',
  REQUEST_TIMEOUT_MS: 'longest time a client may take to send a whole request, body included (default 300000)',
  KEEP_ALIVE_TIMEOUT_MS: 'how long an idle keep-alive connection stays open (default 5000)',
  WORKER_MAX_START_FAILURES: 'under the supervisor: consecutive failed starts of the model worker before giving up (default 5)',
  WORKER_START_TIMEOUT_MS: 'under the supervisor: longest time the model worker may take to load before it is killed and counted as a failed start (default 600000)',
  WORKER_KILL_GRACE_MS: 'under the supervisor: how long a worker being stopped gets between SIGTERM and SIGKILL (default 3000)',
  ...workersVariables,
  ...queueVariables,
  // Areas with settings of their own (URL inputs, auth and the access log, async predictions and webhooks).
  ...urlInputsVariables,
  ...accessVariables,
  ...predictionsVariables,
} as const;

/**
 * Reads the settings once, in this order: the option, then the environment, then the default.
 * A malformed value, or one the runtime cannot honour, is the operator's mistake and stops the
 * program with a clear error.
 */
export function readSettings(options: StartLoopOptions, env: Readonly<Record<string, string | undefined>>): RuntimeSettings {
  const maxInputBytes = checkedOption('maxInputBytes', options.maxInputBytes, 1, largestInputBytes) ?? positiveInteger(env, 'MAX_INPUT_BYTES', 1, largestInputBytes) ?? defaultMaxInputBytes;
  const maxInputBytesGiven = options.maxInputBytes !== undefined || (env.MAX_INPUT_BYTES?.trim() ?? '') !== '';
  return {
    selfTestRuns: checkedOption('selfTestRuns', options.selfTestRuns) ?? positiveInteger(env, 'SELF_TEST_RUNS') ?? 5,
    maxInputBytes,
    maxInputBytesGiven,
    maxInputDepth: checkedOption('maxInputDepth', options.maxInputDepth, 1, deepestInputDepth) ?? positiveInteger(env, 'MAX_INPUT_DEPTH', 1, deepestInputDepth) ?? defaultInputDepth,
    strictInputs: options.strictInputs ?? booleanFlag(env, 'STRICT_INPUTS') ?? false,
    http: readHttpSettings(options.http ?? {}, env, maxInputBytes, maxInputBytesGiven),
    urlInputs: readUrlInputSettings(env, maxInputBytes),
  };
}

function readHttpSettings(options: Partial<HttpSettings>, env: Readonly<Record<string, string | undefined>>, maxInputBytes: number, maxInputBytesGiven: boolean): HttpSettings {
  const port = checkedOption('http.port', options.port, 0) ?? positiveInteger(env, 'PORT', 0);
  if (port !== undefined && port > 65535) throw new AiIntegrationError('AI_ERR_INVALID_OPTION', `the port ${port} is not between 0 and 65535`);
  const duration = (option: keyof HttpSettings, variable: keyof typeof runtimeVariables, fallback: number, least = 0) =>
    checkedOption(`http.${option}`, options[option] as number | undefined, least, longestDurationMs) ?? positiveInteger(env, variable, least, longestDurationMs) ?? fallback;
  const maxBufferedBytes = checkedOption('http.maxBufferedBytes', options.maxBufferedBytes) ?? positiveInteger(env, 'MAX_BUFFERED_BYTES') ?? defaultBufferedBytes(maxInputBytes);
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
    host: options.host ?? (env.HOST?.trim() || '0.0.0.0'),
    concurrency: checkedOption('http.concurrency', options.concurrency) ?? positiveInteger(env, 'CONCURRENCY') ?? 1,
    maxQueue: checkedOption('http.maxQueue', options.maxQueue, 0) ?? positiveInteger(env, 'MAX_QUEUE', 0) ?? 64,
    inferenceTimeoutMs: duration('inferenceTimeoutMs', 'INFERENCE_TIMEOUT_MS', 300_000),
    shutdownTimeoutMs: duration('shutdownTimeoutMs', 'SHUTDOWN_TIMEOUT_MS', 8000),
    maxFiles: checkedOption('http.maxFiles', options.maxFiles) ?? positiveInteger(env, 'MAX_FILES') ?? 16,
    maxFields: checkedOption('http.maxFields', options.maxFields) ?? positiveInteger(env, 'MAX_FIELDS') ?? 256,
    maxParts: checkedOption('http.maxParts', options.maxParts) ?? positiveInteger(env, 'MAX_PARTS') ?? 512,
    maxBufferedBytes,
    maxConcurrentUploads: checkedOption('http.maxConcurrentUploads', options.maxConcurrentUploads) ?? positiveInteger(env, 'MAX_CONCURRENT_UPLOADS') ?? 32,
    maxConnections: checkedOption('http.maxConnections', options.maxConnections) ?? positiveInteger(env, 'MAX_CONNECTIONS') ?? 1024,
    headersTimeoutMs: duration('headersTimeoutMs', 'HEADERS_TIMEOUT_MS', 20_000, 1),
    requestTimeoutMs: duration('requestTimeoutMs', 'REQUEST_TIMEOUT_MS', 300_000, 1),
    keepAliveTimeoutMs: duration('keepAliveTimeoutMs', 'KEEP_ALIVE_TIMEOUT_MS', 5000, 1),
  };
}

/** What the supervisor bounds: how many workers, start failures, start-up time, and the grace between SIGTERM and SIGKILL. */
export interface SupervisorLimits extends WorkerSettings {
  maxStartFailures: number;
  startTimeoutMs: number;
  killGraceMs: number;
}

/** The supervisor's own settings, from the environment. */
export function readSupervisorLimits(env: Readonly<Record<string, string | undefined>>): SupervisorLimits {
  return {
    ...readWorkerSettings(env),
    maxStartFailures: positiveInteger(env, 'WORKER_MAX_START_FAILURES') ?? 5,
    startTimeoutMs: positiveInteger(env, 'WORKER_START_TIMEOUT_MS', 1, longestDurationMs) ?? 600_000,
    killGraceMs: positiveInteger(env, 'WORKER_KILL_GRACE_MS', 0, longestDurationMs) ?? 3000,
  };
}

function checkedOption(name: string, value: number | undefined, least = 1, most = Number.MAX_SAFE_INTEGER): number | undefined {
  if (value !== undefined && !(Number.isSafeInteger(value) && value >= least && value <= most)) {
    const expected = least === 0 ? 'an integer of 0 or more' : 'a positive integer';
    const bound = most === Number.MAX_SAFE_INTEGER ? '' : ` of at most ${most}`;
    throw new AiIntegrationError('AI_ERR_INVALID_OPTION', `startLoop option ${name} must be ${expected}${bound}, got ${String(value)}`);
  }
  return value;
}

// The shared readers, with the variable's name checked against the declared ones.
const positiveInteger = (env: Environment, name: keyof typeof runtimeVariables, least?: number, most?: number) => integerSetting(env, name, least, most);
const booleanFlag = (env: Environment, name: keyof typeof runtimeVariables) => flagSetting(env, name);
