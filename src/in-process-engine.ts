import { InferenceThrewError, PredictionCanceledError } from './errors.js';
import type { Engine, InferenceFunction } from './types.js';

/**
 * The engine that calls the inference function in this process. A function that ends, however it
 * ends, after its signal aborted has honoured the cancel: that is no throw and restarts nothing.
 */
export function createInProcessEngine(inferenceFunction: InferenceFunction<never>): Engine {
  const call = inferenceFunction as unknown as InferenceFunction<Record<string, unknown>>;
  return {
    async infer(inputs, options) {
      // A signal of its own per call when none is given: listeners a model adds are dropped with it.
      const signal = options?.signal ?? new AbortController().signal;
      if (signal.aborted) throw new PredictionCanceledError('the prediction was canceled before it ran');
      let result;
      try {
        result = await call(inputs, { signal });
      } catch (thrown) {
        if (signal.aborted) throw new PredictionCanceledError('the prediction was canceled; the model stopped');
        throw new InferenceThrewError(thrown);
      }
      if (signal.aborted) throw new PredictionCanceledError('the prediction was canceled; the model stopped');
      return result;
    },
  };
}
