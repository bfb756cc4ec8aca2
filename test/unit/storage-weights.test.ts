// gs:// weights in pieces: the entries, where Google's variables point the clients, the metadata
// token's connector (which never reaches the real metadata server: every connection here goes
// through a hook that fails the test if it is asked for metadata.google.internal or
// 169.254.169.254), and the CRC32C and MD5 the hash thread takes.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildConnector } from 'undici';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { AiIntegrationError } from '../../src/errors.js';
import { parseWeightsUrls, storageFolderEntry } from '../../src/settings-parts/weights.js';
import { HashFollower } from '../../src/weights/hash-follower.js';
import { MetadataTokenSource, metadataOrigin } from '../../src/weights/metadata-token.js';
import { fileHasher } from '../../src/weights/read-back-hash.js';
import { StorageClient, storageEndpoint } from '../../src/weights/storage-client.js';
import { weightsEntries } from '../../src/weights/weights-entries.js';
import { type FakeMetadata, type FakeStorage, startFakeMetadata, startFakeStorage } from '../helpers/fake-cloud-storage.js';

const realMetadata = new Set(['metadata.google.internal', 'metadata.google.internal.', '169.254.169.254', 'fd00:ec2::254']);

/** A connector that records every host asked for, refuses the real metadata server (and never opens a socket to it), and connects to loopback. */
function guardedConnector() {
  const asked: string[] = [];
  const loopback = buildConnector({});
  const connect: buildConnector.connector = (options, callback) => {
    asked.push(options.hostname);
    if (realMetadata.has(options.hostname) || options.hostname !== '127.0.0.1') {
      callback(new Error(`refused in the test: a connection to ${options.hostname}`), null);
      return;
    }
    loopback(options, callback);
  };
  return { asked, connect };
}

describe('gs:// entries', () => {
  test('a trailing slash (or the bare bucket) is a folder named by its last segment; anything else one object; AIP_STORAGE_URI is always a folder, aip-storage', () => {
    expect(parseWeightsUrls('gs://bucket/models/bert/ gs://bucket/models/bert.onnx gs://other-bucket gs://bk2/x/#name=tok')).toEqual([
      { url: 'gs://bucket/models/bert/', name: 'bert', folder: true },
      { url: 'gs://bucket/models/bert.onnx', name: 'bert.onnx' },
      { url: 'gs://other-bucket', name: 'other-bucket', folder: true },
      { url: 'gs://bk2/x/', name: 'tok', folder: true },
    ]);
    expect(storageFolderEntry('gs://caip-tenant/123/model', 'aip-storage', 'AIP_STORAGE_URI')).toEqual({
      url: 'gs://caip-tenant/123/model/',
      name: 'aip-storage',
      folder: true,
      from: 'AIP_STORAGE_URI',
    });
    expect(() => storageFolderEntry('https://storage.googleapis.com/b/model', 'aip-storage', 'AIP_STORAGE_URI')).toThrow(
      'AIP_STORAGE_URI: https://storage.googleapis.com/b/model is not a gs://BUCKET/PREFIX folder',
    );
    expect(() => parseWeightsUrls(`gs://bucket/models/#sha256=${'ab'.repeat(32)}`)).toThrow(/cannot check a folder/);
    expect(() => parseWeightsUrls('gs://B_/x.bin')).toThrow(AiIntegrationError);
  });

  test('MODE=vertex adds AIP_STORAGE_URI to WEIGHTS_URL; other modes do not read it', () => {
    const env = { AIP_STORAGE_URI: 'gs://bucket/model', WEIGHTS_URL: 'https://h/extra.bin' };
    expect(weightsEntries({ ...env, MODE: 'vertex' }).map((entry) => entry.name)).toEqual(['extra.bin', 'aip-storage']);
    expect(weightsEntries({ ...env, MODE: 'http' }).map((entry) => entry.name)).toEqual(['extra.bin']);
    expect(() => weightsEntries({ ...env, MODE: 'vertex', WEIGHTS_URL: 'https://h/x#name=aip-storage' })).toThrow(/the folder AIP_STORAGE_URI is fetched into/);
  });
});

