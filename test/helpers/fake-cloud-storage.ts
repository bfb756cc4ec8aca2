import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request the fake saw: its path, query, Authorization and Range headers. */
export interface StorageRequest {
  path: string;
  query: URLSearchParams;
  authorization: string | undefined;
  range: string | undefined;
}

/** Cloud Storage's JSON API on loopback (list with paging, object metadata, alt=media with ranges), as STORAGE_EMULATOR_HOST points at it. */
export interface FakeStorage {
  /** For STORAGE_EMULATOR_HOST. */
  endpoint: string;
  requests: StorageRequest[];
  /** Media requests (alt=media) of one object. */
  media(name: string): StorageRequest[];
  /** Listings and metadata give a wrong MD5 for `name` (its bytes stay right) until the returned function is called. */
  lieAboutMd5(name: string): () => void;
  /** Every media request of `name` is refused with 403 and Cloud Storage's JSON error, until the returned function is called. */
  forbid(name: string): () => void;
  /** Watches the media requests of objects under `prefix`: it holds each answer until `release()`, and counts those in flight at once. */
  holdMedia(prefix: string): MediaHold;
  close(): Promise<void>;
}

/** The media requests of a prefix, held and counted (see FakeStorage.holdMedia). */
export interface MediaHold {
  /** Answers held now, not yet sent. */
  held(): number;
  /** The most media requests of the prefix in flight at once, from arrival to the end of the answer. */
  mostAtOnce(): number;
  /** Sends the held answers, and holds no more. */
  release(): void;
}

interface StoredObject {
  data: Buffer;
  md5Hash: string;
  generation: string;
}

/**
 * Serves `objects` (bucket → object name → bytes): `GET /storage/v1/b/B/o?prefix=&pageToken=`
 * `pageSize` items a page, `GET /storage/v1/b/B/o/NAME` (metadata) and `?alt=media&generation=G`
 * (206 to a Range). When `token` is given, every request must carry `Authorization: Bearer token`
 * (401 otherwise), as Cloud Storage demands.
 */
export async function startFakeStorage(objects: Record<string, Record<string, Buffer>>, options: { pageSize: number; token?: string }): Promise<FakeStorage> {
  const buckets = new Map<string, Map<string, StoredObject>>();
  let generation = 1_700_000_000_000_000;
  for (const [bucket, contents] of Object.entries(objects)) {
    const stored = new Map<string, StoredObject>();
    for (const [name, data] of Object.entries(contents)) {
      generation += 1;
      stored.set(name, { data, md5Hash: createHash('md5').update(data).digest('base64'), generation: String(generation) });
    }
    buckets.set(bucket, stored);
  }
  const requests: StorageRequest[] = [];
  const lies = new Set<string>();
  const holds = new Map<string, { waiting: (() => void)[]; holding: boolean; inFlight: number; most: number }>();
  const forbidden = new Set<string>();
  const describe = (name: string, object: StoredObject) => ({
    kind: 'storage#object',
    name,
    size: String(object.data.length),
    generation: object.generation,
    md5Hash: lies.has(name) ? createHash('md5').update('something else').digest('base64') : object.md5Hash,
  });
  const error = (code: number, message: string) => JSON.stringify({ error: { code, message, errors: [{ message, reason: 'forbidden' }] } });

  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://fake');
    const seen = {
      path: decodeURIComponent(url.pathname),
      query: url.searchParams,
      authorization: request.headers.authorization,
      range: request.headers.range,
    };
    requests.push(seen);
    if (options.token !== undefined && seen.authorization !== `Bearer ${options.token}`) {
      response.writeHead(401, { 'content-type': 'application/json' }).end(error(401, 'Anonymous caller does not have storage.objects.list access.'));
      return;
    }
    const match = /^\/storage\/v1\/b\/([^/]+)\/o(?:\/(.+))?$/.exec(url.pathname);
    const bucket = match ? buckets.get(decodeURIComponent(match[1]!)) : undefined;
    if (!match || !bucket) {
      response.writeHead(404, { 'content-type': 'application/json' }).end(error(404, 'The specified bucket does not exist.'));
      return;
    }
    if (match[2] === undefined) {
      const prefix = url.searchParams.get('prefix') ?? '';
      const names = [...bucket.keys()].filter((name) => name.startsWith(prefix)).sort();
      const start = Number(url.searchParams.get('pageToken') ?? '0');
      const page = names.slice(start, start + options.pageSize);
      const next = start + options.pageSize < names.length ? { nextPageToken: String(start + options.pageSize) } : {};
      respondJson(response, { kind: 'storage#objects', items: page.map((name) => describe(name, bucket.get(name)!)), ...next });
      return;
    }
    const name = decodeURIComponent(match[2]);
    const object = bucket.get(name);
    if (!object) {
      response.writeHead(404, { 'content-type': 'application/json' }).end(error(404, `No such object: ${name}`));
      return;
    }
    if (url.searchParams.get('alt') !== 'media') {
      respondJson(response, describe(name, object));
      return;
    }
    if (forbidden.has(name)) {
      response
        .writeHead(403, { 'content-type': 'application/json' })
        .end(error(403, `weights-reader@project.iam.gserviceaccount.com does not have storage.objects.get access to the Google Cloud Storage object.`));
      return;
    }
    if (url.searchParams.get('generation') !== object.generation) {
      response.writeHead(404, { 'content-type': 'application/json' }).end(error(404, `No such object generation: ${name}`));
      return;
    }
    const hold = [...holds].find(([prefix]) => name.startsWith(prefix))?.[1];
    if (!hold) {
      sendMedia(request, response, object);
      return;
    }
    hold.inFlight += 1;
    hold.most = Math.max(hold.most, hold.inFlight);
    if (!hold.holding) {
      response.on('close', () => (hold.inFlight -= 1));
      sendMedia(request, response, object);
      return;
    }
    const send = () => sendMedia(request, response, object);
    hold.waiting.push(send);
    // A client that goes away while held is no longer held, nor in flight.
    response.on('close', () => {
      hold.inFlight -= 1;
      const index = hold.waiting.indexOf(send);
      if (index >= 0) hold.waiting.splice(index, 1);
    });
  });

  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    media: (name) => requests.filter((seen) => seen.query.get('alt') === 'media' && seen.path.endsWith(`/o/${name}`)),
    lieAboutMd5: (name) => {
      lies.add(name);
      return () => lies.delete(name);
    },
    forbid: (name) => {
      forbidden.add(name);
      return () => forbidden.delete(name);
    },
    holdMedia: (prefix) => {
      const hold = { waiting: [] as (() => void)[], holding: true, inFlight: 0, most: 0 };
      holds.set(prefix, hold);
      return {
        held: () => hold.waiting.length,
        mostAtOnce: () => hold.most,
        release: () => {
          hold.holding = false;
          for (const send of hold.waiting.splice(0)) send();
        },
      };
    },
    close: () => closeServer(server),
  };
}

