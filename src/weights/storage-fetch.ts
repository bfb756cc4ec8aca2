/**
 * WEIGHTS_URL's gs:// entries (and Vertex AI's AIP_STORAGE_URI): one object, or every object
 * under a prefix, through Cloud Storage's JSON API, each downloaded by the same ranged, resumable
 * download as an https:// file. Loaded only when an entry is gs://.
 */
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, sep } from 'node:path';
import { AiIntegrationError } from '../errors.js';
import { describeUrl, type WeightsEntry } from '../settings-parts/weights.js';
import type { HashName } from './hash-follower.js';
import { describeCause, downloadHttp, PermanentDownloadError } from './http-download.js';
import { planPieces, removePartial, writeJsonWhole } from './partial-state.js';
import { FileProgress, formatBytes, type ProgressSinks } from './progress.js';
import { type StorageClient, type StorageObject, storageLocation } from './storage-client.js';
import { writeRecord } from './weights-record.js';

/** What fetching a gs:// entry needs from the fetcher. */
export interface StorageFetchContext {
  client: StorageClient;
  connections: number;
  sinks: ProgressSinks;
  signal: AbortSignal;
}

/**
 * Puts `entry` in place in `dir`: an object as the file `dir/NAME`; a folder as `dir/NAME/` with
 * the objects' names below the prefix as its layout, downloaded into `dir/.NAME.partial/` and
 * renamed into place whole once every object is there and checked. Each object is checked
 * against the size Cloud Storage lists and its MD5 (or, for a composite object that has none,
 * its CRC32C); an object that fails is deleted and the start fails naming it.
 */
