/**
 * The documented contract of ai-integration: the inputs schema, the inputs object inferred from
 * it, the result object, and the shape of a mode. Implementation files only carry "why" comments;
 * the "what" lives here.
 */
import type { EventEmitter } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import type { Cancellation } from './engine/cancellation.js';
import type { HttpServiceHandle } from './http/lifecycle.js';
import type { AccessSettings } from './settings-parts/access.js';
import type { PredictionSettings } from './settings-parts/predictions.js';
import type { UrlInputSettings } from './settings-parts/url-inputs.js';
import type { WeightsEntry } from './settings-parts/weights.js';
import type { UnknownPropertyMessage } from './_schema-typos.js';

/** Every input type a schema may use. `image` and `text` are the Python library's. */
export type InputType = 'image' | 'text' | 'number' | 'integer' | 'boolean' | 'choice' | 'json' | 'file';

/** Any value JSON can carry. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

interface CommonSpec {
  /** Help text shown by `--help`, the web page and the API docs. */
  description?: string;
  /** Inputs are required unless this is `false` (the Python library's rule). */
  required?: boolean;
}

/** Image bytes (JPEG, PNG, WebP, ...). Arrives as a `Buffer`. */
export interface ImageInputSpec extends CommonSpec {
  type: 'image';
  /**
   * A sample image the web page offers in one click, as a `data:` URL; checked at start-up.
   * @example `data:image/jpeg;base64,${readFileSync(new URL('example.jpg', import.meta.url)).toString('base64')}`
   */
  example?: string;
}

/** Any binary: audio, video, documents. Arrives as a `Buffer`. */
export interface FileInputSpec extends CommonSpec {
  type: 'file';
  /** A sample file the web page offers in one click, as a `data:` URL (`data:audio/wav;base64,...`); checked at start-up. */
  example?: string;
}

/** A string. */
export interface TextInputSpec extends CommonSpec {
  type: 'text';
  default?: string;
  /** A sample value the web page offers in one click (unlike `default`, never used unless chosen). */
  example?: string;
}

/** A finite number, optionally bounded (inclusive). */
export interface NumberInputSpec extends CommonSpec {
  type: 'number';
  default?: number;
  min?: number;
  max?: number;
  /** A sample value the web page offers in one click, within the bounds. */
  example?: number;
}

/** A safe integer, optionally bounded (inclusive). */
export interface IntegerInputSpec extends CommonSpec {
  type: 'integer';
  default?: number;
  min?: number;
  max?: number;
  /** A sample value the web page offers in one click, within the bounds. */
  example?: number;
}

/** `true` or `false`; text sources may also say yes/no, on/off, 1/0. */
export interface BooleanInputSpec extends CommonSpec {
  type: 'boolean';
  default?: boolean;
  /** A sample value the web page offers in one click. */
  example?: boolean;
}

/** One of a fixed list of strings. */
export interface ChoiceInputSpec<C extends string = string> extends CommonSpec {
  type: 'choice';
  choices: readonly C[];
  default?: NoInfer<C>;
  /** A sample value the web page offers in one click: one of the choices. */
  example?: NoInfer<C>;
}

/** Any JSON value; text sources (argv, form fields) give it as JSON text. */
export interface JsonInputSpec extends CommonSpec {
  type: 'json';
  default?: JsonValue;
  /** A sample value the web page offers in one click. */
  example?: JsonValue;
}

/** The description of one input. */
export type InputSpec =
  | ImageInputSpec
  | FileInputSpec
  | TextInputSpec
  | NumberInputSpec
  | IntegerInputSpec
  | BooleanInputSpec
  | ChoiceInputSpec
  | JsonInputSpec;

/**
 * The inputs schema: input names to their description.
 * @example { image: { type: 'image' }, strength: { type: 'number', min: 0, max: 1, default: 0.5 } }
 */
export type InputsSchema = { readonly [name: string]: InputSpec };

/** The properties an input of a type may have beyond those its spec declares. */
type ExcessProperties<Spec> = Spec extends { type: infer T } ? Exclude<keyof Spec, keyof Extract<InputSpec, { type: T }>> : never;

