import { createInProcessEngine } from './in-process-engine.js';
import { runMode } from './run-mode.js';
import type { InferenceFunction, Inputs, InputsSchema, StartLoopOptions, StrictSchema } from './types.js';

/**
 * Runs `inferenceFunction` in the mode that `MODE` selects, then ends the process with the
 * mode's exit code. The function's `inputs` argument is typed from the schema.
 * @example
 * startLoop((inputs) => ({ 'content-type': 'text/plain', data: `${inputs.image.length} bytes`, success: true }),
 *   { image: { type: 'image' } });
 */
export function startLoop<const S extends InputsSchema>(
  inferenceFunction: InferenceFunction<Inputs<S>>,
  inputsSchema: S & NoInfer<StrictSchema<S>>,
  options: StartLoopOptions = {},
): Promise<void> {
  return runMode(() => createInProcessEngine(inferenceFunction as InferenceFunction<never>), inputsSchema, options);
}
