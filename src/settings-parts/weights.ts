import { homedir } from 'node:os';
import { basename, join } from 'node:path';
import { AiIntegrationError } from '../errors.js';
import type { Environment, Parser } from './env-values.js';

/** One file (or Cloud Storage folder) of WEIGHTS_URL: where it comes from, the name it takes in WEIGHTS_DIR, and its sha256 when given. */
export interface WeightsEntry {
  url: string;
  name: string;
  /** 64 lowercase hex digits. */
  sha256?: string;
  /** A `gs://bucket/prefix/` folder: every object under the prefix, in a folder of this name. */
  folder?: true;
  /** The variable that named it, for messages; WEIGHTS_URL when unset. */
  from?: string;
}

/** The schemes fetched; any other is refused at start-up, naming it. */
const fetchedSchemes = new Set(['http:', 'https:', 'file:', 'gs:']);

/**
 * WEIGHTS_URL: one or several `url[#sha256=HEX][&name=FILE]` entries, separated by spaces or
 * commas. The file's name in WEIGHTS_DIR is `name=`, else the URL's last path segment.
 * @example parseWeightsUrls('https://h/m.onnx#sha256=ab12...') // [{ url: 'https://h/m.onnx', name: 'm.onnx', sha256: 'ab12...' }]
 */
export function parseWeightsUrls(text: string, variable = 'WEIGHTS_URL'): WeightsEntry[] {
  const entries = text
    .split(/[\s,]+/)
    .filter((entry) => entry !== '')
    .map((entry) => parseEntry(entry, variable));
  const names = new Set<string>();
  for (const entry of entries) {
    if (names.has(entry.name)) {
      throw new AiIntegrationError(
        'AI_ERR_INVALID_OPTION',
        `${variable}: two entries are named ${JSON.stringify(entry.name)}; give one another name with #name=FILE`,
      );
    }
    names.add(entry.name);
  }
  return entries;
}

function parseEntry(entry: string, variable: string): WeightsEntry {
  let url: URL;
  try {
    url = new URL(entry);
  } catch {
    throw new AiIntegrationError('AI_ERR_INVALID_OPTION', `${variable}: ${JSON.stringify(entry)} is not a URL (http://, https://, file:// or gs://)`);
  }
  if (!fetchedSchemes.has(url.protocol)) {
    // s3:// needs AWS's request signing, which the runtime does not carry.
    const hint =
      url.protocol === 's3:'
        ? `; give the object's https:// URL (a presigned URL for a private bucket), or copy it in the shim with the cloud's SDK (docs/how-to/weights.md)`
        : '';
    throw new AiIntegrationError(
      'AI_ERR_INVALID_OPTION',
      `${variable}: the scheme ${url.protocol}// of ${describeUrl(entry)} is not fetched; only http://, https://, file:// and gs://${hint}`,
    );
  }
  if (url.protocol === 'gs:' && !isBucketName(url.hostname)) {
    throw new AiIntegrationError(
      'AI_ERR_INVALID_OPTION',
      `${variable}: ${describeUrl(entry)} names no Cloud Storage bucket (gs://BUCKET/PREFIX/ or gs://BUCKET/OBJECT)`,
    );
  }
  if (url.protocol === 'gs:' && url.search !== '') {
    throw new AiIntegrationError('AI_ERR_INVALID_OPTION', `${variable}: ${describeUrl(entry)}: a gs:// URL takes no query`);
  }
  const options = new URLSearchParams(url.hash.slice(1));
  url.hash = '';
  let sha256: string | undefined;
  let name: string | undefined;
  for (const [key, value] of options) {
    if (key === 'sha256' && /^[0-9a-fA-F]{64}$/.test(value)) sha256 = value.toLowerCase();
    else if (key === 'name' && isFileName(value)) name = value;
    else {
      throw new AiIntegrationError(
        'AI_ERR_INVALID_OPTION',
        `${variable}: #${key}=${value} of ${describeUrl(entry)} is not #sha256=<64 hex digits> or #name=<a file name>`,
      );
    }
  }
  // A gs:// URL that ends with a slash (or names only the bucket) is a folder: every object under it.
  const folder = url.protocol === 'gs:' && (url.pathname === '' || url.pathname.endsWith('/'));
  if (folder && sha256 !== undefined) {
    throw new AiIntegrationError(
      'AI_ERR_INVALID_OPTION',
      `${variable}: #sha256= of ${describeUrl(entry)} cannot check a folder; each object is checked against the size and MD5 or CRC32C Cloud Storage lists`,
    );
  }
  name ??= folder ? decodeURIComponent(basename(url.pathname) || url.hostname) : decodeURIComponent(basename(url.pathname));
  if (!isFileName(name)) {
    throw new AiIntegrationError('AI_ERR_INVALID_OPTION', `${variable}: ${describeUrl(entry)} names no file; give it one with #name=FILE`);
  }
  return { url: url.href, name, ...(sha256 ? { sha256 } : {}), ...(folder ? { folder: true as const } : {}) };
}

/**
 * Vertex AI's AIP_STORAGE_URI (the copy of the model's --artifact-uri) as a weights entry: the
 * folder `gs://BUCKET/PREFIX` into WEIGHTS_DIR/aip-storage.
 * @example storageFolderEntry('gs://b/model', 'aip-storage', 'AIP_STORAGE_URI') // { url: 'gs://b/model/', name: 'aip-storage', folder: true }
 */
export function storageFolderEntry(text: string, name: string, variable: string): WeightsEntry {
  const trimmed = text.trim();
  if (!/^gs:\/\/[^/?#]+/.test(trimmed)) {
    throw new AiIntegrationError('AI_ERR_INVALID_OPTION', `${variable}: ${describeUrl(trimmed)} is not a gs://BUCKET/PREFIX folder`);
  }
  return { ...parseEntry(`${trimmed.replace(/\/*$/, '/')}#name=${name}`, variable), from: variable };
}

// Cloud Storage's bucket names: 3 to 222 lowercase letters, digits, dashes, underscores and dots.
const isBucketName = (name: string) => /^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/.test(name);

// A plain file name: no folder, not hidden (the fetcher's own files start with a dot).
const isFileName = (name: string) => name !== '' && !name.startsWith('.') && !/[/\\\0]/.test(name);

/**
 * A URL as messages and logs show it: without its query (a signed URL's signature is a
 * credential) or user info.
 */
export function describeUrl(text: string): string {
  try {
    const url = new URL(text);
    url.username = '';
    url.password = '';
    const query = url.search === '' ? '' : '?…';
    url.search = '';
    url.hash = '';
    return `${url.href}${query}`;
  } catch {
    return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);
  }
}

/** WEIGHTS_URL's parser for the settings table. */
export const weightsUrls: Parser<readonly WeightsEntry[]> = {
  read(env, name) {
    const text = env[name];
    return text?.trim() ? parseWeightsUrls(text, name) : undefined;
  },
};

/** WEIGHTS_DIR when unset: the user's cache folder, as XDG says ($XDG_CACHE_HOME, else ~/.cache). */
export function defaultWeightsDir(env: Environment): string {
  const cache = env.XDG_CACHE_HOME?.trim() || join(env.HOME?.trim() || homedir(), '.cache');
  return join(cache, 'ai-integration', 'weights');
}