/**
 * A literal schema `S` whose every property unknown to its input's type (`defualt`, `minimum`,
 * `choice` for `choices`) must be a message saying so ("input 'image': unknown property
 * 'defualt' ..."), which no value is: a typo is a compile error naming the input, the property
 * and what was meant, as it is at start-up.
 * `startLoop`, `inferenceRequests` and `defineSchema` take `S & NoInfer<StrictSchema<S>>`.
 */
export type StrictSchema<S> = { [K in keyof S]: S[K] & { readonly [P in ExcessProperties<S[K]>]: { error: UnknownPropertyMessage<K, P, TypeOf<S[K]>> } } };
type TypeOf<Spec> = Spec extends { type: infer T } ? T : never;

/** The JavaScript type an input spec delivers to the inference function. */
export type InputValue<S> = S extends { type: 'image' | 'file' }
  ? Buffer
  : S extends { type: 'text' }
    ? string
    : S extends { type: 'number' | 'integer' }
      ? number
      : S extends { type: 'boolean' }
        ? boolean
        : S extends { type: 'choice'; choices: readonly (infer C)[] }
          ? C
          : S extends { type: 'json' }
            ? JsonValue
            : never;

type OptionalKeys<S extends InputsSchema> = {
  [K in keyof S]: S[K] extends { required: false } ? (S[K] extends { default: unknown } ? never : K) : never;
}[keyof S];
type PresentKeys<S extends InputsSchema> = Exclude<keyof S, OptionalKeys<S>>;
type Simplify<T> = { [K in keyof T]: T[K] } & {};

/**
 * The inputs object the inference function receives for schema `S`. Inputs that are required or
 * have a default are always present; other optional inputs may be missing. Inputs the schema does
 * not list pass through as `unknown` (model options travel that way, as in the Python library).
 */
export type Inputs<S extends InputsSchema> = Simplify<{ [K in PresentKeys<S>]: InputValue<S[K]> } & { [K in OptionalKeys<S>]?: InputValue<S[K]> }> & {
  readonly [extra: string]: unknown;
};

/**
 * The result object of the Python library, unchanged; beside it, a structured output
 * (`output(fields)`): `application/json` whose `data` is the object of its fields, JSON values and
 * files (`image(bytes)`, `file(bytes, type)`) together.
 * @example { 'content-type': 'application/json', data: JSON.stringify({ label: 'cat' }), success: true }
 */
export interface InferenceResult {
  'content-type': string;
  data: Buffer | Uint8Array | string | null | { readonly [field: string]: unknown };
  success: boolean;
  /** Why it failed; set when `success` is false. */
  error?: string | null;
}

/**
 * What the inference function gets beside its inputs. `signal` aborts when the prediction is
 * canceled (`POST /predictions/{id}/cancel`, or its client disconnected): a model that honours it
 * (throws an `AbortError`, or returns) stops cleanly; one that does not is stopped by restarting
 * its worker after CANCEL_GRACE_MS (under the supervisor only).
 * @example async (inputs, { signal }) => { for (const step of steps) { signal.throwIfAborted(); await step(); } ... }
 */
export interface InferenceContext {
  signal: AbortSignal;
  /**
   * Adds a line to this prediction's logs: the `logs` of its state (GET /predictions/{id}, Cog's
   * response) and the `logs` webhook event. Where no one follows the prediction's logs (the
   * one-shot modes, a synchronous request), the line goes to stderr with the runtime's log.
   * @example context.log(`denoising step ${step} of ${steps}`)
   */
  log(message: string): void;
}

/**
 * A streamed result: an `async function*` yields chunks (tokens, partial transcripts, progress
 * images), each a result built with the same helpers. Its final result is what it `return`s, else
 * the chunks collected: text concatenated, JSON chunks as a list, the last chunk of any other kind.
 * A chunk that reports a failure (`failure(message)`) ends the stream as that failure.
 * @example async function* (inputs) { for (const word of words) yield text(word); }
 */
