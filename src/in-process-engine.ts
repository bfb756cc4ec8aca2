import { InferenceThrewError } from './errors.js';
import type { Engine, InferenceFunction } from './types.js';

/** The engine that calls the inference function in this process. */
export function createInProcessEngine(inferenceFunction: InferenceFunction<never>): Engine {
  const call = inferenceFunction as unknown as InferenceFunction<Record<string, unknown>>;
  return {
    async infer(inputs) {
      try {
        return await call(inputs);
      } catch (thrown) {
        throw new InferenceThrewError(thrown);
      }
    },
  };
}
