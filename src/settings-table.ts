import { constants as bufferConstants } from 'node:buffer';
import { bearerToken, logFormat } from './settings-parts/access.js';
import { duration, flag, integer, longestDurationMs, port, text, type Environment, type Parser } from './settings-parts/env-values.js';
import { redisUrl } from './settings-parts/queue.js';
import { uploadUrl } from './settings-parts/uploads.js';
import { allowedHosts } from './settings-parts/url-inputs.js';
import { webhookHosts, webhookSecret } from './settings-parts/webhooks.js';
import { weightsUrls } from './settings-parts/weights.js';
import { gpuDevices, workerCount } from './settings-parts/workers.js';

/**
 * The largest MAX_INPUT_BYTES the runtime can honour: a JSON body or stdin is decoded into one
 * string, and V8 strings stop at this length (about 512 MB).
 */
export const largestInputBytes = bufferConstants.MAX_STRING_LENGTH;

/**
 * The deepest nesting an input value may have. Inputs cross to the model worker by structured
 * clone, which recurses and overflows the stack somewhere past 2,000 levels; 1000 is far from it.
 */
export const deepestInputDepth = 1000;

/**
 * Who reads a setting: every mode (`all`), the HTTP core (`http`, `access`, `predictions`), the
 * URL-input fetcher, the supervisor (its `--help` lists these), MODE=queue and the gateway (`queue`),
 * the weights fetcher (`weights`: the supervisor before any worker starts, or `weights()` run directly).
 */
export type SettingScope = 'all' | 'http' | 'url-inputs' | 'access' | 'predictions' | 'supervisor' | 'queue' | 'weights';

/** One row of the table: how the variable is read, its default, what it sets, and who reads it. */
export interface Setting<T, D extends T | undefined = T | undefined> {
  readonly parser: Parser<T>;
  /** The value when the variable is unset; undefined when it stays unset or a reader computes it from other settings. */
  readonly default: D;
  /** The default as docs/reference/environment.md and `--help` give it; where it is computed, how. */
  readonly defaultText: string;
  /** What it sets, in one line. */
  readonly description: string;
  readonly scope: SettingScope;
  /** The startLoop option that wins over the variable, as its error messages name it. */
  readonly option?: string;
}

function setting<T, const D extends T | undefined = undefined>(
  parser: Parser<T>,
  row: { default?: D; defaultText?: string; description: string; scope: SettingScope; option?: string },
): Setting<T, D> {
  const defaultText = row.defaultText ?? (row.default === undefined ? 'unset' : String(row.default));
  return { parser, default: row.default as D, defaultText, description: row.description, scope: row.scope, ...(row.option ? { option: row.option } : {}) };
}

/**
 * Every environment variable the runtime itself reads (each mode's own are in its description).
 * The readers (src/settings.ts) take an option first, then the variable, then the default; the
 * supervisor's `--help` and docs/reference/environment.md are checked against this.
 */