// biome-ignore lint/suspicious/noConfusingVoidType: an async generator without a return statement returns void
export type InferenceStream = AsyncIterable<InferenceResult, InferenceResult | void | undefined>;

/**
 * The model: takes the inputs object, returns (or resolves to) a result, or streams chunks as an
 * async iterable (`async function*`). Throwing means "restart me".
 */
export type InferenceFunction<I = Record<string, unknown>> = (
  inputs: I,
  context: InferenceContext,
) => InferenceResult | Promise<InferenceResult> | InferenceStream;

/**
 * What the model returns, described for the API docs, the web page and the protocols' metadata
 * (the `output` option of `startLoop`). Optional: without it the output is documented as any result.
 * @example { type: 'json', schema: { type: 'object', properties: { label: { type: 'string' } } } }
 * @example { type: 'image', mediaType: 'image/png' }
 */
export type OutputDescription = JsonOutputDescription | ImageOutputDescription | FileOutputDescription | TextOutputDescription | FieldsOutputDescription;

/**
 * A structured output (`output(fields)`): each field described, so the API docs, KServe's
 * metadata and the page show it. A field is JSON (with its JSON Schema), an image or a file;
 * `list: true` for a list of images or files.
 * @example { type: 'fields', fields: { label: { type: 'json', schema: { type: 'string' } }, mask: { type: 'image', mediaType: 'image/png' } } }
 */
export interface FieldsOutputDescription {
  type: 'fields';
  fields: { readonly [name: string]: OutputFieldDescription };
  description?: string;
}

/** One field of a structured output, described. */
export type OutputFieldDescription = JsonOutputDescription | (ImageOutputDescription & { list?: boolean }) | (FileOutputDescription & { list?: boolean });

/** A JSON result (`application/json`), with the JSON Schema of its value when given. */
export interface JsonOutputDescription {
  type: 'json';
  /** A JSON Schema (2020-12, as OpenAPI 3.1 uses) of the result's value. */
  schema?: { readonly [keyword: string]: unknown };
  /** What the result holds, in a sentence. */
  description?: string;
}

/** An image result; `mediaType` (e.g. `image/png`) when it is always the same format. */
export interface ImageOutputDescription {
  type: 'image';
  mediaType?: `image/${string}`;
  description?: string;
}

/** A binary result of another kind (audio, video, a document), of the given media type. */
export interface FileOutputDescription {
  type: 'file';
  mediaType?: string;
  description?: string;
}

/** A text result; `mediaType` defaults to `text/plain`. */
export interface TextOutputDescription {
  type: 'text';
  mediaType?: `text/${string}`;
  description?: string;
}

/** What one inference call may carry beside its inputs. */
export interface InferOptions {
  /**
   * Aborting it cancels the inference: the model's own signal aborts, a stream stops. The
   * runtime passes its own `Cancellation`, which costs nothing until used; an AbortSignal works too.
   */
  signal?: AbortSignal | Cancellation;
  /**
   * Called with each chunk of a streamed result as it comes, already checked (a chunk that fails
   * its check ends the stream instead). The promise still resolves to the final result.
   */
  onChunk?: (chunk: InferenceResult) => void;
  /** Takes the model's log lines for this inference (`context.log`), each ending in a newline. */
  onLog?: (text: string) => void;
  /**
   * Told, before the promise settles, how many milliseconds the model spent on this inference,
   * by an engine in which a request can wait before the model starts on it (a worker's queue, a
   * batch being gathered, a queue of jobs): the caller's own clock would count that wait as the
   * model's. An engine that says nothing started the model when `infer` was called.
   */
  onPredictTime?: (ms: number) => void;
}

/**
 * What an engine can do, declared once: the admission queue, the modes and the worker read it
 * instead of probing for optional methods.
 */