describe("Google's variables", () => {
  test('GCE_METADATA_HOST: host[:port] or a URL, else metadata.google.internal; STORAGE_EMULATOR_HOST: a URL (https:// when it has no scheme), else storage.googleapis.com', () => {
    expect(metadataOrigin({})).toBe('http://metadata.google.internal');
    expect(metadataOrigin({ GCE_METADATA_HOST: '127.0.0.1:8089' })).toBe('http://127.0.0.1:8089');
    expect(metadataOrigin({ GCE_METADATA_HOST: 'http://127.0.0.1:8089/' })).toBe('http://127.0.0.1:8089');
    expect(storageEndpoint({})).toBe('https://storage.googleapis.com');
    expect(storageEndpoint({ STORAGE_EMULATOR_HOST: 'http://127.0.0.1:9023/' })).toBe('http://127.0.0.1:9023');
    expect(storageEndpoint({ STORAGE_EMULATOR_HOST: 'localhost:9023' })).toBe('https://localhost:9023');
  });
});

describe('credentials', () => {
  let storage: FakeStorage;
  let metadata: FakeMetadata;
  beforeAll(async () => {
    storage = await startFakeStorage({ bucket: { 'm/a.bin': Buffer.from('a') } }, { pageSize: 10 });
    metadata = await startFakeMetadata('token-1');
  });
  afterAll(async () => {
    await Promise.all([storage.close(), metadata.close()]);
  });
  const signal = new AbortController().signal;

  test('without GCE_METADATA_HOST the token is asked of metadata.google.internal: the hook refuses it, so no connection is made, and the error names it', async () => {
    const { asked, connect } = guardedConnector();
    const tokens = new MetadataTokenSource({}, { connect, tries: 1 });
    await expect(tokens.headers(signal)).rejects.toThrow(
      /^no access token from the metadata server http:\/\/metadata\.google\.internal\/computeMetadata\/v1\/instance\/service-accounts\/default\/token: .*refused in the test/,
    );
    expect(asked).toEqual(['metadata.google.internal']);
    await tokens.close();
  });

  test('GCE_METADATA_HOST on loopback: the token comes from there with Metadata-Flavor: Google, once, and goes to Cloud Storage as a bearer token', async () => {
    const { asked, connect } = guardedConnector();
    const env = { GCE_METADATA_HOST: metadata.host, STORAGE_EMULATOR_HOST: storage.endpoint };
    const client = new StorageClient(env, new MetadataTokenSource(env, { connect }));
    expect(await client.list('bucket', 'm/', signal)).toMatchObject([{ name: 'm/a.bin', size: 1 }]);
    expect(await client.object('bucket', 'm/a.bin', signal)).toMatchObject({ name: 'm/a.bin', size: 1 });
    expect(storage.requests.map((seen) => seen.authorization)).toEqual(['Bearer token-1', 'Bearer token-1']);
    expect(metadata.requests).toEqual([{ path: '/computeMetadata/v1/instance/service-accounts/default/token', flavor: 'Google' }]);
    expect(asked.every((host) => host === '127.0.0.1')).toBe(true);
    await client.close();
    storage.requests.length = 0;
    metadata.requests.length = 0;
  });

  test('a token about to expire (within 5 minutes) is asked for again before the next request; a fresh one is kept', async () => {
    const ageing = await startFakeMetadata('short-lived', 60);
    try {
      const tokens = new MetadataTokenSource({ GCE_METADATA_HOST: ageing.host });
      expect(await tokens.headers(signal)).toEqual({ authorization: 'Bearer short-lived' });
      expect(await tokens.headers(signal)).toEqual({ authorization: 'Bearer short-lived' });
      expect(ageing.requests).toHaveLength(2);
      await tokens.close();
    } finally {
      await ageing.close();
    }
  });

  test('STORAGE_EMULATOR_HOST alone: no credentials, as with Google’s libraries, and the metadata server is never asked', async () => {
    const { asked, connect } = guardedConnector();
    const env = { STORAGE_EMULATOR_HOST: storage.endpoint };
    const client = new StorageClient(env, new MetadataTokenSource(env, { connect }));
    expect(await client.list('bucket', 'm/', signal)).toHaveLength(1);
    expect(storage.requests.map((seen) => seen.authorization)).toEqual([undefined]);
    expect(asked).toEqual([]);
    expect(metadata.requests).toEqual([]);
    await client.close();
    storage.requests.length = 0;
  });

  test('the metadata agent connects to the metadata host only, whatever URL it is given', async () => {
    const { asked, connect } = guardedConnector();
    const tokens = new MetadataTokenSource({ GCE_METADATA_HOST: '127.0.0.1:9' }, { connect, tries: 1 });
    // The guard sits before the connector: another port of the same address is refused before any socket.
    const dispatcher = (tokens as unknown as { dispatcher: import('undici').Agent }).dispatcher;
    const { request } = await import('undici');
    await expect(request(`${storage.endpoint}/storage/v1/b/bucket/o`, { dispatcher })).rejects.toThrow(/connects only to 127\.0\.0\.1:9/);
    expect(asked).toEqual([]);
    await tokens.close();
  });
});

