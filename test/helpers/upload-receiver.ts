// A storage service for the output uploads' tests, on loopback: two servers, as a store that signs
// its uploads is. The "API" server takes PUT only (405 otherwise) and, by the first segment of
// the path, answers:
//   /direct/...   201 with the file stored, and a Location naming its public URL (on the API);
//   /signed/...   307 to the "bucket" server with a signature in the query (cog#735), where the
//                 PUT is stored and answered 200 with no Location (the URL without its query is the file's);
//   /flaky/...    503 to the first two tries of each path, then as /direct;
//   /refuse/...   403, for good; so is any file whose name starts with `refused`.
// Every request is recorded, with its body's length and sha256; a PUT whose client goes away
// before its answer (while `hold` keeps it open) is recorded in `aborted` only, and not stored.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export interface ReceivedRequest {
  server: 'api' | 'bucket';
  method: string;
  /** The path with its query. */
  url: string;
  contentType: string | undefined;
  predictionId: string | undefined;
  bytes: number;
  sha256: string;
  status: number;
}

export interface UploadReceiver {
  /** `http://127.0.0.1:<port>` of the API server (the upload URLs' host). */
  api: string;
  /** `http://127.0.0.1:<port>` of the bucket server, where /signed/ redirects. */
  bucket: string;
  /** The API's and the bucket's hosts, as URL_INPUTS_ALLOW_HOSTS lists them. */
  allowHosts: string;
  readonly requests: ReceivedRequest[];
  /** The stored files by path (without query): their bytes. */
  readonly stored: Map<string, Buffer>;
  /** PUTs in flight now, and the most there ever were at once. */
  readonly inFlight: { now: number; most: number };
  /** While set, every PUT on the API waits for it before it is answered. */
  hold: Promise<void> | undefined;
  /** The paths of the PUTs on the API whose client went away before they were answered (an aborted upload), in order. */
  readonly aborted: string[];
  /** Resolves with the path of the first PUT aborted: at once when one was already. */
  firstAbort(): Promise<string>;
  close(): Promise<void>;
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as { port: number }).port}`)));
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Starts the two servers on loopback. */
export async function startUploadReceiver(): Promise<UploadReceiver> {
  const requests: ReceivedRequest[] = [];
  const stored = new Map<string, Buffer>();
  const triesByPath = new Map<string, number>();
  const inFlight = { now: 0, most: 0 };
  const record = (
    server: 'api' | 'bucket',
    request: IncomingMessage,
    body: Buffer,
    response: ServerResponse,
    status: number,
    headers: Record<string, string> = {},
  ) => {
    requests.push({
      server,
      method: request.method ?? '',
      url: request.url ?? '',
      contentType: request.headers['content-type'],
      predictionId: request.headers['x-prediction-id'] as string | undefined,
      bytes: body.length,
      sha256: createHash('sha256').update(body).digest('hex'),
      status,
    });
    response.writeHead(status, headers);
    response.end();
  };

  let receiver!: UploadReceiver;
  const aborted: string[] = [];
  let abortWaiters: ((path: string) => void)[] = [];
  const api = createServer(async (request, response) => {
    response.on('close', () => {
      if (response.writableFinished) return;
      aborted.push(request.url ?? '/');
      for (const waiter of abortWaiters) waiter(request.url ?? '/');
      abortWaiters = [];
    });
    inFlight.now++;
    inFlight.most = Math.max(inFlight.most, inFlight.now);
    try {
      const body = await readBody(request);
      if (receiver.hold) await receiver.hold;
      // A store commits a file when it answers: a PUT whose client left first is dropped.
      if (response.destroyed) return;
      const path = request.url ?? '/';
      if (request.method !== 'PUT') return record('api', request, body, response, 405, { allow: 'PUT' });
      const kind = path.split('/')[1];
      const tries = (triesByPath.get(path) ?? 0) + 1;
      triesByPath.set(path, tries);
      if (kind === 'refuse' || (path.split('/').pop() ?? '').startsWith('refused')) return record('api', request, body, response, 403);
      if (kind === 'flaky' && tries <= 2) return record('api', request, body, response, 503);
      if (kind === 'signed') return record('api', request, body, response, 307, { location: `${receiver.bucket}${path}?X-Signature=s3cr3t&X-Expires=60` });
      stored.set(path, body);
      return record('api', request, body, response, 201, { location: `${receiver.api}/public${path}` });
    } finally {
      inFlight.now--;
    }
  });
  const bucket = createServer(async (request, response) => {
    const body = await readBody(request);
    if (request.method !== 'PUT') return record('bucket', request, body, response, 405, { allow: 'PUT' });
    const url = new URL(request.url ?? '/', 'http://bucket');
    if (url.searchParams.get('X-Signature') !== 's3cr3t') return record('bucket', request, body, response, 403);
    stored.set(url.pathname, body);
    return record('bucket', request, body, response, 200);
  });
  const [apiUrl, bucketUrl] = await Promise.all([listen(api), listen(bucket)]);
  receiver = {
    api: apiUrl,
    bucket: bucketUrl,
    allowHosts: `${new URL(apiUrl).host},${new URL(bucketUrl).host}`,
    requests,
    stored,
    inFlight,
    hold: undefined,
    aborted,
    firstAbort: () => (aborted.length > 0 ? Promise.resolve(aborted[0]!) : new Promise((resolve) => abortWaiters.push(resolve))),
    close: async () => {
      api.closeAllConnections();
      bucket.closeAllConnections();
      await Promise.all([new Promise((resolve) => api.close(resolve)), new Promise((resolve) => bucket.close(resolve))]);
    },
  };
  return receiver;
}