export interface EngineCapabilities {
  /**
   * A throw or a timeout does not leave this process's model in a bad state, so serving carries
   * on: the supervisor replaces the model worker in place; a gateway's models run elsewhere.
   */
  readonly restartsInPlace: boolean;
  /**
   * It enforces INFERENCE_TIMEOUT_MS itself, so the admission queue does not: the supervisor
   * (only it knows when a request starts running in a worker), a gateway (the wait for a worker counts).
   */
  readonly enforcesTimeout: boolean;
  /** It takes every request at once and schedules them itself (a batch model gathers batches). */
  readonly schedulesOwnWork: boolean;
}

/** The events of an engine, one name each. */
export interface EngineEvents {
  /** The engine failed for good (the supervisor gave up restarting the model); every request it held has been refused. */
  failed: [error: Error];
  /** A batch model ran a batch of `size` requests (the batch size histogram). */
  batch: [size: number];
}

/** The limits a mode runs an engine with. */
export interface EngineLimits {
  /** Inferences (or batches) run at once. */
  concurrency: number;
  /** Longest inference; 0 for none. Honoured by an engine that `enforcesTimeout`. */
  inferenceTimeoutMs: number;
  /** What sets `inferenceTimeoutMs`, as its messages name it; `INFERENCE_TIMEOUT_MS` when not given (Lambda gives its deadline). */
  inferenceTimeoutName?: string;
  /** How long a canceled inference may take to stop before its worker is replaced (the supervisor). */
  cancelGraceMs?: number;
  /** Requests that may wait (a gateway bounds the jobs waiting on its queue). */
  maxQueue?: number;
  /**
   * What waits in the engine when the model throws: `refuse` it (run directly: the process is
   * about to exit), or `keep` it unanswered (a supervised worker: the supervisor re-sends it).
   */
  afterThrow?: 'refuse' | 'keep';
}

/** One model worker as /info and the metrics show it (the supervisor's). */
export interface WorkerStatus {
  index: number;
  state: 'starting' | 'ready' | 'backoff' | 'stopped';
  pid: number | null;
  /** Requests sent to it and not answered yet (running, or waiting in its queue). */
  load: number;
  restarts: number;
  /** Its CUDA_VISIBLE_DEVICES, when GPUS assigned one. */
  device?: string;
}

/** What a mode calls to run inference; in-process or, under a supervisor, in a worker process. */
export interface Engine {
  /**
   * Runs inference on already converted inputs. Rejects with `InferenceThrewError` when the model
   * threw, and with `PredictionCanceledError` once `signal` aborted and the model stopped (or was stopped).
   */
  infer(inputs: Record<string, unknown>, options?: InferOptions): Promise<InferenceResult>;
  readonly capabilities: EngineCapabilities;
  readonly events: EventEmitter<EngineEvents>;
  /**
   * Tells the engine the mode's limits. It answers how many more requests it wants handed to it
   * beyond `concurrency`: the supervisor sends the next requests ahead, so a worker never waits on
   * the IPC round trip between two inferences; a batch model takes the next round of batches.
   */
  configure(limits: EngineLimits): { prefetch: number };
  /** Whether the model can take work now, and why not (the supervisor's worker may be restarting). */
  readiness(): { ready: boolean; reason?: string };
  /** How often the model was restarted, by cause. */
  restartCounts(): Record<string, number>;
  /** Each model worker's state, when there are workers (the supervisor); empty otherwise. */
  workers(): WorkerStatus[];
  /**
   * The model's slots, when the engine knows better than the admission queue which of the
   * inferences it holds are running: the supervisor sends requests ahead to wait in a worker, and
   * runs CONCURRENCY in each of WORKERS. `total` counts the workers that can take work now.
   */
  modelSlots?(): ModelSlots;
  /** The buffers request bodies are gathered into and reused (the supervisor only; see src/supervisor/gather-pool.ts). */
  bodyBuffers?(): BodyBufferCounts;
}

/** How often a body buffer was reused, and what the free ones hold. */
export interface BodyBufferCounts {
  reused: number;
  freeBytes: number;
}

/** Inferences the model runs at once (`total`), and how many of those places are taken now (`held`). */
export interface ModelSlots {
  held: number;
  total: number;
}

