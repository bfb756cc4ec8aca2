import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import type { Logger } from '../types.js';

/**
 * Holds the weights folder against every other process that fetches into it, in this container or
 * another on the same volume. proper-lockfile's lock is a directory made atomically (mkdir) whose
 * mtime its holder refreshes: a holder that died, even in another container's PID namespace where
 * its pid means nothing, leaves a lock that goes stale and is taken over.
 */
export async function lockWeightsFolder(dir: string, log: Logger, onCompromised: (error: Error) => void): Promise<() => Promise<void>> {
  const options = {
    lockfilePath: join(dir, '.lock'),
    // Refreshed every 5 s; 30 s without a refresh is a holder that is gone (or a loop stalled that long).
    update: 5000,
    stale: 30_000,
    realpath: false,
    onCompromised,
  };
  try {
    return await lockfile.lock(dir, options);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw error;
  }
  log.info(`weights: another process is fetching into ${dir}; waiting for it to finish`);
  return lockfile.lock(dir, { ...options, retries: { forever: true, minTimeout: 100, maxTimeout: 1000, factor: 1.5 } });
}
