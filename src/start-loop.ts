import { createInProcessEngine } from './engine/in-process-engine.js';
import { runMode, sendModelStdoutToStderrWhenOneShot } from './run-mode.js';
import { BatchingEngine } from './engine/batching-engine.js';
import type { BatchInferenceFunction, BatchOptions, InferenceFunction, Inputs, InputsSchema, StartLoopOptions, StrictSchema } from './types.js';

// A shim loads its model before it calls startLoop: what the model prints meanwhile must already
// stay off a one-shot mode's stdout.
sendModelStdoutToStderrWhenOneShot(process.env, process.argv.slice(2));

/**
 * Runs `inferenceFunction` in the mode that `MODE` selects, then ends the process with the
 * mode's exit code. The function's `inputs` argument is typed from the schema. With the `batch`
 * option the function is a batch function: it takes an array of inputs objects and returns an
 * array of as many results.
 * @example
 * startLoop((inputs) => ({ 'content-type': 'text/plain', data: `${inputs.image.length} bytes`, success: true }),
 *   { image: { type: 'image' } });
 * @example
 * startLoop(async (batch) => (await model.run(batch.map((inputs) => inputs.image))).map(json),
 *   { image: { type: 'image' } }, { batch: { maxSize: 8 } });
 */
export function startLoop<const S extends InputsSchema>(
  batchFunction: BatchInferenceFunction<Inputs<S>>,
  inputsSchema: S & NoInfer<StrictSchema<S>>,
  options: StartLoopOptions & { batch: BatchOptions },
): Promise<void>;
export function startLoop<const S extends InputsSchema>(
  inferenceFunction: InferenceFunction<Inputs<S>>,
  inputsSchema: S & NoInfer<StrictSchema<S>>,
  options?: StartLoopOptions & { batch?: undefined },
): Promise<void>;
export function startLoop(
  inferenceFunction: InferenceFunction<never> | BatchInferenceFunction<never>,
  inputsSchema: InputsSchema,
  options: StartLoopOptions = {},
): Promise<void> {
  const { batch } = options;
  const createEngine = batch
    ? () => new BatchingEngine(inferenceFunction as BatchInferenceFunction<Record<string, unknown>>, batch)
    : () => createInProcessEngine(inferenceFunction as InferenceFunction<never>);
  return runMode(createEngine, inputsSchema, options);
}
