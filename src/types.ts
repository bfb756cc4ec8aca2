/**
 * The documented contract of ai-integration: the inputs schema, the inputs object inferred from
 * it, the result object, and the shape of a mode. Implementation files only carry "why" comments;
 * the "what" lives here.
 */
import type { Readable, Writable } from 'node:stream';

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
}

/** Any binary: audio, video, documents. Arrives as a `Buffer`. */
export interface FileInputSpec extends CommonSpec {
  type: 'file';
}

/** A string. */
export interface TextInputSpec extends CommonSpec {
  type: 'text';
  default?: string;
}

/** A finite number, optionally bounded (inclusive). */
export interface NumberInputSpec extends CommonSpec {
  type: 'number';
  default?: number;
  min?: number;
  max?: number;
}

/** A safe integer, optionally bounded (inclusive). */
export interface IntegerInputSpec extends CommonSpec {
  type: 'integer';
  default?: number;
  min?: number;
  max?: number;
}

/** `true` or `false`; text sources may also say yes/no, on/off, 1/0. */
export interface BooleanInputSpec extends CommonSpec {
  type: 'boolean';
  default?: boolean;
}

/** One of a fixed list of strings. */
export interface ChoiceInputSpec<C extends string = string> extends CommonSpec {
  type: 'choice';
  choices: readonly C[];
  default?: NoInfer<C>;
}

/** Any JSON value; text sources (argv, form fields) give it as JSON text. */
export interface JsonInputSpec extends CommonSpec {
  type: 'json';
  default?: JsonValue;
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
export type Inputs<S extends InputsSchema> = Simplify<
  { [K in PresentKeys<S>]: InputValue<S[K]> } & { [K in OptionalKeys<S>]?: InputValue<S[K]> }
> & { readonly [extra: string]: unknown };

/**
 * The result object of the Python library, unchanged.
 * @example { 'content-type': 'application/json', data: JSON.stringify({ label: 'cat' }), success: true }
 */
export interface InferenceResult {
  'content-type': string;
  data: Buffer | Uint8Array | string | null;
  success: boolean;
  /** Why it failed; set when `success` is false. */
  error?: string | null;
}

/** The model: takes the inputs object, returns (or resolves to) a result. Throwing means "restart me". */
export type InferenceFunction<I = Record<string, unknown>> = (inputs: I) => InferenceResult | Promise<InferenceResult>;

/** What a mode calls to run inference; in-process or, under a supervisor, in a worker process. */
export interface Engine {
  /** Runs inference on already converted inputs. Rejects with `InferenceThrewError` when the model threw. */
  infer(inputs: Record<string, unknown>): Promise<InferenceResult>;
  /** True when a throw restarts the model in place (the supervisor): the mode carries on serving. */
  readonly restartsInPlace?: boolean;
  /** Whether the model can take work now, and why not (the supervisor's worker may be restarting). */
  readiness?(): { ready: boolean; reason?: string };
  /** How often the model was restarted, by cause. */
  restartCounts?(): Record<string, number>;
  /**
   * Tells the engine the mode's limits. It answers how many more requests it wants handed to it
   * beyond `concurrency` (the supervisor sends the next request ahead, so the worker never waits
   * on the IPC round trip between two inferences), and whether it enforces `inferenceTimeoutMs`
   * itself (the supervisor does: only it knows when a request starts running in the worker, and
   * it replaces a worker that overruns).
   */
  configure?(limits: { concurrency: number; inferenceTimeoutMs: number }): { prefetch: number; enforcesTimeout: boolean };
  /**
   * Registers a listener for the engine failing for good (the supervisor gave up restarting the
   * model). Every request waiting in the engine has been refused by then; the mode answers them
   * and ends.
   */
  onFailure?(listener: (error: Error) => void): void;
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
  /** Deepest nesting of arrays and objects inside one input value (JSON, pickle, form JSON fields). */
  maxInputDepth: number;
  /** Reject inputs the schema does not list, instead of passing them through. */
  strictInputs: boolean;
  /** The HTTP mode's address and limits. */
  http: HttpSettings;
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
}

/** Everything a mode gets. Modes never read `process.env`. */
export interface ModeContext {
  /** The model's name: MODEL_NAME, else the `name` option, else the shim's file name without its extension. */
  modelName: string;
  /** The model's version: MODEL_VERSION, else the `version` option, else '1'. */
  modelVersion: string;
  /** What the model does, in a sentence: the `description` option, else ''. */
  modelDescription: string;
  engine: Engine;
  schema: InputsSchema;
  settings: RuntimeSettings;
  argv: readonly string[];
  /**
   * The environment the runtime was started with (the `env` option, else process.env): where a
   * platform mode reads its platform's variables (AIP_HTTP_PORT, SAGEMAKER_BIND_TO_PORT, ...).
   * Every variable a mode reads is listed in `environmentVariables` (src/settings.ts).
   */
  env: Readonly<Record<string, string | undefined>>;
  stdin: Readable & { isTTY?: boolean };
  stdout: Writable & { isTTY?: boolean };
  log: Logger;
}

/**
 * A way of running the model. `run` resolves to the process exit code.
 * @example registerMode({ name: 'once', hint: 'runs one inference', run: async (ctx) => 0 })
 */
export interface Mode {
  name: string;
  /** One line shown in the list of modes, with the `docker run` flags the mode needs. */
  hint: string;
  run(context: ModeContext): Promise<number>;
}

/** Options of `startLoop`; every field falls back to the environment, then a default. */
export interface StartLoopOptions {
  /** The mode to run; defaults to `MODE` from the environment. */
  mode?: string;
  /** The model's name in the web page, /info, the API docs and every protocol; defaults to the shim's file name (MODEL_NAME overrides it). */
  name?: string;
  /** The model's version, as the serving protocols report it; defaults to '1' (MODEL_VERSION overrides it). */
  version?: string;
  /** What the model does, in a sentence, for the page, /info and the API docs. */
  description?: string;
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
