import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AiIntegrationError } from '../errors.js';
import { createLogger } from '../logger.js';
import { defaultWeightsDir } from '../settings-parts/weights.js';
import { readSetting } from '../settings-table.js';
import { weightsEntries } from './weights-entries.js';
import { isInPlace } from './weights-record.js';

type Environment = Readonly<Record<string, string | undefined>>;

/**
 * The folder WEIGHTS_URL is fetched into: WEIGHTS_DIR, else the user's cache folder.
 * @example weightsDir() // '/root/.cache/ai-integration/weights'
 */
export function weightsDir(env: Environment = process.env): string {
  return resolve(readSetting(env, 'WEIGHTS_DIR') ?? defaultWeightsDir(env));
}

/**
 * The path of a file WEIGHTS_URL names (by its name in the folder; the only one when there is one),
 * or of a gs:// folder (in MODE=vertex, AIP_STORAGE_URI's is `aip-storage`),
 * once it is in place: under the supervisor, before the model loads. Run directly, `await weights()`
 * first. Throws AI_ERR_WEIGHTS_UNAVAILABLE when the file is not there.
 * @example const model = await ort.InferenceSession.create(weightsPath('model.onnx'));
 */
export function weightsPath(name?: string, env: Environment = process.env): string {
  const entries = weightsEntries(env);
  const chosen = name ?? (entries.length === 1 ? entries[0]?.name : undefined);
  if (chosen === undefined) {
    throw new AiIntegrationError(
      'AI_ERR_INVALID_OPTION',
      `weightsPath() without a name needs WEIGHTS_URL to name one file; it names ${entries.length === 0 ? 'none' : entries.map((entry) => entry.name).join(', ')}`,
    );
  }
  const path = join(weightsDir(env), chosen);
  if (!existsSync(path)) {
    throw new AiIntegrationError(
      'AI_ERR_WEIGHTS_UNAVAILABLE',
      `the weights file ${chosen} is not in ${weightsDir(env)}: ${entries.some((entry) => entry.name === chosen) ? 'it is fetched by the supervisor (ai-integration shim.js) before the model loads; run directly, await weights() first' : `WEIGHTS_URL names no file ${JSON.stringify(chosen)}`}`,
    );
  }
  return path;
}

/**
 * Puts every file WEIGHTS_URL names in place, when it is not yet (run directly; under the
 * supervisor they are already), and resolves with each one's path by name.
 * @example const { 'model.onnx': model } = await weights();
 */
export async function weights(env: Environment = process.env): Promise<Record<string, string>> {
  const entries = weightsEntries(env);
  const dir = weightsDir(env);
  const paths = Object.fromEntries(entries.map((entry) => [entry.name, join(dir, entry.name)]));
  let inPlace = true;
  for (const entry of entries) inPlace &&= await isInPlace(dir, entry);
  if (inPlace) return paths;
  const { fetchWeightsAtStart } = await import('./start-fetch.js');
  return fetchWeightsAtStart(env, createLogger(process.stderr, env));
}
