import { basename, extname, relative } from 'node:path';
import type { Logger } from '../types.js';

/** What `ai-integration dev` watches: the model's source and its settings, not what it writes. */
export const watchedExtensions = ['.js', '.mjs', '.cjs', '.ts', '.mts', '.cts', '.tsx', '.jsx', '.json'];
export const skippedFolders = ['node_modules', '.git', 'dist'];

// Editors save in bursts (a temporary file, a rename, the file itself; a formatter's second
// write): the changes that come closer together than this are one reload.
const quietMs = 150;

export interface SourceWatcher {
  close(): Promise<void>;
}

/**
 * Watches `folder` and everything under it but `skippedFolders` (chokidar: Node 20's recursive
 * fs.watch cannot skip node_modules, and would watch every folder in it) and calls `changed`
 * once per burst of saves, with the files that changed. Resolves once the first scan is done.
 */
export async function watchSources(folder: string, changed: (files: string[]) => void, log: Logger): Promise<SourceWatcher> {
  const { watch } = await import('chokidar');
  let burst = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  const watcher = watch(folder, {
    ignoreInitial: true,
    ignored: (path, stats) => {
      if (skippedFolders.includes(basename(path))) return true;
      return stats?.isFile() === true && !watchedExtensions.includes(extname(path));
    },
  });
  watcher.on('all', (_event, path) => {
    if (!watchedExtensions.includes(extname(path))) return;
    burst.add(relative(folder, path) || path);
    clearTimeout(timer);
    timer = setTimeout(() => {
      const files = [...burst];
      burst = new Set();
      changed(files);
    }, quietMs);
  });
  watcher.on('error', (error) => log.error(`dev: watching ${folder} failed: ${(error as Error).message}`));
  await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
  return {
    close: () => {
      clearTimeout(timer);
      return watcher.close();
    },
  };
}
