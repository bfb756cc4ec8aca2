/**
 * The messages between the supervisor and the model worker, over the child process's IPC channel
 * with the 'advanced' serialization (structured clone), so Buffers travel as bytes. Binary inputs
 * and result data longer than 64 KiB follow on the byte stream instead (byte-channel.ts): the
 * message lists them in `streamed`, and the receiver handles it once they have arrived.
 */
import type { ErrorCode } from '../errors.js';
import { setOwn } from '../inputs/safe-record.js';
import type { InferenceResult, InputsSchema, StartLoopOptions } from '../types.js';
import type { StreamedValues } from './byte-channel.js';
import type { SharedValues } from './shared-memory.js';

/** Set in the worker's environment by the supervisor. */
export const workerEnvironmentVariable = 'AI_INTEGRATION_WORKER';

/** Set in the supervisor's own environment, so its log does not advise running under it. */
export const supervisorEnvironmentVariable = 'AI_INTEGRATION_SUPERVISOR';

/** The options a shim passed to startLoop that the supervisor's mode must see too. */
/** The file a worker writes its configuration error to before it exits 3 (set by the supervisor). */
export const configurationErrorFileVariable = 'AI_INTEGRATION_CONFIGURATION_ERROR_FILE';

/** The modes the shim registered: as modules (the supervisor registers the same URLs), and as objects (which run only in the shim's process). */
export interface ShimModes {
  urls: readonly string[];
  inProcess: readonly string[];
}

export type ForwardedOptions = Pick<
  StartLoopOptions,
  'mode' | 'name' | 'version' | 'description' | 'output' | 'selfTestRuns' | 'maxInputBytes' | 'maxInputDepth' | 'strictInputs' | 'http' | 'batch'
>;

export type SupervisorMessage =
  /**
   * `env`: the request's own variables (perRequestVariables) that were set when it was made.
   * `chunks`: the mode wants a streamed result's chunks as they come (else only the final result).
   * `logs`: the mode follows the prediction's logs (`context.log`); else the worker writes them to stderr.
   * `streamed`: the inputs that follow on the byte stream (null here until they arrive).
   * `shared`: the inputs the worker maps from the supervisor's memory files (null here until mapped).
   */
  | {
      type: 'infer';
      id: number;
      inputs: Record<string, unknown>;
      env?: RequestEnvironment;
      chunks?: true;
      logs?: true;
      streamed?: StreamedValues;
      shared?: SharedValues;
    }
  /** How many inferences the worker runs at once; the rest wait in its queue, first in, first out. */
  | { type: 'configure'; concurrency: number }
  /** Cancel request `id`: aborts the signal its inference function got (or drops it while it waits). */
  | { type: 'abort'; id: number };

export type WorkerMessage =
  /** `sharedMemory`: the worker can map the supervisor's memory files (shared-memory.ts). */
  | { type: 'ready'; schema: InputsSchema; options: ForwardedOptions; modes: ShimModes; sharedMemory?: boolean }
  /**
   * `predictMs`: how long the model ran it, from when the worker started it (not its wait in the worker's queue).
   * `streamed`: the result's data follows on the byte stream.
   */
  | { type: 'result'; id: number; result: InferenceResult; predictMs: number; streamed?: StreamedValues }
  /** A batch model ran a batch of `size` requests (for the batch size histogram). */
  | { type: 'batch'; size: number }
  /** One checked chunk of request `id`'s streamed result; its final result follows as `result`. */
  | { type: 'chunk'; id: number; chunk: InferenceResult }
  /** A line the model logged for request `id` (`context.log`), with its newline. */
  | { type: 'log'; id: number; text: string }
  | { type: 'threw'; id: number; error: { name: string; message: string; stack: string } }
  /** Request `id` failed with one of our errors (a stream whose chunks break the contract): not a throw, nothing restarts. */
  | { type: 'failed'; id: number; error: { code: ErrorCode; message: string } }
  /** Request `id` was aborted and the model stopped (or it never ran): not a throw, nothing restarts. */
  | { type: 'canceled'; id: number };

/** Structured clone turns Buffers into Uint8Arrays; the model and the modes expect Buffers. */
export function asBuffers<T extends Record<string, unknown>>(record: T): T {
  for (const [key, value] of Object.entries(record)) {
    if (value instanceof Uint8Array && !Buffer.isBuffer(value)) {
      setOwn(record, key, Buffer.from(value.buffer, value.byteOffset, value.byteLength));
    }
  }
  return record;
}

/**
 * Variables that belong to one request rather than to the process. A model run in process reads
 * them from process.env as the mode set them for the request at hand; under the supervisor the
 * mode sets them in the supervisor, so each inference request carries their values to the worker,
 * which sets them before running it. `_X_AMZN_TRACE_ID` is the X-Ray trace header of the Lambda
 * invocation (MODE=lambda sets it), which the AWS SDK reads from process.env.
 */
export const perRequestVariables = ['_X_AMZN_TRACE_ID'] as const;

export type RequestEnvironment = Partial<Record<(typeof perRequestVariables)[number], string>>;

/** The per-request variables set in `env` now; undefined when none is (no mode uses them), so most messages carry nothing. */
export function requestEnvironment(env: NodeJS.ProcessEnv = process.env): RequestEnvironment | undefined {
  let found: RequestEnvironment | undefined;
  for (const name of perRequestVariables) {
    const value = env[name];
    if (value !== undefined) (found ??= {})[name] = value;
  }
  return found;
}

/** Makes `env`'s per-request variables those of the request: set as it had them, removed where it had none. */
export function applyRequestEnvironment(values: RequestEnvironment | undefined, env: NodeJS.ProcessEnv = process.env): void {
  for (const name of perRequestVariables) {
    const value = values?.[name];
    if (value !== undefined) env[name] = value;
    else if (env[name] !== undefined) delete env[name];
  }
}