describe('the hash thread', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'hashes-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  test("takes MD5 and CRC32C (Castagnoli) beside sha256, as Cloud Storage lists them: 'data' is rth90Q==", async () => {
    const path = join(scratch, 'data');
    writeFileSync(path, 'data');
    const follower = new HashFollower(path, 4, ['md5', 'crc32c']);
    follower.written(4);
    const hashes = await follower.digests();
    expect(Buffer.from(hashes?.crc32c ?? '', 'hex').toString('base64')).toBe('rth90Q==');
    expect(hashes?.md5).toBe('8d777f385d3dfec8815d20f7496026dc');
    expect(hashes?.sha256).toBe('3a6eb0790f39ac87c94f3856b2dd2c5d110e6811602261a9a923d3bb23adc8b7');
  });

  test('a file of 8 MiB or less is read back once whole, on this thread, in several reads: the same sha256 and MD5; stopped, it gives none', async () => {
    const path = join(scratch, 'small');
    // Larger than one 1 MiB read, and not a multiple of it.
    const data = randomBytes(3 * 2 ** 20 + 12_345);
    writeFileSync(path, data);
    const hasher = fileHasher(path, data.length, ['md5']);
    expect(hasher).not.toBeInstanceOf(HashFollower);
    hasher.written(data.length);
    expect(await hasher.digests()).toEqual({
      sha256: createHash('sha256').update(data).digest('hex'),
      md5: createHash('md5').update(data).digest('hex'),
    });
    const stopped = fileHasher(path, data.length);
    stopped.stop();
    expect(await stopped.digests()).toBeUndefined();
    // A file shorter than its size says is refused, never hashed short.
    await expect(fileHasher(path, data.length + 1).digest()).rejects.toThrow(/is shorter than what was written to it/);
  });

  test('a larger file, or one whose CRC32C is asked (only the thread takes it), gets the thread', async () => {
    const path = join(scratch, 'large');
    writeFileSync(path, 'data');
    const large = fileHasher(path, 8 * 2 ** 20 + 1);
    const crc = fileHasher(path, 4, ['crc32c']);
    expect(large).toBeInstanceOf(HashFollower);
    expect(crc).toBeInstanceOf(HashFollower);
    for (const follower of [large, crc]) follower.stop();
    expect(await Promise.all([large.digests(), crc.digests()])).toEqual([undefined, undefined]);
  });
});

describe('the test run itself', () => {
  test("points Google's variables at a closed loopback port (vitest.config.ts), so a gs:// entry no test aimed at its fakes never leaves 127.0.0.1", async () => {
    expect(process.env.GCE_METADATA_HOST).toBe('127.0.0.1:1');
    expect(process.env.STORAGE_EMULATOR_HOST).toBe('http://127.0.0.1:1');
    const client = new StorageClient(process.env, new MetadataTokenSource(process.env, { tries: 1 }));
    expect(client.endpoint).toBe('http://127.0.0.1:1');
    // The token is asked first, of the closed port: refused there, before any request to Cloud Storage.
    await expect(client.list('bucket', 'model/', new AbortController().signal)).rejects.toThrow(
      /^no access token from the metadata server http:\/\/127\.0\.0\.1:1\/computeMetadata\/v1\/instance\/service-accounts\/default\/token: .*ECONNREFUSED/,
    );
    await client.close();
  });
});
