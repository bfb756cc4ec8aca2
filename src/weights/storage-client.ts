import { setTimeout as delay } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { PermanentDownloadError } from './http-download.js';
import { MetadataTokenSource } from './metadata-token.js';
import { readSetting } from '../settings-table.js';

type Environment = Readonly<Record<string, string | undefined>>;

/** One object as Cloud Storage's JSON API lists it (the fields the fetcher reads). */
export interface StorageObject {
  name: string;
  size: number;
  generation: string;
  /** base64 of the 16 bytes; absent for composite objects. */
  md5Hash?: string;
  /** base64 of the 4 big-endian bytes of its CRC32C. */
  crc32c?: string;
}

/** Where a gs:// URL points: a bucket and an object name (or a prefix, for a folder). */
export interface StorageLocation {
  bucket: string;
  path: string;
}

/** `gs://bucket/a/b` as its bucket and the object name (or prefix) `a/b`. */
export function storageLocation(url: string): StorageLocation {
  const parsed = new URL(url);
  return { bucket: parsed.hostname, path: decodeURIComponent(parsed.pathname.replace(/^\//, '')) };
}

/**
 * The JSON API's endpoint as Google's client libraries choose it: STORAGE_EMULATOR_HOST (a URL;
 * without a scheme, https://), else https://storage.googleapis.com.
 * @example storageEndpoint({ STORAGE_EMULATOR_HOST: 'http://127.0.0.1:9023/' }) // 'http://127.0.0.1:9023'
 */
export function storageEndpoint(env: Environment): string {
  const host = readSetting(env, 'STORAGE_EMULATOR_HOST')?.trim();
  if (!host) return 'https://storage.googleapis.com';
  return (/^[a-z][a-z0-9+.-]*:\/\//i.test(host) ? host : `https://${host}`).replace(/\/+$/, '');
}

const triesInARow = 4;
const pageFields = 'items(name,size,generation,md5Hash,crc32c),nextPageToken';
const objectFields = 'name,size,generation,md5Hash,crc32c';

/**
 * A small client of Cloud Storage's JSON API: what the weights fetcher needs (list a prefix, read
 * an object's metadata, its media URL, the credentials to send), written here rather than taking
 * @google-cloud/storage, whose dependencies (gaxios, google-auth-library, retry-request, ...) are
 * many times the rest of the runtime for three GET requests.
 *
 * Credentials: the metadata server's token, as on Vertex AI and Compute Engine. With
 * STORAGE_EMULATOR_HOST set, Google's libraries send none (an emulator takes any request), and
 * neither does this, unless GCE_METADATA_HOST is set too: then its token is sent.
 */
export class StorageClient {
  readonly endpoint: string;
  private readonly tokens: MetadataTokenSource | undefined;
  private readonly dispatcher = new Agent({ headersTimeout: 30_000, bodyTimeout: 30_000 });

  constructor(env: Environment, tokens?: MetadataTokenSource) {
    this.endpoint = storageEndpoint(env);
    const anonymous = Boolean(readSetting(env, 'STORAGE_EMULATOR_HOST')?.trim()) && !readSetting(env, 'GCE_METADATA_HOST')?.trim();
    this.tokens = anonymous ? undefined : (tokens ?? new MetadataTokenSource(env));
  }

  /** The headers every request carries: the bearer token, when there are credentials. */
  headers = async (signal?: AbortSignal): Promise<Record<string, string>> => (this.tokens ? this.tokens.headers(signal) : {});

  /** Every object whose name starts with `prefix`, page after page, in the order the API lists them. */
  async list(bucket: string, prefix: string, signal: AbortSignal): Promise<StorageObject[]> {
    const objects: StorageObject[] = [];
    let pageToken: string | undefined;
    do {
      const query = new URLSearchParams({ prefix, fields: pageFields });
      if (pageToken) query.set('pageToken', pageToken);
      const page = (await this.getJson(`${this.bucketUrl(bucket)}/o?${query}`, signal)) as { items?: unknown[]; nextPageToken?: unknown };
      for (const item of page.items ?? []) objects.push(readObject(item));
      pageToken = typeof page.nextPageToken === 'string' && page.nextPageToken !== '' ? page.nextPageToken : undefined;
    } while (pageToken);
    return objects;
  }

  /** One object's metadata. */
  async object(bucket: string, name: string, signal: AbortSignal): Promise<StorageObject> {
    return readObject(await this.getJson(`${this.objectUrl(bucket, name)}?fields=${encodeURIComponent(objectFields)}`, signal));
  }

  /** The URL of the object's bytes, pinned to the listed generation so that every range comes from the same version. */
  mediaUrl(bucket: string, object: StorageObject): string {
    const generation = object.generation === '' ? '' : `&generation=${encodeURIComponent(object.generation)}`;
    return `${this.objectUrl(bucket, object.name)}?alt=media${generation}`;
  }

  async close(): Promise<void> {
    await Promise.all([this.dispatcher.close(), this.tokens?.close()]);
  }

  private bucketUrl(bucket: string): string {
    return `${this.endpoint}/storage/v1/b/${encodeURIComponent(bucket)}`;
  }

  private objectUrl(bucket: string, name: string): string {
    return `${this.bucketUrl(bucket)}/o/${encodeURIComponent(name)}`;
  }

  // Tried again (with backoff) when the connection fails or the API answers 429 or 5xx, as Google's clients do.
  private async getJson(url: string, signal: AbortSignal): Promise<unknown> {
    for (let tries = 1; ; tries += 1) {
      // Outside the try: the token source has tried again already, and says why it has none.
      const headers = await this.headers(signal);
      let retryable: Error;
      try {
        const response = await request(url, { dispatcher: this.dispatcher, headers, signal });
        const text = await response.body.text();
        if (response.statusCode === 200) return JSON.parse(text) as unknown;
        const reason = `Cloud Storage answered ${response.statusCode}${errorMessage(text)}`;
        if (response.statusCode !== 429 && response.statusCode < 500) throw new PermanentDownloadError(reason);
        retryable = new Error(reason);
      } catch (error) {
        if (error instanceof PermanentDownloadError || signal.aborted) throw error;
        retryable = error as Error;
      }
      if (tries >= triesInARow) throw retryable;
      await delay(200 * 2 ** tries, undefined, { signal }).catch(() => {});
    }
  }
}

function errorMessage(text: string): string {
  try {
    const message = (JSON.parse(text) as { error?: { message?: unknown } }).error?.message;
    return typeof message === 'string' && message.trim() ? ` (${message.trim().slice(0, 300)})` : '';
  } catch {
    return '';
  }
}

function readObject(item: unknown): StorageObject {
  const object = item as Record<string, unknown>;
  const size = Number(object.size);
  if (typeof object.name !== 'string' || !Number.isSafeInteger(size) || size < 0) {
    throw new PermanentDownloadError(`Cloud Storage listed an object without a name or size: ${JSON.stringify(item).slice(0, 200)}`);
  }
  return {
    name: object.name,
    size,
    generation: String(object.generation ?? ''),
    ...(typeof object.md5Hash === 'string' && object.md5Hash ? { md5Hash: object.md5Hash } : {}),
    ...(typeof object.crc32c === 'string' && object.crc32c ? { crc32c: object.crc32c } : {}),
  };
}
