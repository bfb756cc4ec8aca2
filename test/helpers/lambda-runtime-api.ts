// A Lambda runtime API for the tests and the benchmark: an HTTP server on 127.0.0.1 with the
// documented routes and headers of API version 2018-06-01, as Lambda and the runtime interface
// emulator serve them. It hands out queued events to `GET .../invocation/next` (holding the
// request until there is one, as Lambda does), answers the function's posts with 202
// {"status":"OK"}, and records everything the function posted.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What a test says about one invocation; every header has a realistic default. */
export interface InvokeOptions {
  requestId?: string;
  /** Lambda-Runtime-Deadline-Ms; default: `timeoutMs` after the event is handed out. */
  deadlineMs?: number;
  /** The function's timeout, from the moment the event is handed out (default 60000). */
  timeoutMs?: number;
  /** Lambda-Runtime-Trace-Id; none when undefined. */
  traceId?: string;
  /** Lambda-Runtime-Invoked-Function-Arn. */
  functionArn?: string;
  /** Lambda-Runtime-Client-Context (JSON), sent when given. */
  clientContext?: string;
  /** Lambda-Runtime-Cognito-Identity (JSON), sent when given. */
  cognitoIdentity?: string;
}

/** One thing the function posted. */
export interface Posted {
  kind: 'response' | 'error' | 'init-error';
  /** The invocation it answers (undefined for init-error). */
  requestId: string | undefined;
  /** The request's headers, names in lower case. */
  headers: Record<string, string>;
  body: Buffer;
  /** The status this server answered with. */
  status: number;
  /** The body parsed as JSON. */
  json(): any;
}

/** The headers the function received with an invocation, by their documented names. */
export interface HandedOut {
  requestId: string;
  headers: Record<string, string>;
}

export interface LambdaRuntimeApi {
  /** host:port, for AWS_LAMBDA_RUNTIME_API. */
  address: string;
  /** Queues an event; resolves with the function's response or error for it. */
  invoke(event: unknown, options?: InvokeOptions): Promise<Posted>;
  /** Queues an event's bytes as they are (not JSON-encoded). */
  invokeRaw(body: Buffer | string, options?: InvokeOptions): Promise<Posted>;
  /** Resolves with the first initialization error the function posts. */
  initError(): Promise<Posted>;
  /** Everything posted, in order: responses, errors, initialization errors, and refused posts. */
  posted: Posted[];
  /** Every invocation handed out, with the headers it went with. */
  handedOut: HandedOut[];
  /** How many `next` requests are waiting for an event now. */
  waitingNext(): number;
  /** Resolves once a `next` request waits for an event (at once if one does). */
  nextWaiting(): Promise<void>;
  /** The largest response accepted; a larger one gets 413 (default 6 MiB + 100 bytes, Lambda's). */
  maxResponseBytes: number;
  close(): Promise<void>;
}

const prefix = '/2018-06-01/runtime';
const defaultArn = 'arn:aws:lambda:us-east-1:123456789012:function:ai-integration-test';

interface Queued {
  requestId: string;
  body: Buffer;
  options: InvokeOptions;
  resolve: (posted: Posted) => void;
  reject: (error: Error) => void;
}