/**
 * What the process does when the model is in a bad state (it threw, or an inference ran past its
 * timeout), chosen once at start-up; a mode only reports the fault and obeys the answer.
 */
export interface ModelFaults {
  /** `restart-in-place`: the supervisor replaces the model and the mode carries on; `exit`: the process ends to be restarted by its runtime. */
  readonly policy: 'restart-in-place' | 'exit';
  /** Reports that a request faulted; under `exit` it logs why, and the mode ends with `exitCode` once the request is answered. */
  report(error: unknown): { end: false } | { end: true; exitCode: number; reason: string };
}

/** A line-oriented logger for humans; it writes to stderr so stdout carries only results. */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** Settings every mode may read; `startLoop` fills them from its options and the environment, once. */
export interface RuntimeSettings {
  /** How many inferences `test_model_integration` runs. */
  selfTestRuns: number;
  /** Most bytes a stdin mode or file input reads. */
  maxInputBytes: number;
  /** Whether MAX_INPUT_BYTES (or the option) set `maxInputBytes`: a platform mode applies its own default otherwise. */
  maxInputBytesGiven: boolean;
  /** Deepest nesting of arrays and objects inside one input value (JSON, pickle, form JSON fields). */
  maxInputDepth: number;
  /** Reject inputs the schema does not list, instead of passing them through. */
  strictInputs: boolean;
  /** The HTTP mode's address and limits. */
  http: HttpSettings;
  /** How http(s) URLs given for binary inputs are fetched (URL_INPUTS, URL_FETCH_TIMEOUT_MS, ...). */
  urlInputs: UrlInputSettings;
  /** Bearer auth and the access log of the HTTP-speaking modes (AUTH_TOKEN, ACCESS_LOG, LOG_FORMAT). */
  access: AccessSettings;
  /** Async predictions, cancel and webhooks (PREDICTION_TTL_SECONDS, MAX_PREDICTIONS, CANCEL_GRACE_MS, WEBHOOK_*). */
  predictions: PredictionSettings;
}

/** Where the HTTP mode listens and what it bounds; every field has an environment variable. */
export interface HttpSettings {
  /** undefined: the mode's own default (5000 for the native API, 8080 for KServe). */
  port: number | undefined;
  host: string;
  /** Inferences run at once. */
  concurrency: number;
  /** Requests that may wait for a free slot; more get 429. */
  maxQueue: number;
  /** Longest inference before the request gets 504; 0 for none. */
  inferenceTimeoutMs: number;
  /** How long SIGTERM waits for in-flight and queued work before exiting anyway. */
  shutdownTimeoutMs: number;
  /** Most files, fields and parts in one multipart body. */
  maxFiles: number;
  maxFields: number;
  maxParts: number;
  /** Bytes of request bodies held in memory at once, across all requests; past it, 503 with Retry-After. */
  maxBufferedBytes: number;
  /** Request bodies being read at once; past it, 503 with Retry-After. */
  maxConcurrentUploads: number;
  /** Open connections; a few more are kept for health probes and metrics. */
  maxConnections: number;
  /** Longest time a client may take to send a request's headers (node:http's headersTimeout). */
  headersTimeoutMs: number;
  /** Longest time a client may take to send a whole request, body included (node:http's requestTimeout). */
  requestTimeoutMs: number;
  /** How long an idle keep-alive connection stays open. */
  keepAliveTimeoutMs: number;
  /** Longest time a request body may go without a byte arriving; past it, 408 (0: none). */
  bodyIdleTimeoutMs: number;
  /** Slowest a request body may arrive, in bytes a second averaged over `bodyRateWindowMs`; below it, 408 (0: no floor). */
  minBodyBytesPerSecond: number;
  /** The window the body's rate is averaged over; the first window of a body is its grace. */
  bodyRateWindowMs: number;
}

