import { AiIntegrationError, InferenceThrewError, PredictionCanceledError } from '../errors.js';
import { Cancellation } from './cancellation.js';
import { consumeStream, isInferenceStream, StreamStopped } from '../result/result-stream.js';
import { logModelLine } from './model-log.js';
import { EngineBase, inProcessCapabilities } from './engine-base.js';
import type { Engine, InferenceContext, InferenceFunction, InferenceResult, InferOptions } from '../types.js';

/** The inference function's context; its `signal` is made when the model first reads it. */
function contextOf(cancellation: Cancellation, onLog: InferOptions['onLog']): InferenceContext {
  return {
    get signal() {
      return cancellation.signal;
    },
    log: (message) => logModelLine(message, onLog),
  };
}

/**
 * The engine that calls the inference function in this process. A function that ends, however it
 * ends, after its signal aborted has honoured the cancel: that is no throw and restarts nothing.
 * A streamed result is read here, chunk by chunk, so every mode gets its final result.
 */
export function createInProcessEngine(inferenceFunction: InferenceFunction<never>): Engine {
  return new InProcessEngine(inferenceFunction as unknown as InferenceFunction<Record<string, unknown>>);
}

class InProcessEngine extends EngineBase {
  // A throw leaves this process's model in a bad state; nothing here bounds time or batches.
  readonly capabilities = inProcessCapabilities;

  constructor(private readonly call: InferenceFunction<Record<string, unknown>>) {
    super();
  }

  async infer(inputs: Record<string, unknown>, options?: InferOptions): Promise<InferenceResult> {
    const call = this.call;
    // One of its own per call when none is given (listeners a model adds are dropped with it);
    // its AbortSignal is made only if the model reads `signal`.
    const cancellation = Cancellation.of(options?.signal) ?? new Cancellation();
    if (cancellation.aborted) throw new PredictionCanceledError('the prediction was canceled before it ran');
    let result: InferenceResult;
    try {
      const returned = await call(inputs, contextOf(cancellation, options?.onLog));
      result = isInferenceStream(returned) ? await consumeStream(returned, cancellation, options?.onChunk) : returned;
    } catch (thrown) {
      if (thrown instanceof StreamStopped) throw new PredictionCanceledError('the prediction was canceled; its stream was stopped');
      // A stream whose output breaks the contract: the request fails, the model is fine.
      if (thrown instanceof AiIntegrationError && thrown.code === 'AI_ERR_INVALID_RESULT') throw thrown;
      if (cancellation.aborted) throw new PredictionCanceledError('the prediction was canceled; the model stopped');
      throw new InferenceThrewError(thrown);
    }
    if (cancellation.aborted) throw new PredictionCanceledError('the prediction was canceled; the model stopped');
    return result;
  }
}
