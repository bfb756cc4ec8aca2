import { modelFaults } from './model-faults.js';
import { describeModel } from './package-metadata.js';
import { validateSchema } from './inputs/schema.js';
import { validateOutputDescription } from './result/output-description.js';
import { readSettings } from './settings.js';
import { readSetting } from './settings-table.js';
import type { Engine, InputsSchema, Logger, ModeContext, StartLoopOptions } from './types.js';

/**
 * What a mode runs with, read once from the options and `env`: the schema and output checked, the
 * settings, the model's name and version (MODEL_NAME and MODEL_VERSION win), the engine and its
 * fault policy. runMode's, and a test's that runs a mode in its own process.
 * @example const context = createModeContext(() => createInProcessEngine(infer), schema, { env }, env, [], log, undefined);
 */
export function createModeContext(
  createEngine: () => Engine,
  schema: InputsSchema,
  options: StartLoopOptions,
  env: Readonly<Record<string, string | undefined>>,
  argv: readonly string[],
  log: Logger,
  shim: string | undefined,
): ModeContext {
  validateSchema(schema);
  const output = validateOutputDescription(options.output);
  const settings = readSettings(options, env);
  const model = describeModel(options, shim);
  const engine = createEngine();
  return {
    modelName: readSetting(env, 'MODEL_NAME') ?? model.name,
    modelVersion: readSetting(env, 'MODEL_VERSION') ?? model.version,
    modelDescription: model.description,
    ...(output ? { output } : {}),
    ...(options.batch ? { batch: options.batch } : {}),
    engine,
    faults: modelFaults(engine, log),
    schema,
    settings,
    argv,
    env,
    stdin: options.stdin ?? process.stdin,
    stdout: options.stdout ?? process.stdout,
    log,
  };
}
