import { AiIntegrationError, InferenceThrewError } from './errors.js';
import { engineAround } from './engine/engine-base.js';
import { runMode } from './run-mode.js';
import type { InferenceResult, Inputs, InputsSchema, StartLoopOptions, StrictSchema } from './types.js';

/** One inference request of the pull-style API. */
export interface InferenceRequest<I> {
  /** The converted, validated inputs (the Python library's `get_next_input`). */
  readonly inputs: I;
  /** Sends the result for this request (the Python library's `send_result`); once only. */
  respond(result: InferenceResult): void;
}

interface PendingRequest {
  inputs: Record<string, unknown>;
  settle: (result: InferenceResult) => void;
  fail: (error: Error) => void;
  responded: boolean;
}

/** The result a request gets when the loop moves on or ends without responding, as in the Python library. */
function noResult(): InferenceResult {
  return {
    'content-type': 'text/plain',
    data: null,
    success: false,
    error: 'no result was sent for this request: the loop took the next request or ended without calling request.respond(result)',
  };
}

/**
 * The pull-style API, for authors who own the loop: runs the mode that `MODE` selects and yields
 * its inference requests one at a time. The process ends with the mode's exit code when the mode
 * is done.
 * @example
 * for await (const request of inferenceRequests({ prompt: { type: 'text' } })) {
 *   request.respond({ 'content-type': 'text/plain', data: request.inputs.prompt.toUpperCase(), success: true });
 * }
 */
export function inferenceRequests<const S extends InputsSchema>(
  inputsSchema: S & NoInfer<StrictSchema<S>>,
  options: StartLoopOptions = {},
): AsyncIterableIterator<InferenceRequest<Inputs<S>>> {
  const queued: PendingRequest[] = [];
  let current: PendingRequest | undefined;
  let wakeConsumer: (() => void) | undefined;
  let loopEnded = false;
  let modeDone = false;

  const wake = () => {
    wakeConsumer?.();
    wakeConsumer = undefined;
  };
  const finishCurrent = () => {
    if (current && !current.responded) {
      current.responded = true;
      current.settle(noResult());
    }
    current = undefined;
  };

  const engine = engineAround((inputs) => {
    if (loopEnded) return Promise.reject(new InferenceThrewError(new Error('the inference request loop has ended')));
    return new Promise((settle, fail) => {
      queued.push({ inputs, settle, fail, responded: false });
      wake();
    });
  });

  void runMode(
    () => engine,
    inputsSchema,
    options,
    () => {
      modeDone = true;
      wake();
    },
  );

  const toRequest = (pending: PendingRequest): InferenceRequest<Inputs<S>> => ({
    inputs: pending.inputs as Inputs<S>,
    respond(result) {
      if (pending.responded) {
        throw new AiIntegrationError('AI_ERR_ALREADY_RESPONDED', 'request.respond() was called twice for the same request');
      }
      pending.responded = true;
      pending.settle(result);
    },
  });

  const iterator: AsyncIterableIterator<InferenceRequest<Inputs<S>>> = {
    async next() {
      finishCurrent();
      while (!loopEnded) {
        const pending = queued.shift();
        if (pending) {
          current = pending;
          return { done: false, value: toRequest(pending) };
        }
        if (modeDone) break;
        await new Promise<void>((resolve) => (wakeConsumer = resolve));
      }
      return { done: true, value: undefined };
    },
    async return() {
      // The loop ended (break or throw): nobody will serve what is left, so say so to the mode.
      finishCurrent();
      loopEnded = true;
      for (const pending of queued.splice(0)) pending.fail(new InferenceThrewError(new Error('the inference request loop has ended')));
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
