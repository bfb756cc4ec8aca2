import { AiIntegrationError, InferenceThrewError, PredictionCanceledError } from './errors.js';
import { consumeStream, isInferenceStream, StreamStopped } from './result-stream.js';
import type { Engine, InferenceFunction, InferenceResult } from './types.js';

/**
 * The engine that calls the inference function in this process. A function that ends, however it
 * ends, after its signal aborted has honoured the cancel: that is no throw and restarts nothing.
 * A streamed result is read here, chunk by chunk, so every mode gets its final result.
 */
export function createInProcessEngine(inferenceFunction: InferenceFunction<never>): Engine {
  const call = inferenceFunction as unknown as InferenceFunction<Record<string, unknown>>;
  return {
    async infer(inputs, options) {
      // A signal of its own per call when none is given: listeners a model adds are dropped with it.
      const signal = options?.signal ?? new AbortController().signal;
      if (signal.aborted) throw new PredictionCanceledError('the prediction was canceled before it ran');
      let result: InferenceResult;
      try {
        const returned = await call(inputs, { signal });
        result = isInferenceStream(returned) ? await consumeStream(returned, signal, options?.onChunk) : returned;
      } catch (thrown) {
        if (thrown instanceof StreamStopped) throw new PredictionCanceledError('the prediction was canceled; its stream was stopped');
        // A stream whose output breaks the contract: the request fails, the model is fine.
        if (thrown instanceof AiIntegrationError && thrown.code === 'AI_ERR_INVALID_RESULT') throw thrown;
        if (signal.aborted) throw new PredictionCanceledError('the prediction was canceled; the model stopped');
        throw new InferenceThrewError(thrown);
      }
      if (signal.aborted) throw new PredictionCanceledError('the prediction was canceled; the model stopped');
      return result;
    },
  };
}
