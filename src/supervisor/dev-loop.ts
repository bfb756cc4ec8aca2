/**
 * `ai-integration dev SHIM`: the supervisor in a serving mode (MODE=http unless set) that reloads
 * the model in place when the shim or a file beside it changes: the port stays open, requests in
 * flight finish, those waiting go to the new worker. A TypeScript shim runs through tsx, loaded
 * only here. A shim that stops loading after an edit is reported once, on the terminal, in
 * readiness and to each request, until the next save loads it again.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { AiIntegrationError } from '../errors.js';
import type { Logger } from '../types.js';
import type { SupervisedEngine } from './supervised-engine.js';
import { skippedFolders, watchedExtensions, watchSources, type SourceWatcher } from './source-watcher.js';

const typeScript = new Set(['.ts', '.mts', '.cts', '.tsx']);

/** The Node options that let a worker import `shim` (the tsx loader for TypeScript), or none. */
export function loaderArguments(shim: string): string[] {
  if (!typeScript.has(extname(shim))) return [];
  // The model folder's own tsx first (its devDependency), else the one beside this package.
  for (const from of [join(dirname(shim), 'package.json'), import.meta.url]) {
    try {
      const loader = createRequire(from).resolve('tsx');
      if (existsSync(loader)) return ['--import', pathToFileURL(loader).href];
    } catch {
      // not installed there
    }
  }
  throw new AiIntegrationError(
    'AI_ERR_USAGE',
    `dev runs ${JSON.stringify(shim)} with tsx, which is not installed; install it beside the model (npm install --save-dev tsx), or build the shim and run the .js file`,
  );
}

/** Starts watching the shim's folder; each burst of saves reloads the engine's workers. */
export async function startDevLoop(shim: string, engine: SupervisedEngine, log: Logger): Promise<SourceWatcher> {
  const folder = dirname(shim);
  const watcher = await watchSources(
    folder,
    (files) => {
      const named = files.length > 3 ? `${files.slice(0, 3).join(', ')} and ${files.length - 3} more` : files.join(', ');
      log.info(`dev: ${named} changed; reloading the model`);
      engine.reload();
    },
    log,
  );
  log.info(
    `dev: watching ${folder} (${watchedExtensions.map((extension) => `*${extension}`).join(' ')}; not ${skippedFolders.join(', ')}); a change reloads the model in place`,
  );
  return watcher;
}
