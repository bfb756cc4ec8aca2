/**
 * WEIGHTS_URL's fetcher: every entry into WEIGHTS_DIR, under a lock on the folder, each checked
 * (sha256; a Cloud Storage object against its listing) and renamed into place whole. Loaded only
 * when WEIGHTS_URL (or a platform's own, Vertex AI's AIP_STORAGE_URI) is set.
 */
import { mkdir, open, rename } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { AiIntegrationError } from '../errors.js';
import { describeUrl, type WeightsEntry } from '../settings-parts/weights.js';
import { copyFileUrl } from './file-copy.js';
import { lockWeightsFolder } from './folder-lock.js';
import { describeCause, downloadHttp } from './http-download.js';
import { removePartial } from './partial-state.js';
import { FileProgress, formatBytes, type ProgressSinks } from './progress.js';
import type { StorageClient } from './storage-client.js';
import { isInPlace, writeRecord } from './weights-record.js';

export interface FetchWeightsOptions {
  entries: readonly WeightsEntry[];
  dir: string;
  connections: number;
  sinks: ProgressSinks;
  signal?: AbortSignal;
  /** Where gs:// entries find Cloud Storage and its credentials (STORAGE_EMULATOR_HOST, GCE_METADATA_HOST); process.env when not given. */
  env?: Readonly<Record<string, string | undefined>>;
}

/**
 * Puts every entry in place in `dir` and resolves with each file's path by name. A file already
 * in place (fetched from the same URL, or matching its sha256) is not fetched again; another
 * process fetching into the same folder is waited for. Fails with AI_ERR_WEIGHTS_UNAVAILABLE
 * naming the URL and the cause.
 */
export async function fetchWeights(options: FetchWeightsOptions): Promise<Record<string, string>> {
  const dir = resolve(options.dir);
  const paths = Object.fromEntries(options.entries.map((entry) => [entry.name, join(dir, entry.name)]));
  try {
    await mkdir(dir, { recursive: true });
  } catch (error) {
    throw new AiIntegrationError('AI_ERR_WEIGHTS_UNAVAILABLE', `WEIGHTS_DIR ${dir} cannot be made: ${describeCause(error)}`);
  }
  if (await allInPlace(dir, options.entries)) {
    options.sinks.log.info(`weights: ${options.entries.length === 1 ? 'in place' : `all ${options.entries.length} in place`} in ${dir}`);
    return paths;
  }
  // A lock that another process took over (ours went stale) stops this fetch: two writers would share the partial file.
  const lost = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, lost.signal]) : lost.signal;
  let release: () => Promise<void>;
  try {
    release = await lockWeightsFolder(dir, options.sinks.log, (error) => lost.abort(new Error(`the lock on ${dir} was lost: ${error.message}`)));
  } catch (error) {
    throw new AiIntegrationError('AI_ERR_WEIGHTS_UNAVAILABLE', `WEIGHTS_DIR ${dir} cannot be locked: ${describeCause(error)}`);
  }
  // Made at the first gs:// entry, so that http:// weights never load the Cloud Storage code.
  let storage: StorageClient | undefined;
  try {
    for (const entry of options.entries) {
      if (!entry.url.startsWith('gs:')) {
        await fetchOne(entry, dir, options, signal);
        continue;
      }
      if (await isInPlace(dir, entry)) {
        options.sinks.log.info(`weights: ${entry.name} in place (${join(dir, entry.name)})`);
        continue;
      }
      const { StorageClient } = await import('./storage-client.js');
      const { fetchStorageEntry } = await import('./storage-fetch.js');
      storage ??= new StorageClient(options.env ?? process.env);
      await fetchStorageEntry(entry, dir, { client: storage, connections: options.connections, sinks: options.sinks, signal });
    }
  } finally {
    await storage?.close().catch(() => {});
    await release().catch(() => {});
  }
  return paths;
}

async function allInPlace(dir: string, entries: readonly WeightsEntry[]): Promise<boolean> {
  for (const entry of entries) if (!(await isInPlace(dir, entry))) return false;
  return true;
}

async function fetchOne(entry: WeightsEntry, dir: string, options: FetchWeightsOptions, signal: AbortSignal): Promise<void> {
  const target = join(dir, entry.name);
  const source = describeUrl(entry.url);
  if (await isInPlace(dir, entry)) {
    options.sinks.log.info(`weights: ${entry.name} in place (${target})`);
    return;
  }
  const partialPath = join(dir, `.${entry.name}.partial`);
  const statePath = `${partialPath}.json`;
  const progress = new FileProgress(entry.name, options.sinks);
  let fetched: { sha256: string; size: number };
  let doneBytes = 0;
  try {
    fetched = entry.url.startsWith('file:')
      ? await copyFileUrl(
          entry.url,
          partialPath,
          (size) => progress.start(source, size, 0),
          (bytes) => progress.advance(bytes),
          signal,
        )
      : await downloadHttp({
          url: entry.url,
          partialPath,
          statePath,
          connections: options.connections,
          signal,
          onStart: (size, resumed) => {
            doneBytes = resumed;
            progress.start(source, size, resumed);
          },
          onBytes: (bytes) => {
            doneBytes += bytes;
            progress.advance(bytes);
          },
          onRetry: (message) => progress.note(message),
        });
  } catch (error) {
    // The bar stays where the download stopped, on its own line, above the error.
    progress.endBar();
    const kept =
      doneBytes > 0 && !entry.url.startsWith('file:') ? `; the ${formatBytes(doneBytes)} fetched are kept in ${dir}, and the next start resumes from them` : '';
    throw new AiIntegrationError(
      'AI_ERR_WEIGHTS_UNAVAILABLE',
      `WEIGHTS_URL ${source}: ${describeCause(signal.aborted ? (signal.reason ?? error) : error)}${kept}`,
      { cause: error },
    );
  }
  if (entry.sha256 !== undefined && fetched.sha256 !== entry.sha256) {
    await removePartial(partialPath, statePath);
    throw new AiIntegrationError(
      'AI_ERR_WEIGHTS_UNAVAILABLE',
      `WEIGHTS_URL ${source}: its sha256 is ${fetched.sha256}, not the ${entry.sha256} given; the download is deleted and nothing is put in place`,
    );
  }
  // On disk before it is renamed into place, so that a crash never leaves a file in place that is not whole.
  const handle = await open(partialPath, 'r');
  await handle.datasync();
  await handle.close();
  await rename(partialPath, target);
  await writeRecord(dir, entry, fetched.sha256, fetched.size);
  await removePartial(partialPath, statePath);
  progress.finish(
    entry.sha256 === undefined
      ? `in place, sha256 ${fetched.sha256} (add #sha256=${fetched.sha256} to its WEIGHTS_URL entry to check it)`
      : `in place, sha256 checked`,
  );
}
