import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { WeightsEntry } from '../settings-parts/weights.js';

/** What the fetcher wrote beside a file it put in place: where it came from and what it hashed. */
interface WeightsRecord {
  url: string;
  sha256: string;
  bytes: number;
  /** A folder's files (their paths inside it) and sizes. */
  files?: Record<string, number>;
}

const recordPath = (dir: string, name: string) => join(dir, `.${name}.fetched.json`);

/** Notes that `entry` is in place in `dir`, with the sha256 of what was written. */
export async function writeRecord(dir: string, entry: WeightsEntry, sha256: string, bytes: number, files?: Record<string, number>): Promise<void> {
  await writeFile(recordPath(dir, entry.name), `${JSON.stringify({ url: entry.url, sha256, bytes, ...(files ? { files } : {}) } satisfies WeightsRecord)}\n`);
}

/**
 * Whether `entry`'s file is in place: fetched from the same URL (with the same sha256, when one is
 * given), or put there by someone else and matching the given sha256. A file put there without a
 * record and with no sha256 to check is taken as it is (a volume filled by hand).
 */
export async function isInPlace(dir: string, entry: WeightsEntry): Promise<boolean> {
  if (entry.folder) return isFolderInPlace(dir, entry);
  const path = join(dir, entry.name);
  const file = await stat(path).catch(() => undefined);
  if (!file?.isFile()) return false;
  const record = await readRecord(dir, entry.name);
  if (record) return record.url === entry.url && record.bytes === file.size && (entry.sha256 === undefined || record.sha256 === entry.sha256);
  if (entry.sha256 === undefined) return true;
  const sha256 = await hashFile(path);
  if (sha256 !== entry.sha256) return false;
  await writeRecord(dir, entry, sha256, file.size);
  return true;
}

/**
 * Whether a folder entry is in place: fetched from the same URL with every file it recorded at
 * its size, or a folder put there by someone else (a volume filled by hand), taken as it is.
 * Cloud Storage is not asked again: a start with the folder in place makes no request.
 */
async function isFolderInPlace(dir: string, entry: WeightsEntry): Promise<boolean> {
  const path = join(dir, entry.name);
  const folder = await stat(path).catch(() => undefined);
  if (!folder?.isDirectory()) return false;
  const record = await readRecord(dir, entry.name);
  if (!record) return true;
  if (record.url !== entry.url || !record.files) return false;
  for (const [file, size] of Object.entries(record.files)) {
    if ((await stat(join(path, file)).catch(() => undefined))?.size !== size) return false;
  }
  return true;
}

async function readRecord(dir: string, name: string): Promise<WeightsRecord | undefined> {
  try {
    const record = JSON.parse(await readFile(recordPath(dir, name), 'utf8')) as Partial<WeightsRecord>;
    return typeof record.url === 'string' && typeof record.sha256 === 'string' && typeof record.bytes === 'number' ? (record as WeightsRecord) : undefined;
  } catch {
    return undefined;
  }
}

/** The sha256 of a file, in hex. */
export async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const data of createReadStream(path, { highWaterMark: 4 * 1024 * 1024 })) hash.update(data as Buffer);
  return hash.digest('hex');
}