export const settingsTable = {
  MODE: setting(text, {
    defaultText: 'unset, which runs `command_line` after one line saying so (`--help` lists the modes)',
    description: 'the mode to run',
    scope: 'all',
  }),
  SELF_TEST_RUNS: setting(integer(1), { default: 5, option: 'selfTestRuns', description: 'how many inferences test_model_integration runs', scope: 'all' }),
  MAX_INPUT_BYTES: setting(integer(1, largestInputBytes), {
    default: 100 * 1024 * 1024,
    defaultText: '104857600 (100 MB)',
    option: 'maxInputBytes',
    description: `most bytes read from stdin, an input file, an HTTP request body or a URL input (at most ${largestInputBytes}; unset, a platform mode applies its own)`,
    scope: 'all',
  }),
  MAX_INPUT_DEPTH: setting(integer(1, deepestInputDepth), {
    default: 128,
    option: 'maxInputDepth',
    description: `deepest nesting of arrays and objects in one input value (at most ${deepestInputDepth})`,
    scope: 'all',
  }),
  STRICT_INPUTS: setting(flag, {
    default: false,
    option: 'strictInputs',
    description: 'true: reject inputs the schema does not list (false: pass them through)',
    scope: 'all',
  }),
  MODEL_NAME: setting(text, {
    defaultText: "the `name` option, the package.json's `name` or the shim's file name",
    description: "the model's name in every protocol",
    scope: 'all',
  }),
  MODEL_VERSION: setting(text, {
    defaultText: "the `version` option, the package.json's `version` or 1",
    description: "the model's version in every protocol",
    scope: 'all',
  }),

  PORT: setting(port, {
    defaultText: "the mode's port (5000; 8080 for `kserve`, `sagemaker` and `vertex`; 8000 for `openai`)",
    option: 'http.port',
    description: 'the HTTP port',
    scope: 'http',
  }),
  HOST: setting(text, { default: '0.0.0.0', option: 'http.host', description: 'the HTTP address to listen on', scope: 'http' }),
  CONCURRENCY: setting(integer(1), { default: 1, option: 'http.concurrency', description: 'inferences the HTTP mode runs at once', scope: 'http' }),
  MAX_QUEUE: setting(integer(0), {
    default: 64,
    option: 'http.maxQueue',
    description: 'HTTP requests that may wait for a free inference slot; more get 429',
    scope: 'http',
  }),
  INFERENCE_TIMEOUT_MS: setting(duration(0), {
    default: 300_000,
    option: 'http.inferenceTimeoutMs',
    description: 'longest inference before the HTTP request gets 504 and the model is replaced; 0 for none',
    scope: 'http',
  }),
  SHUTDOWN_TIMEOUT_MS: setting(duration(0), {
    default: 8000,
    option: 'http.shutdownTimeoutMs',
    description: 'how long SIGTERM waits for in-flight and queued HTTP work',
    scope: 'http',
  }),
  MAX_FILES: setting(integer(1), { default: 16, option: 'http.maxFiles', description: 'most files in one multipart body', scope: 'http' }),
  MAX_FIELDS: setting(integer(1), { default: 256, option: 'http.maxFields', description: 'most non-file fields in one multipart body', scope: 'http' }),
  MAX_PARTS: setting(integer(1), { default: 512, option: 'http.maxParts', description: 'most parts in one multipart body', scope: 'http' }),
  // Computed by defaultBufferedBytes (src/settings.ts).
  MAX_BUFFERED_BYTES: setting(integer(1), {
    defaultText: "a quarter of the usable memory (the container's limit, the machine's memory or the V8 heap limit, the least), never below `MAX_INPUT_BYTES`",
    option: 'http.maxBufferedBytes',
    description: 'bytes of HTTP request bodies held in memory at once; past it, 503 with Retry-After',
    scope: 'http',
  }),
  MAX_CONCURRENT_UPLOADS: setting(integer(1), {
    default: 32,
    option: 'http.maxConcurrentUploads',
    description: 'HTTP request bodies read at once; past it, 503 with Retry-After',
    scope: 'http',
  }),
  MAX_CONNECTIONS: setting(integer(1), {
    default: 1024,
    option: 'http.maxConnections',
    description: 'open HTTP connections; 8 more are kept for health probes and metrics',
    scope: 'http',
  }),
  HEADERS_TIMEOUT_MS: setting(duration(1), {
    default: 20_000,
    option: 'http.headersTimeoutMs',
    description: 'longest time a client may take to send its request headers',
    scope: 'http',
  }),
  REQUEST_TIMEOUT_MS: setting(duration(1), {
    default: 300_000,
    option: 'http.requestTimeoutMs',
    description: 'longest time a client may take to send a whole request, body included',
    scope: 'http',
  }),
  KEEP_ALIVE_TIMEOUT_MS: setting(duration(1), {
    default: 5000,
    option: 'http.keepAliveTimeoutMs',
    description: 'how long an idle keep-alive connection stays open',
    scope: 'http',
  }),
  BODY_IDLE_TIMEOUT_MS: setting(duration(0), {
    default: 30_000,
    option: 'http.bodyIdleTimeoutMs',
    description: 'longest time a request body may go without a byte arriving; past it, 408 and the connection is closed (0: none)',
    scope: 'http',
  }),
  MIN_BODY_BYTES_PER_SECOND: setting(integer(0), {
    default: 1024,
    option: 'http.minBodyBytesPerSecond',
    description: 'slowest a request body may arrive, averaged over BODY_RATE_WINDOW_MS; below it, 408 and the connection is closed (0: no floor)',
    scope: 'http',
  }),
  BODY_RATE_WINDOW_MS: setting(duration(1), {
    default: 10_000,
    option: 'http.bodyRateWindowMs',
    description: "the window MIN_BODY_BYTES_PER_SECOND is averaged over; a body's first window is its grace",
    scope: 'http',
  }),

  URL_INPUTS: setting(flag, {
    default: true,
    description: 'false: refuse http(s) URLs given for image and file inputs instead of fetching them',
    scope: 'url-inputs',
  }),
  URL_FETCH_TIMEOUT_MS: setting(duration(1), {
    default: 30_000,
    description: 'longest time fetching one URL input may take, redirects and body included',
    scope: 'url-inputs',
  }),
  URL_MAX_REDIRECTS: setting(integer(0, 100), {
    default: 5,
    description: 'most redirects followed when fetching a URL input (0 follows none; at most 100)',
    scope: 'url-inputs',
  }),
  URL_INPUTS_ALLOW_PRIVATE: setting(flag, {
    default: false,
    description: 'true: let URL inputs reach loopback, link-local, private and reserved addresses',
    scope: 'url-inputs',
  }),
  URL_INPUTS_ALLOW_HOSTS: setting(allowedHosts, {
    default: [],
    defaultText: 'unset',
    description: 'comma-separated hosts (host or host:port; [v6]:port) whose URLs may reach private addresses, e.g. models.internal,10.0.0.5:9000',
    scope: 'url-inputs',
  }),

  AUTH_TOKEN: setting(bearerToken, {
    defaultText: 'unset, no auth (said at start-up)',
    description: 'the bearer token every HTTP route but the liveness and readiness probes requires',
    scope: 'access',
  }),
  AUTH_TOKEN_FILE: setting(text, {
    description:
      'a file holding the bearer token (a mounted secret), read once at start; instead of AUTH_TOKEN; a regular file (symbolic links followed) of at most 64 KiB',
    scope: 'access',
  }),
  ACCESS_LOG: setting(flag, { default: true, description: 'false: no access-log line per HTTP request on stderr', scope: 'access' }),
  LOG_FORMAT: setting(logFormat, {
    default: 'text',
    description: 'json: JSON lines for log collectors, for the access log and the rest of the log',
    scope: 'access',
  }),

  PREDICTION_TTL_SECONDS: setting(integer(0, 2_147_483), {
    default: 600,
    description: 'how long a finished prediction stays readable at GET /predictions/{id}',
    scope: 'predictions',
  }),
  MAX_PREDICTIONS: setting(integer(1, 10_000_000), {
    default: 1000,
    description:
      'most predictions the server keeps by id (running and finished); past it the oldest finished goes first, and when all are running a new one gets 429',
    scope: 'predictions',
  }),
  CANCEL_GRACE_MS: setting(duration(0), {
    default: 5000,
    description:
      'how long a canceled inference has to honour its AbortSignal before its worker is restarted (under the supervisor) or the cancel is reported as not stopped',
    scope: 'predictions',
  }),
  WEBHOOK_SECRET: setting(webhookSecret, {
    defaultText: 'unset, calls are not signed',
    description:
      'signs every webhook call as Standard Webhooks does (webhook-id, webhook-timestamp, webhook-signature): whsec_ and the base64 of 24 to 64 random bytes',
    scope: 'predictions',
  }),
  WEBHOOK_AUTH_TOKEN: setting(text, {
    defaultText: 'unset; set, it is sent to no host until WEBHOOK_AUTH_HOSTS lists one (said at start-up)',
    description: 'sent as `Authorization: Bearer <token>` with the webhook calls to the hosts WEBHOOK_AUTH_HOSTS lists, and to no other',
    scope: 'predictions',
  }),
  WEBHOOK_AUTH_HOSTS: setting(webhookHosts, {
    default: [],
    defaultText: 'unset',
    description: 'comma-separated hosts (host or host:port; [v6]:port) whose webhook calls carry WEBHOOK_AUTH_TOKEN, e.g. hooks.example.com,10.0.0.5:8443',
    scope: 'predictions',
  }),
  WEBHOOK_TIMEOUT_MS: setting(duration(1), {
    default: 10_000,
    description: 'longest time one webhook call may take: connecting, then the answer',
    scope: 'predictions',
  }),
  WEBHOOK_CONCURRENCY: setting(integer(1), { default: 64, description: 'webhook calls in flight at once, across receivers', scope: 'predictions' }),
  WEBHOOK_RECEIVER_CONCURRENCY: setting(integer(1), {
    default: 4,
    description:
      'webhook calls in flight at once to one receiver (scheme, host and port) that answered its last call; one not heard from yet, or whose last call got no answer, gets one at a time',
    scope: 'predictions',
  }),
  WEBHOOK_MAX_PENDING: setting(integer(1), {
    default: 1000,
    description: 'predictions whose completed webhook is not yet delivered or given up, across receivers; past it a new prediction with a webhook gets 429',
    scope: 'predictions',
  }),
  WEBHOOK_RECEIVER_MAX_PENDING: setting(integer(1), {
    default: 100,
    description: 'the same for one receiver: past it a new prediction naming that receiver gets 429, the others are served',
    scope: 'predictions',
  }),

  OUTPUT_UPLOAD_URL: setting(uploadUrl, {
    defaultText: 'unset, output files are answered as data: URLs',
    description:
      "PUT each output file of the native API's, Cog's, SageMaker's, Vertex's and Lambda's predictions and of MODE=queue's jobs to <url>/<prediction id>/<field>.<ext>, following redirects to signed URLs, and answer its URL instead of the bytes; a failed upload fails the prediction (AI_ERR_UPLOAD_FAILED)",
    scope: 'predictions',
  }),
  OUTPUT_UPLOAD_CONCURRENCY: setting(integer(1), {
    default: 8,
    description: 'output file uploads in flight at once, across predictions (a retry waits without holding one)',
    scope: 'predictions',
  }),
  OUTPUT_UPLOAD_TIMEOUT_MS: setting(duration(1), {
    default: 60_000,
    description: 'longest time one try of an upload may take: connecting, sending the file, the answer; past it the try failed (and is retried)',
    scope: 'predictions',
  }),

  AI_INTEGRATION_SHIM: setting(text, {
    defaultText: 'unset; shim.js in the container template',
    description: "the shim to run when the first argument is not a script (a container's own: docker run IMAGE --image photo.jpg, docker run IMAGE serve)",
    scope: 'supervisor',
  }),
  WORKER_MAX_START_FAILURES: setting(integer(1), {
    default: 5,
    description: 'in a serving mode, failed starts of the model worker in a row before the supervisor gives up (exit 70); a mode that runs once does not retry',
    scope: 'supervisor',
  }),
  WORKER_START_TIMEOUT_MS: setting(duration(1), {
    default: 600_000,
    description: 'longest model load before the worker is killed and counted as a failed start',
    scope: 'supervisor',
  }),
  EXIT_WITH_PARENT: setting(flag, {
    default: true,
    description:
      'on Linux, the service ends (drains, as on SIGTERM) when the process that started it goes; false: it stays, for a supervisor started on purpose in the background of a shell (nohup, &)',
    scope: 'supervisor',
  }),
  WORKER_KILL_GRACE_MS: setting(duration(0), { default: 3000, description: 'time between SIGTERM and SIGKILL when a worker is stopped', scope: 'supervisor' }),
  WORKERS: setting(workerCount, { default: 1, description: 'model worker processes, each loading the model once (auto: one per CPU)', scope: 'supervisor' }),
  GPUS: setting(gpuDevices, {
    defaultText: 'unset, each worker keeps CUDA_VISIBLE_DEVICES as it is',
    description: "GPU ids to spread the workers over, round robin, through each one's CUDA_VISIBLE_DEVICES (0,1; auto: the ids in CUDA_VISIBLE_DEVICES)",
    scope: 'supervisor',
  }),

  WEIGHTS_URL: setting(weightsUrls, {
    defaultText: 'unset, nothing fetched',
    description:
      'files fetched into WEIGHTS_DIR before the model loads, once for all workers: url[#sha256=HEX][&name=FILE] entries (http://, https://, file://, gs://BUCKET/OBJECT, or gs://BUCKET/PREFIX/ for a folder) separated by spaces or commas',
    scope: 'weights',
  }),
  WEIGHTS_DIR: setting(text, {
    defaultText: '$XDG_CACHE_HOME/ai-integration/weights, else ~/.cache/ai-integration/weights',
    description: 'the folder WEIGHTS_URL fetches into (a volume shared by containers is fetched into once, under a lock); the model finds it here too',
    scope: 'weights',
  }),
  WEIGHTS_CONNECTIONS: setting(integer(1, 64), {
    default: 4,
    description:
      "HTTP connections fetching weights at once: one file's byte ranges, where the server takes Range requests, or a gs:// folder's small objects side by side (at most 64)",
    scope: 'weights',
  }),
  STORAGE_EMULATOR_HOST: setting(text, {
    defaultText: 'unset, https://storage.googleapis.com',
    description:
      "gs:// weights: the Cloud Storage JSON API's endpoint instead (a URL; without a scheme, https://), as Google's client libraries read it; no credentials are sent to it unless GCE_METADATA_HOST is set too",
    scope: 'weights',
  }),
  GCE_METADATA_HOST: setting(text, {
    defaultText: 'unset, metadata.google.internal',
    description:
      "gs:// weights: the metadata server (host[:port]) whose default service account's access token is sent to Cloud Storage, as Google's client libraries read it",
    scope: 'weights',
  }),

  QUEUE_BACKEND: setting(redisUrl, {
    defaultText: 'unset, no gateway',
    description:
      'a gateway: the Redis of a BullMQ queue whose MODE=queue workers run the model; the HTTP-speaking modes then run no model and send every prediction there (redis://host:port)',
    scope: 'queue',
  }),
  REDIS_URL: setting(redisUrl, {
    defaultText: 'unset; required in `MODE=queue`',
    description: 'MODE=queue: the Redis that holds the BullMQ queue (redis://[user:password@]host:port[/db], rediss:// for TLS)',
    scope: 'queue',
  }),
  QUEUE_NAME: setting(text, { defaultText: "the model's name", description: "MODE=queue: the BullMQ queue's name (no ':')", scope: 'queue' }),
  QUEUE_ATTEMPTS: setting(integer(1, 1000), {
    default: 1,
    description: 'MODE=queue: most tries of a job whose inference threw, died or timed out, within the attempts its producer gave it (1: not retried)',
    scope: 'queue',
  }),
  QUEUE_MAX_STALLED: setting(integer(0, 1000), {
    default: 1,
    description: "MODE=queue: how often a job whose worker died (its lock expired) goes back to the queue before it fails (BullMQ's maxStalledCount)",
    scope: 'queue',
  }),
  QUEUE_LOCK_MS: setting(integer(1000, longestDurationMs), {
    default: 30_000,
    description: "MODE=queue: a job's lock, renewed while it runs; a worker silent this long has died and its job stalls (BullMQ's lockDuration)",
    scope: 'queue',
  }),
};

