/**
 * Errors are an API: each has a stable `code` that users match on, and each code maps to one exit
 * code and one HTTP status in the table below (docs/reference/errors.md documents it).
 */

/** Process exit codes. */
export const ExitCode = {
  /** Every inference succeeded and every check passed. */
  success: 0,
  /** The model reported a failure (`success: false`), returned a malformed result, or a self-test check failed. */
  modelFailed: 1,
  /** The caller's mistake: bad MODE, bad argv, bad stdin, an input the schema rejects. */
  usage: 2,
  /** The shim author's mistake: an invalid inputs schema or runtime option. */
  config: 3,
  /** The weights (WEIGHTS_URL) could not be fetched or failed their sha256 check: the model cannot start. */
  weightsUnavailable: 69,
  /** The inference function threw: the model may be in a bad state, so the process exits to be restarted. */
  inferenceThrew: 70,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** What the table says of one code. */
export interface ErrorEntry {
  exitCode: ExitCodeValue;
  httpStatus: number;
  /** The seconds of the `Retry-After` header its HTTP answer carries: where a retry soon can succeed. */
  retryAfterSeconds?: number;
}

/**
 * Every error code a caller can receive, with its exit code, HTTP status and Retry-After. Only a
 * refusal for lack of room now (the queue, the connections, the request bodies) invites a retry:
 * AI_ERR_NOT_READY is a server draining away or a model that failed, where a retry belongs
 * elsewhere (another replica, or after the restart the health probes announce).
 */
export const errorTable = {
  AI_ERR_UNKNOWN_MODE: { exitCode: ExitCode.usage, httpStatus: 500 },
  AI_ERR_USAGE: { exitCode: ExitCode.usage, httpStatus: 400 },
  AI_ERR_MALFORMED_INPUT: { exitCode: ExitCode.usage, httpStatus: 400 },
  AI_ERR_INVALID_INPUT: { exitCode: ExitCode.usage, httpStatus: 422 },
  AI_ERR_INPUT_TOO_LARGE: { exitCode: ExitCode.usage, httpStatus: 413 },
  AI_ERR_PICKLE_MALFORMED: { exitCode: ExitCode.usage, httpStatus: 400 },
  AI_ERR_PICKLE_GLOBAL: { exitCode: ExitCode.usage, httpStatus: 422 },
  AI_ERR_PICKLE_UNSUPPORTED: { exitCode: ExitCode.usage, httpStatus: 422 },
  AI_ERR_UNAUTHORIZED: { exitCode: ExitCode.usage, httpStatus: 401 },
  AI_ERR_NOT_FOUND: { exitCode: ExitCode.usage, httpStatus: 404 },
  AI_ERR_METHOD_NOT_ALLOWED: { exitCode: ExitCode.usage, httpStatus: 405 },
  AI_ERR_UNSUPPORTED_MEDIA_TYPE: { exitCode: ExitCode.usage, httpStatus: 415 },
  AI_ERR_QUEUE_FULL: { exitCode: ExitCode.usage, httpStatus: 429, retryAfterSeconds: 1 },
  AI_ERR_WEBHOOKS_BEHIND: { exitCode: ExitCode.usage, httpStatus: 429, retryAfterSeconds: 5 },
  AI_ERR_NOT_READY: { exitCode: ExitCode.usage, httpStatus: 503 },
  AI_ERR_OVERLOADED: { exitCode: ExitCode.usage, httpStatus: 503, retryAfterSeconds: 1 },
  AI_ERR_BODY_TIMEOUT: { exitCode: ExitCode.usage, httpStatus: 408 },
  AI_ERR_TIMEOUT: { exitCode: ExitCode.modelFailed, httpStatus: 504 },
  AI_ERR_INVALID_SCHEMA: { exitCode: ExitCode.config, httpStatus: 500 },
  AI_ERR_INVALID_OPTION: { exitCode: ExitCode.config, httpStatus: 500 },
  AI_ERR_WEIGHTS_UNAVAILABLE: { exitCode: ExitCode.weightsUnavailable, httpStatus: 503 },
  AI_ERR_MODEL_FAILED: { exitCode: ExitCode.modelFailed, httpStatus: 500 },
  AI_ERR_INVALID_RESULT: { exitCode: ExitCode.modelFailed, httpStatus: 500 },
  AI_ERR_INFERENCE_THREW: { exitCode: ExitCode.inferenceThrew, httpStatus: 500 },
  AI_ERR_WORKER_DIED: { exitCode: ExitCode.inferenceThrew, httpStatus: 500 },
  AI_ERR_WORKER_START_FAILED: { exitCode: ExitCode.inferenceThrew, httpStatus: 503 },
  AI_ERR_ALREADY_RESPONDED: { exitCode: ExitCode.inferenceThrew, httpStatus: 500 },
  AI_ERR_CANCELED: { exitCode: ExitCode.modelFailed, httpStatus: 409 },
  AI_ERR_WEBHOOK_UNVERIFIED: { exitCode: ExitCode.usage, httpStatus: 401 },
  AI_ERR_ID_IN_USE: { exitCode: ExitCode.usage, httpStatus: 409 },
  // The model succeeded, but storing its output files did not: the store is the upstream that failed.
  AI_ERR_UPLOAD_FAILED: { exitCode: ExitCode.modelFailed, httpStatus: 502 },
  // Anything thrown that is none of the above: a bug here. Its answer hides the details, which the log has.
  AI_ERR_INTERNAL: { exitCode: ExitCode.inferenceThrew, httpStatus: 500 },
} as const satisfies Record<string, ErrorEntry>;

export type ErrorCode = keyof typeof errorTable;

/** The base class of every error this library raises on purpose. */
export class AiIntegrationError extends Error {
  override name = 'AiIntegrationError';
  readonly code: ErrorCode;
  /** The input the error is about, when there is one. */
  readonly field: string | undefined;

  constructor(code: ErrorCode, message: string, options: { field?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.field = options.field;
  }

  get exitCode(): ExitCodeValue {
    return errorTable[this.code].exitCode;
  }

  /** The status of its HTTP answer: the table's, unless a subclass says otherwise (406, 501). */
  get httpStatus(): number {
    return errorTable[this.code].httpStatus;
  }

  /** The headers of its HTTP answer: `Retry-After` where the table gives one; a subclass adds its own (`Allow`). */
  get httpHeaders(): Record<string, string> {
    const { retryAfterSeconds }: ErrorEntry = errorTable[this.code];
    return retryAfterSeconds === undefined ? {} : { 'retry-after': String(retryAfterSeconds) };
  }
}

/** A method the route does not take; `allowed` becomes the answer's `Allow` header. */
export class MethodNotAllowedError extends AiIntegrationError {
  override name = 'MethodNotAllowedError';
  readonly allowed: readonly string[];

  constructor(allowed: readonly string[], message: string) {
    super('AI_ERR_METHOD_NOT_ALLOWED', message);
    this.allowed = allowed;
  }

  override get httpHeaders(): Record<string, string> {
    return { ...super.httpHeaders, allow: this.allowed.join(', ') };
  }
}

/** An input the schema rejects; `field` names it. */
export class InvalidInputError extends AiIntegrationError {
  override name = 'InvalidInputError';
  constructor(field: string, message: string) {
    super('AI_ERR_INVALID_INPUT', `${field}: ${message}`, { field });
  }
}

/** The inputs schema itself is wrong: the shim author's mistake, found when `startLoop` starts. */
export class InvalidSchemaError extends AiIntegrationError {
  override name = 'InvalidSchemaError';
  /** Each problem as "input: what is wrong"; several when the schema has several (`InvalidSchemaError.all`). */
  readonly problems: readonly string[];
  constructor(field: string, message: string) {
    super('AI_ERR_INVALID_SCHEMA', `invalid inputs schema: ${field}: ${message}`, { field });
    this.problems = [`${field}: ${message}`];
  }

  /** Every problem of a schema in one error, one line each, so that one run shows them all. */
  static all(errors: readonly InvalidSchemaError[]): InvalidSchemaError {
    if (errors.length === 1) return errors[0]!;
    const problems = errors.flatMap((error) => error.problems);
    const combined = new InvalidSchemaError(errors[0]?.field ?? '(schema)', '');
    combined.message = `invalid inputs schema, ${problems.length} problems:\n${problems.map((problem) => `  ${problem}`).join('\n')}`;
    Object.assign(combined, { problems });
    return combined;
  }
}

/** The inference function threw (or rejected); `cause` is what it threw. */
export class InferenceThrewError extends AiIntegrationError {
  override name = 'InferenceThrewError';
  constructor(cause: unknown) {
    super('AI_ERR_INFERENCE_THREW', `the inference function threw: ${describeThrown(cause)}`, { cause });
  }
}

/**
 * A limit on how long an inference may run, with what set it, so that every message about a
 * timeout names the limit that applied: `INFERENCE_TIMEOUT_MS`, or the time a Lambda invocation
 * had left before its deadline.
 */
export interface TimeLimit {
  ms: number;
  /** The limit as a message names it, in parentheses after the figure: `INFERENCE_TIMEOUT_MS`. */
  name: string;
}

/** The limit a mode's engine runs with unless the mode names another (Lambda's deadline). */
export const inferenceTimeoutName = 'INFERENCE_TIMEOUT_MS';

/**
 * An inference past its time limit (AI_ERR_TIMEOUT); `limit` is the one that applied, and
 * `consequence` what happens to the model ("the model worker is being replaced").
 */
export class InferenceTimeoutError extends AiIntegrationError {
  override name = 'InferenceTimeoutError';
  constructor(
    readonly limit: TimeLimit,
    consequence?: string,
    message = `inference took longer than ${limit.ms} ms (${limit.name})`,
  ) {
    super('AI_ERR_TIMEOUT', consequence === undefined ? message : `${message}; ${consequence}`);
  }

  /** "an inference ran past 1000 ms (INFERENCE_TIMEOUT_MS)": the fault, for the log and the probes. */
  get fault(): string {
    return `an inference ran past ${this.limit.ms} ms (${this.limit.name})`;
  }
}

/** A prediction canceled before or while it ran (a cancel request, or its client disconnected). */
export class PredictionCanceledError extends AiIntegrationError {
  override name = 'PredictionCanceledError';
  constructor(message = 'the prediction was canceled') {
    super('AI_ERR_CANCELED', message);
  }
}

/**
 * An error as every HTTP answer (and Lambda's) gives it, computed once: status and headers from
 * the table (or the error's subclass), then what a protocol shapes into its body. Anything that is
 * not ours is AI_ERR_INTERNAL, its details kept out of the answer.
 */
export interface ErrorAnswer {
  status: number;
  headers: Readonly<Record<string, string>>;
  code: ErrorCode;
  message: string;
  field?: string;
}

/**
 * The answer to an error; `statuses` maps the table's status to a protocol's where its
 * specification says another (KServe's `{ 422: 400 }`).
 * @example errorAnswer(new AiIntegrationError('AI_ERR_QUEUE_FULL', 'the queue is full')) // { status: 429, headers: { 'retry-after': '1' }, ... }
 */
export function errorAnswer(error: unknown, statuses: Readonly<Record<number, number>> = {}): ErrorAnswer {
  if (!(error instanceof AiIntegrationError))
    return { status: errorTable.AI_ERR_INTERNAL.httpStatus, headers: {}, code: 'AI_ERR_INTERNAL', message: 'internal server error' };
  const answer: ErrorAnswer = { status: statuses[error.httpStatus] ?? error.httpStatus, headers: error.httpHeaders, code: error.code, message: error.message };
  if (error.field !== undefined) answer.field = error.field;
  return answer;
}

/** A one-line description of anything that was thrown. */
export function describeThrown(thrown: unknown): string {
  if (thrown instanceof Error) return thrown.message || thrown.name;
  try {
    return `${typeof thrown} ${JSON.stringify(thrown) ?? String(thrown)}`;
  } catch {
    return String(thrown);
  }
}
