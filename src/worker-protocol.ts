/**
 * The messages between the supervisor and the model worker, over the child process's IPC channel
 * with the 'advanced' serialization (structured clone), so Buffers travel as bytes.
 */
import type { InferenceResult, InputsSchema, StartLoopOptions } from './types.js';

/** Set in the worker's environment by the supervisor. */
export const workerEnvironmentVariable = 'AI_INTEGRATION_WORKER';

/** Set in the supervisor's own environment, so its log does not advise running under it. */
export const supervisorEnvironmentVariable = 'AI_INTEGRATION_SUPERVISOR';

/** The options a shim passed to startLoop that the supervisor's mode must see too. */
export type ForwardedOptions = Pick<StartLoopOptions, 'mode' | 'name' | 'version' | 'description' | 'selfTestRuns' | 'maxInputBytes' | 'maxInputDepth' | 'strictInputs' | 'http'>;

export type SupervisorMessage =
  | { type: 'infer'; id: number; inputs: Record<string, unknown> }
  /** How many inferences the worker runs at once; the rest wait in its queue, first in, first out. */
  | { type: 'configure'; concurrency: number };

export type WorkerMessage =
  | { type: 'ready'; schema: InputsSchema; options: ForwardedOptions }
  | { type: 'result'; id: number; result: InferenceResult }
  | { type: 'threw'; id: number; error: { name: string; message: string; stack: string } };

/** Structured clone turns Buffers into Uint8Arrays; the model and the modes expect Buffers. */
export function asBuffers<T extends Record<string, unknown>>(record: T): T {
  for (const [key, value] of Object.entries(record)) {
    if (value instanceof Uint8Array && !Buffer.isBuffer(value)) {
      Object.defineProperty(record, key, { value: Buffer.from(value.buffer, value.byteOffset, value.byteLength), enumerable: true, writable: true, configurable: true });
    }
  }
  return record;
}