export type SettingName = keyof typeof settingsTable;
type Row<N extends SettingName> = (typeof settingsTable)[N];
/** What a variable parses to. */
export type ParsedSetting<N extends SettingName> = Row<N> extends Setting<infer T, infer _D> ? T : never;
/** What reading it gives: the parsed value, else the default (undefined when there is none). */
export type SettingValue<N extends SettingName> = Row<N> extends Setting<infer T, infer D> ? (undefined extends D ? T | undefined : T) : never;

/**
 * One setting: the startLoop option when given (checked to the same bounds), then the variable,
 * then the default. A malformed value stops the program with AI_ERR_INVALID_OPTION naming it.
 * @example readSetting(env, 'CONCURRENCY', options.http?.concurrency) // 1 when neither is given
 */
export function readSetting<N extends SettingName>(env: Environment, name: N, option?: ParsedSetting<N>): SettingValue<N> {
  const row: Setting<unknown> = settingsTable[name];
  if (option !== undefined) {
    row.parser.checkOption?.(row.option ?? name, option);
    return option as SettingValue<N>;
  }
  return (row.parser.read(env, name) ?? row.default) as SettingValue<N>;
}

/** What a setting sets, and its default, in one line: `environmentVariables` and `--help` give it. */
export const describeSetting = (row: Setting<unknown>) => `${row.description} (default: ${row.defaultText})`;

/** The environment variables the runtime itself reads, with what each sets and its default. */
export const runtimeVariables = Object.fromEntries(
  Object.entries(settingsTable).map(([name, row]: [string, Setting<unknown>]) => [name, describeSetting(row)]),
) as Record<SettingName, string>;