function respondJson(response: import('node:http').ServerResponse, body: unknown): void {
  response.writeHead(200, { 'content-type': 'application/json; charset=UTF-8' }).end(JSON.stringify(body));
}

function sendMedia(request: IncomingMessage, response: import('node:http').ServerResponse, object: StoredObject): void {
  const size = object.data.length;
  const etag = `"${object.md5Hash}"`;
  const range = /^bytes=(\d+)-(\d*)$/.exec(request.headers.range ?? '');
  if (range && size > 0) {
    const start = Number(range[1]);
    const end = range[2] === '' ? size - 1 : Math.min(Number(range[2]), size - 1);
    if (start >= size) {
      response.writeHead(416, { 'content-range': `bytes */${size}` }).end();
      return;
    }
    response
      .writeHead(206, { 'content-range': `bytes ${start}-${end}/${size}`, 'content-length': end - start + 1, etag, 'x-goog-generation': object.generation })
      .end(object.data.subarray(start, end + 1));
    return;
  }
  if (range) {
    response.writeHead(416, { 'content-range': `bytes */${size}` }).end();
    return;
  }
  response.writeHead(200, { 'content-length': size, etag }).end(object.data);
}

/** A request to the fake metadata server: its path and whether it carried Metadata-Flavor: Google. */
export interface MetadataRequest {
  path: string;
  flavor: string | undefined;
}

/** The metadata server on loopback, as GCE_METADATA_HOST points at it: the default service account's token. */
export interface FakeMetadata {
  /** For GCE_METADATA_HOST: host:port, no scheme, as on Google Cloud. */
  host: string;
  requests: MetadataRequest[];
  close(): Promise<void>;
}

/** Answers `token`, good for `expiresIn` seconds (the real server gives about an hour, less as it ages). */
export async function startFakeMetadata(token: string, expiresIn = 3599): Promise<FakeMetadata> {
  const requests: MetadataRequest[] = [];
  const server = createServer((request, response) => {
    const flavor = request.headers['metadata-flavor'] as string | undefined;
    requests.push({ path: request.url ?? '', flavor });
    // The real server refuses a request without the header (it keeps browsers and redirected requests out).
    if (flavor !== 'Google') {
      response.writeHead(403, { 'content-type': 'text/html' }).end('Missing Metadata-Flavor:Google header.');
      return;
    }
    if (request.url !== '/computeMetadata/v1/instance/service-accounts/default/token') {
      response.writeHead(404, { 'metadata-flavor': 'Google' }).end('not found');
      return;
    }
    response
      .writeHead(200, { 'content-type': 'application/json', 'metadata-flavor': 'Google' })
      .end(JSON.stringify({ access_token: token, expires_in: expiresIn, token_type: 'Bearer' }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return { host: `127.0.0.1:${port}`, requests, close: () => closeServer(server) };
}

const closeServer = (server: Server) =>
  new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
