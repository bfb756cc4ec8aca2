/**
 * Errors are an API: each has a stable `code` that users match on, and each code maps to one exit
 * code and one HTTP status in the table below (the README documents it).
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
  /** The inference function threw: the model may be in a bad state, so the process exits to be restarted. */
  inferenceThrew: 70,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** Every error code with its exit code and HTTP status. */
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
  AI_ERR_QUEUE_FULL: { exitCode: ExitCode.usage, httpStatus: 429 },
  AI_ERR_NOT_READY: { exitCode: ExitCode.usage, httpStatus: 503 },
  AI_ERR_OVERLOADED: { exitCode: ExitCode.usage, httpStatus: 503 },
  AI_ERR_TIMEOUT: { exitCode: ExitCode.modelFailed, httpStatus: 504 },
  AI_ERR_INVALID_SCHEMA: { exitCode: ExitCode.config, httpStatus: 500 },
  AI_ERR_INVALID_OPTION: { exitCode: ExitCode.config, httpStatus: 500 },
  AI_ERR_MODEL_FAILED: { exitCode: ExitCode.modelFailed, httpStatus: 500 },
  AI_ERR_INVALID_RESULT: { exitCode: ExitCode.modelFailed, httpStatus: 500 },
  AI_ERR_INFERENCE_THREW: { exitCode: ExitCode.inferenceThrew, httpStatus: 500 },
  AI_ERR_WORKER_DIED: { exitCode: ExitCode.inferenceThrew, httpStatus: 500 },
  AI_ERR_WORKER_START_FAILED: { exitCode: ExitCode.inferenceThrew, httpStatus: 503 },
  AI_ERR_ALREADY_RESPONDED: { exitCode: ExitCode.inferenceThrew, httpStatus: 500 },
  AI_ERR_CANCELED: { exitCode: ExitCode.modelFailed, httpStatus: 409 },
} as const satisfies Record<string, { exitCode: ExitCodeValue; httpStatus: number }>;

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

  get httpStatus(): number {
    return errorTable[this.code].httpStatus;
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
  constructor(field: string, message: string) {
    super('AI_ERR_INVALID_SCHEMA', `invalid inputs schema: ${field}: ${message}`, { field });
  }
}

/** The inference function threw (or rejected); `cause` is what it threw. */
export class InferenceThrewError extends AiIntegrationError {
  override name = 'InferenceThrewError';
  constructor(cause: unknown) {
    super('AI_ERR_INFERENCE_THREW', `the inference function threw: ${describeThrown(cause)}`, { cause });
  }
}

/** A prediction canceled before or while it ran (a cancel request, or its client disconnected). */
export class PredictionCanceledError extends AiIntegrationError {
  override name = 'PredictionCanceledError';
  constructor(message = 'the prediction was canceled') {
    super('AI_ERR_CANCELED', message);
  }
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