/** Everything a mode gets. Modes never read `process.env`. */
export interface ModeContext {
  /**
   * The model's name: MODEL_NAME, else the `name` option, else the `name` of the package.json
   * beside the shim (without its `@scope/`), else the shim's file name without its extension.
   */
  modelName: string;
  /** The model's version: MODEL_VERSION, else the `version` option, else the package.json's `version`, else '1'. */
  modelVersion: string;
  /** What the model does, in a sentence: the `description` option, else the package.json's `description`, else ''. */
  modelDescription: string;
  /** What the model returns, when the shim described it (the `output` option), already checked. */
  output?: OutputDescription;
  /** The model's batching, when it takes batches (the `batch` option). */
  batch?: BatchOptions;
  engine: Engine;
  /** What a fault of the model means for this process (restart in place, or exit): report it here. */
  faults: ModelFaults;
  schema: InputsSchema;
  settings: RuntimeSettings;
  argv: readonly string[];
  /** Every mode the program can run, with its hint, for a mode's help to list (the command line's --help). */
  modes?: readonly { name: string; hint: string }[];
  /**
   * The environment the runtime was started with (the `env` option, else process.env): where a
   * platform mode reads its platform's variables (AIP_HTTP_PORT, SAGEMAKER_BIND_TO_PORT, ...).
   * Every variable a mode reads is listed in `environmentVariables` (src/environment-variables.ts).
   */
  env: Readonly<Record<string, string | undefined>>;
  stdin: Readable & { isTTY?: boolean };
  stdout: Writable & { isTTY?: boolean };
  log: Logger;
  /**
   * Set when the mode runs inside a process that owns it (a test, an embedding): an HTTP-serving
   * mode hands over its running service, leaves SIGTERM and SIGINT to that process, and ends
   * when it calls `close()`.
   */
  embedded?: { started(service: HttpServiceHandle): void };
}

/** Where a serving mode answers its readiness, and how to read the answer (the container's HEALTHCHECK). */
export interface ProbeTarget {
  port: number;
  path: string;
  /** Whether an answer means ready; by default, status 200. */
  ready?: (status: number, body: string) => boolean;
}

/** What a mode needs of the supervisor while the model loads (Cog answers STARTING on its port). */
export interface WhileModelLoads {
  /** Ends it, once the model is ready; resolves with variables the mode then runs with (the port it held, for PORT=0). */
  end(): Promise<Readonly<Record<string, string>>>;
  /** A line of what the supervisor does before the model loads (fetching weights, with its progress), where the mode shows its start (Cog's setup logs). */
  report?(line: string): void;
}

/**
 * What the runtime knows of a mode without loading its code: enough to list it, probe it,
 * document its variables and prepare the supervisor. Each built-in mode's folder has one
 * (`modes/<name>/mode.ts`); a mode of your own gives the same through `registerMode`.
 */
export interface ModeTraits {
  /** lower_snake_case, what `MODE` says. */
  name: string;
  /** One line shown in the list of modes, with the `docker run` flags the mode needs. */
  hint: string;
  /**
   * A long-running service, and what it serves: `http` requests, queue `jobs`, or platform
   * `events` (Lambda). After a throw its model is replaced in place under the supervisor, or the
   * process exits to be restarted; a one-shot mode (undefined) reports the throw and ends.
   */
  serves?: 'http' | 'jobs' | 'events';
  /** Where it answers readiness for the container's HEALTHCHECK, in this environment; undefined without a listener. */
  probe?(env: Readonly<Record<string, string | undefined>>): ProbeTarget | undefined;
  /** The environment variables only this mode reads, with what each sets (docs/reference/environment.md, `--help`). */
  variables?: Readonly<Record<string, string>>;
  /** Container arguments that select this mode when MODE is unset (SageMaker starts containers with `serve`). */
  selectedBy?: readonly string[];
  /**
   * Weights the platform names in this environment, fetched into WEIGHTS_DIR with WEIGHTS_URL's
   * before the model loads (Vertex AI's AIP_STORAGE_URI).
   */
  weights?(env: Readonly<Record<string, string | undefined>>): readonly WeightsEntry[];
  /** Under the supervisor, started before the model loads; undefined when it has nothing to do in this environment. */
  whileModelLoads?(env: Readonly<Record<string, string | undefined>>, log: Logger): Promise<WhileModelLoads | undefined>;
}