/** Starts the runtime API on a free loopback port. */
export async function startRuntimeApi(): Promise<LambdaRuntimeApi> {
  const queue: Queued[] = [];
  const parked: ServerResponse[] = [];
  const inFlight = new Map<string, Queued>();
  const posted: Posted[] = [];
  const handedOut: HandedOut[] = [];
  const initWaiters: ((posted: Posted) => void)[] = [];
  const nextWaiters: (() => void)[] = [];
  let initialized = false;

  const sendJson = (response: ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    response.end(text);
  };

  const handOut = (response: ServerResponse, item: Queued) => {
    const { options } = item;
    const headers: Record<string, string> = {
      'Lambda-Runtime-Aws-Request-Id': item.requestId,
      'Lambda-Runtime-Deadline-Ms': String(options.deadlineMs ?? Date.now() + (options.timeoutMs ?? 60_000)),
      'Lambda-Runtime-Invoked-Function-Arn': options.functionArn ?? defaultArn,
    };
    if (options.traceId !== undefined) headers['Lambda-Runtime-Trace-Id'] = options.traceId;
    if (options.clientContext !== undefined) headers['Lambda-Runtime-Client-Context'] = options.clientContext;
    if (options.cognitoIdentity !== undefined) headers['Lambda-Runtime-Cognito-Identity'] = options.cognitoIdentity;
    inFlight.set(item.requestId, item);
    handedOut.push({ requestId: item.requestId, headers });
    response.writeHead(200, { ...headers, 'content-type': 'application/json', 'content-length': item.body.length });
    response.end(item.body);
  };

  const dispatch = () => {
    while (queue.length > 0 && parked.length > 0) {
      handOut(parked.shift()!, queue.shift()!);
    }
  };

  const record = (request: IncomingMessage, kind: Posted['kind'], requestId: string | undefined, body: Buffer, status: number): Posted => {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) if (typeof value === 'string') headers[name] = value;
    const entry: Posted = { kind, requestId, headers, body, status, json: () => JSON.parse(body.toString('utf8')) };
    posted.push(entry);
    return entry;
  };

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      const path = (request.url ?? '/').split('?', 1)[0]!;
      if (request.method === 'GET' && path === `${prefix}/invocation/next`) {
        initialized = true;
        parked.push(response);
        for (const waiter of nextWaiters.splice(0)) waiter();
        // A function that goes away while it waits takes no event.
        response.on('close', () => {
          const index = parked.indexOf(response);
          if (index !== -1) parked.splice(index, 1);
        });
        dispatch();
        return;
      }
      if (request.method === 'POST' && path === `${prefix}/init/error`) {
        const status = initialized ? 403 : 202;
        const entry = record(request, 'init-error', undefined, body, status);
        if (initialized) {
          sendJson(response, 403, {
            errorMessage: 'State transition from Ready to InitError failed for runtime. Error: InvalidStateTransition',
            errorType: 'InvalidStateTransition',
          });
          return;
        }
        sendJson(response, 202, { status: 'OK' });
        for (const waiter of initWaiters.splice(0)) waiter(entry);
        return;
      }
      const answer = new RegExp(`^${prefix}/invocation/([^/]+)/(response|error)$`).exec(path);
      if (request.method === 'POST' && answer) {
        const requestId = decodeURIComponent(answer[1]!);
        const kind = answer[2] as 'response' | 'error';
        const item = inFlight.get(requestId);
        if (!item) {
          record(request, kind, requestId, body, 400);
          sendJson(response, 400, { errorMessage: 'Invalid request ID', errorType: 'InvalidRequestID' });
          return;
        }
        inFlight.delete(requestId);
        if (kind === 'response' && body.length > api.maxResponseBytes) {
          const entry = record(request, kind, requestId, body, 413);
          sendJson(response, 413, {
            errorMessage: `Exceeded maximum allowed payload size (${api.maxResponseBytes} bytes).`,
            errorType: 'RequestEntityTooLarge',
          });
          item.resolve(entry);
          return;
        }
        const entry = record(request, kind, requestId, body, 202);
        sendJson(response, 202, { status: 'OK' });
        item.resolve(entry);
        return;
      }
      sendJson(response, 404, { errorMessage: `no route ${request.method} ${path}`, errorType: 'NotFound' });
    });
  });
  // Lambda's own API keeps the runtime's connection open however long the function runs.
  server.keepAliveTimeout = 0;
  server.requestTimeout = 0;
  server.headersTimeout = 0;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const enqueue = (body: Buffer, options: InvokeOptions) =>
    new Promise<Posted>((resolve, reject) => {
      queue.push({ requestId: options.requestId ?? randomUUID(), body, options, resolve, reject });
      dispatch();
    });

  const api: LambdaRuntimeApi = {
    address: `127.0.0.1:${port}`,
    invoke: (event, options = {}) => enqueue(Buffer.from(JSON.stringify(event)), options),
    invokeRaw: (body, options = {}) => enqueue(Buffer.isBuffer(body) ? body : Buffer.from(body), options),
    initError: () => {
      const first = posted.find((entry) => entry.kind === 'init-error');
      return first ? Promise.resolve(first) : new Promise((resolve) => initWaiters.push(resolve));
    },
    posted,
    handedOut,
    waitingNext: () => parked.length,
    nextWaiting: () => (parked.length > 0 ? Promise.resolve() : new Promise((resolve) => nextWaiters.push(resolve))),
    maxResponseBytes: 6 * 1024 * 1024 + 100,
    close: async () => {
      const gone = new Error('the runtime API closed');
      for (const item of [...queue.splice(0), ...inFlight.values()]) item.reject(gone);
      inFlight.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
  return api;
}