export async function fetchStorageEntry(entry: WeightsEntry, dir: string, context: StorageFetchContext): Promise<void> {
  const { bucket, path } = storageLocation(entry.url);
  const variable = entry.from ?? 'WEIGHTS_URL';
  const fail = (what: string, error: unknown): never => {
    throw new AiIntegrationError('AI_ERR_WEIGHTS_UNAVAILABLE', `${variable} ${describeUrl(entry.url)}: ${what}${describeCause(error)}`, { cause: error });
  };
  if (!entry.folder) {
    const object = await context.client.object(bucket, path, context.signal).catch((error: unknown) => fail('', error));
    const partialPath = join(dir, `.${entry.name}.partial`);
    const fetched = await fetchObject(object, bucket, partialPath, entry.name, context).catch((error: unknown) => fail('', error));
    if (entry.sha256 !== undefined && fetched.sha256 !== entry.sha256) {
      await removePartial(partialPath, `${partialPath}.json`);
      fail('', new Error(`its sha256 is ${fetched.sha256}, not the ${entry.sha256} given; the download is deleted and nothing is put in place`));
    }
    await syncAndRename(partialPath, join(dir, entry.name));
    await writeRecord(dir, entry, fetched.sha256, fetched.size);
    await removePartial(partialPath, `${partialPath}.json`);
    return;
  }

  const listed = await context.client.list(bucket, path, context.signal).catch((error: unknown) => fail('listing its objects: ', error));
  // A name ending in a slash is a folder's placeholder (the console's "create folder"), not a file.
  const objects = listed.filter((object) => !object.name.endsWith('/'));
  if (objects.length === 0) fail('', new Error(`Cloud Storage lists no object under it (bucket ${bucket}, prefix ${JSON.stringify(path)})`));
  const files = objects.map((object) => ({ object, relative: relativePath(object.name, path, fail) }));
  const total = objects.reduce((sum, object) => sum + object.size, 0);
  context.sinks.log.info(`weights: ${entry.name}: ${objects.length} objects (${formatBytes(total)}) under ${describeUrl(entry.url)}`);
  context.sinks.report?.(`weights: ${entry.name}: ${objects.length} objects (${formatBytes(total)}) under ${describeUrl(entry.url)}`);

  const staging = join(dir, `.${entry.name}.partial`);
  const donePath = `${staging}.json`;
  // Objects already checked and in the staging folder, from an earlier start that did not finish.
  const done = await readDone(donePath, entry.url);
  const missing: typeof files = [];
  for (const file of files) {
    const before = done.objects[file.relative];
    if (
      before?.generation === file.object.generation &&
      before.size === file.object.size &&
      (await sizeOf(join(staging, file.relative))) === file.object.size
    ) {
      context.sinks.log.info(`weights: ${entry.name}/${file.relative} fetched before, checked`);
    } else missing.push(file);
  }
  // The record of what is done is rewritten whole after each object, one write at a time, each
  // whole or not at all; a write that failed fails its own object, not every one after it.
  let recorded = Promise.resolve();
  const fetchOne = async ({ object, relative }: (typeof files)[number], sinks: ProgressSinks) => {
    const target = join(staging, relative);
    const partialPath = join(dirname(target), `.${basename(target)}.partial`);
    try {
      await mkdir(dirname(target), { recursive: true });
      await fetchObject(object, bucket, partialPath, `${entry.name}/${relative}`, { ...context, sinks });
      await syncAndRename(partialPath, target);
      await removePartial(partialPath, `${partialPath}.json`);
      done.objects[relative] = { generation: object.generation, size: object.size };
      recorded = recorded.catch(() => {}).then(() => writeJsonWhole(donePath, done));
      await recorded;
    } catch (error) {
      // Its own cause, taken now: a stop that comes while the others finish must not stand in for it.
      throw context.signal.aborted ? (context.signal.reason ?? error) : error;
    }
  };
  const [first, ...others] = await fetchSideBySide(missing, context.connections, fetchOne, context.sinks);
  for (const { item, error } of others) context.sinks.log.warn(`weights: ${entry.name}/${item.relative}: ${describeCause(error)}`);
  if (first) fail(`gs://${bucket}/${first.item.object.name}: `, first.error);
  // The folder goes into place whole: an older copy is moved aside first, then removed.
  const final = join(dir, entry.name);
  const old = join(dir, `.${entry.name}.old`);
  await rm(old, { recursive: true, force: true });
  if (await stat(final).catch(() => undefined)) await rename(final, old);
  await rename(staging, final);
  await rm(old, { recursive: true, force: true });
  await writeRecord(dir, entry, '', total, Object.fromEntries(files.map(({ object, relative }) => [relative, object.size])));
  await Promise.all([rm(donePath, { force: true }), rm(`${donePath}.tmp`, { force: true })]);
  context.sinks.log.info(`weights: ${entry.name} in place (${objects.length} objects, ${formatBytes(total)}) in ${final}`);
  context.sinks.report?.(`weights: ${entry.name} in place`);
}

/**
 * Fetches a folder's objects within WEIGHTS_CONNECTIONS connections in all: an object large
 * enough to come in several ranges takes every connection and runs alone (with its bar on a
 * terminal); smaller ones, one connection each, run side by side, that many at a time, and say
 * their progress in lines (several bars cannot share one line). A model folder is mostly small
 * files (configs, tokenizers), where one at a time would wait out a round trip for each. After a
 * failure no other object starts; those under way finish and are kept for the next start. Returns
 * the failures, first first.
 */
async function fetchSideBySide<Item extends { object: StorageObject }>(
  items: readonly Item[],
  connections: number,
  fetchOne: (item: Item, sinks: ProgressSinks) => Promise<void>,
  sinks: ProgressSinks,
): Promise<{ item: Item; error: unknown }[]> {
  const running = new Set<Promise<void>>();
  const withoutBar: ProgressSinks = { ...sinks, terminal: undefined };
  const failures: { item: Item; error: unknown }[] = [];
  for (const item of items) {
    const alone = connections === 1 || planPieces(item.object.size, connections).length > 1;
    while (running.size > 0 && (alone || running.size >= connections)) await Promise.race(running);
    if (failures.length > 0) break;
    const fetching: Promise<void> = fetchOne(item, alone ? sinks : withoutBar).then(
      () => {
        running.delete(fetching);
      },
      (error: unknown) => {
        failures.push({ item, error });
        running.delete(fetching);
      },
    );
    running.add(fetching);
    if (alone) await fetching;
  }
  await Promise.all(running);
  return failures;
}