/** A mode's code: `run` resolves to the process exit code. */
export interface ModeModule {
  run(context: ModeContext): Promise<number>;
  /**
   * Reports an error that stopped the program before or while the mode started (an invalid
   * schema, a setting, a model that failed to load) where the platform looks for it, besides the
   * log: Lambda's init/error. Called once, before the process exits.
   */
  reportStartupError?(error: unknown, env: Readonly<Record<string, string | undefined>>, log: Logger): Promise<void>;
}

/**
 * A way of running the model, with its code at hand.
 * @example registerMode({ name: 'once', hint: 'runs one inference', run: async (ctx) => 0 })
 */
export interface Mode extends ModeTraits, ModeModule {}

/**
 * A mode whose code loads only when it is selected: the built-in modes, and a folder of your own.
 * @example export default { name: 'echo', hint: '...', serves: 'http', load: () => import('./index.js') } satisfies LazyMode;
 */
export interface LazyMode extends ModeTraits {
  load(): Promise<ModeModule>;
}

/**
 * A model that takes batches: the function receives up to `maxSize` inputs objects and returns as
 * many results, in order.
 */
export interface BatchOptions {
  /** Most requests in one call of the batch function. */
  maxSize: number;
  /**
   * How long the first request of a batch may wait for more, in milliseconds, when the model is
   * idle (default 0: an idle model takes whatever waits at once; under load batches fill anyway).
   */
  maxWaitMs?: number;
}

/** What the batch function gets beside its inputs. */
export interface BatchInferenceContext {
  /** Aborts once every request of the batch was canceled. */
  signal: AbortSignal;
  /** Each request's own signal, in the order of the inputs: a model may skip the canceled ones. */
  signals: readonly AbortSignal[];
  /** Adds a line to the logs of every prediction in the batch (see `InferenceContext.log`). */
  log(message: string): void;
}

/**
 * A batch model: takes an array of inputs objects and returns (or resolves to) an array of as many
 * results, in the same order; each result answers its own request, so one failed item
 * (`failure(...)`) fails only itself. Throwing fails the whole batch and restarts the model.
 */
export type BatchInferenceFunction<I = Record<string, unknown>> = (
  inputs: I[],
  context: BatchInferenceContext,
) => InferenceResult[] | Promise<InferenceResult[]>;

/** Options of `startLoop`; every field falls back to the environment, then a default. */
export interface StartLoopOptions {
  /**
   * Makes the inference function a batch function (`BatchInferenceFunction`): requests that wait
   * together are run as one call, up to `maxSize`.
   * @example startLoop(async (batch) => batch.map(...), schema, { batch: { maxSize: 8 } })
   */
  batch?: BatchOptions;
  /** The mode to run; defaults to `MODE` from the environment. */
  mode?: string;
  /**
   * The model's name in the web page, /info, the API docs, `--help`, the metrics and every
   * protocol; defaults to the `name` of the package.json beside the shim, then to the shim's file
   * name (MODEL_NAME overrides it).
   */
  name?: string;
  /** The model's version, as the serving protocols report it; defaults to the package.json's `version`, then '1' (MODEL_VERSION overrides it). */
  version?: string;
  /** What the model does, in a sentence, for the page, /info, the API docs and `--help`; defaults to the package.json's `description`. */
  description?: string;
  /**
   * What the model returns, for the API docs, the page and the protocols' metadata; checked at start-up.
   * @example { output: { type: 'image', mediaType: 'image/png' } }
   */
  output?: OutputDescription;
  selfTestRuns?: number;
  maxInputBytes?: number;
  maxInputDepth?: number;
  strictInputs?: boolean;
  http?: Partial<HttpSettings>;
  /** Injectable process parts, for tests and embedding. */
  env?: Readonly<Record<string, string | undefined>>;
  argv?: readonly string[];
  stdin?: ModeContext['stdin'];
  stdout?: ModeContext['stdout'];
  stderr?: Writable;
  /** Ends the process; every exit goes through it. */
  exit?: (code: number) => void;
}
