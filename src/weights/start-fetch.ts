import { readSetting } from '../settings-table.js';
import type { Logger } from '../types.js';
import { fetchWeights } from './fetch-weights.js';
import { weightsEntries } from './weights-entries.js';
import { weightsDir } from './weights-path.js';

/**
 * What the supervisor runs before the first worker starts (and `weights()` run directly): every
 * WEIGHTS_URL entry (and the platform's, AIP_STORAGE_URI) into WEIGHTS_DIR, with a progress bar on a terminal, lines in the log
 * otherwise, and each line also to `report` (Cog's health check shows them as setup logs).
 */
export async function fetchWeightsAtStart(
  env: Readonly<Record<string, string | undefined>>,
  log: Logger,
  report?: (line: string) => void,
  signal?: AbortSignal,
): Promise<Record<string, string>> {
  const entries = weightsEntries(env);
  const terminal = process.stderr.isTTY && readSetting(env, 'LOG_FORMAT') === 'text' ? process.stderr : undefined;
  return fetchWeights({
    entries,
    dir: weightsDir(env),
    connections: readSetting(env, 'WEIGHTS_CONNECTIONS'),
    sinks: { log, ...(report ? { report } : {}), ...(terminal ? { terminal } : {}) },
    env,
    ...(signal ? { signal } : {}),
  });
}