/** The object's name below the prefix, as a path inside the folder; a name that would leave it is refused. */
function relativePath(name: string, prefix: string, fail: (what: string, error: unknown) => never): string {
  const relative = name.slice(prefix.length);
  const segments = relative.split('/');
  if (relative === '' || segments.some((segment) => segment === '' || segment === '.' || segment === '..' || /[\\\0]/.test(segment))) {
    fail('', new Error(`the object ${JSON.stringify(name)} has no safe path below the prefix (an empty, "." or ".." segment, a backslash or NUL)`));
  }
  // The names the fetcher gives its partial downloads beside a file (.NAME.partial, its .json and .json.tmp): an object so named would be written over.
  if (/^\..+\.partial(\.json(\.tmp)?)?$/.test(segments.at(-1) ?? '')) {
    fail('', new Error(`the object ${JSON.stringify(name)} has a name kept for partial downloads (.NAME.partial, .NAME.partial.json)`));
  }
  return segments.join(sep);
}

interface DoneRecord {
  url: string;
  objects: Record<string, { generation: string; size: number }>;
}

async function readDone(path: string, url: string): Promise<DoneRecord> {
  try {
    const record = JSON.parse(await readFile(path, 'utf8')) as DoneRecord;
    if (record.url === url && typeof record.objects === 'object' && record.objects !== null) return record;
  } catch {
    // none, or not ours
  }
  return { url, objects: {} };
}

const sizeOf = async (path: string) => (await stat(path).catch(() => undefined))?.size;

/** Downloads one object into `partialPath` and checks it against its listing; resolves with its sha256 and size. */
async function fetchObject(
  object: StorageObject,
  bucket: string,
  partialPath: string,
  label: string,
  context: StorageFetchContext,
): Promise<{ sha256: string; size: number }> {
  const statePath = `${partialPath}.json`;
  const progress = new FileProgress(label, context.sinks);
  const check: HashName | undefined = object.md5Hash ? 'md5' : object.crc32c ? 'crc32c' : undefined;
  const fetched = await downloadHttp({
    url: context.client.mediaUrl(bucket, object),
    partialPath,
    statePath,
    connections: context.connections,
    signal: context.signal,
    headers: () => context.client.headers(context.signal),
    alsoHash: check ? [check] : [],
    onStart: (size, resumed) => progress.start(`gs://${bucket}/${object.name}`, size, resumed),
    onBytes: (bytes) => progress.advance(bytes),
    onRetry: (message) => progress.note(message),
  });
  const problem =
    fetched.size !== object.size
      ? `it is ${fetched.size} bytes, not the ${object.size} Cloud Storage lists`
      : check === 'md5' && fetched.hashes.md5 !== hex(object.md5Hash)
        ? `its MD5 is ${base64(fetched.hashes.md5)}, not the ${object.md5Hash} Cloud Storage lists`
        : check === 'crc32c' && fetched.hashes.crc32c !== hex(object.crc32c)
          ? `its CRC32C is ${base64(fetched.hashes.crc32c)}, not the ${object.crc32c} Cloud Storage lists`
          : undefined;
  if (problem) {
    await removePartial(partialPath, statePath);
    throw new PermanentDownloadError(`${problem}; the download is deleted and nothing is put in place`);
  }
  progress.finish(check ? `fetched, size and ${check === 'md5' ? 'MD5' : 'CRC32C'} checked` : 'fetched, size checked (Cloud Storage lists no MD5 or CRC32C)');
  return { sha256: fetched.sha256, size: fetched.size };
}

const hex = (value: string | undefined) => Buffer.from(value ?? '', 'base64').toString('hex');
const base64 = (value: string | undefined) => Buffer.from(value ?? '', 'hex').toString('base64');

// On disk before it is renamed into place, so that a crash never leaves a file in place that is not whole.
async function syncAndRename(partialPath: string, target: string): Promise<void> {
  const handle = await open(partialPath, 'r');
  await handle.datasync();
  await handle.close();
  await rename(partialPath, target);
}
