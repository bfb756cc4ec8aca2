// A serving mode run inside the test's own process, through the registry and the mode's own code
// (modes/<name>/index.ts), with the in-process engine and the real HTTP core, on 127.0.0.1 and a
// port the system chooses: fastify's inject and hono's app.request, over real loopback HTTP. What
// needs a process of its own (signals, exit codes, the supervisor, stdin) stays in test/e2e.
import { Readable, Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { FormData, request } from 'undici';
import { createInProcessEngine } from '../../src/engine/in-process-engine.js';
import { serveHttp, type HttpServiceHandle } from '../../src/http/lifecycle.js';
import type { HttpProtocol } from '../../src/http/protocol.js';
import { createLogger } from '../../src/logger.js';
import { createModeContext } from '../../src/mode-context.js';
import { loadMode, modeTraits } from '../../src/registry.js';
import type { InferenceFunction, InputsSchema, StartLoopOptions } from '../../src/types.js';
import { fixture } from './run-process.js';

export interface InProcessServiceOptions {
  /** The mode, as MODE names it: kserve, vertex, sagemaker, cog, http, ... */
  mode: string;
  /** The model: its inference function and schema, or a fixture shim's (`model: 'http-model.mjs'`, see `fixtureModel`). */
  model: string | { inference: InferenceFunction<never>; schema: InputsSchema };
  /**
   * The environment, as the process would have it (AUTH_TOKEN, MAX_INPUT_BYTES, AIP_HTTP_PORT, ...);
   * PORT=0 and HOST=127.0.0.1 unless it says otherwise, as test/helpers/http-server.ts starts a
   * shim; ACCESS_LOG=false too, since the access log writes to this process's stderr.
   */
  env?: Record<string, string>;
  /** What a shim would give `startLoop` besides: name, version, description, output. */
  options?: Pick<StartLoopOptions, 'name' | 'version' | 'description' | 'output'>;
  /** Serves this protocol instead of the mode's own (a mode of one's own, as `serveHttp` runs it); `mode` still names the settings. */
  protocol?: HttpProtocol;
}

export interface InjectRequest {
  method?: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE' | 'PATCH' | 'OPTIONS';
  /** A path on the service, with its query (`/v2/models/m/infer`); the standalone `inject` takes a whole URL. */
  url: string;
  headers?: Record<string, string>;
  /** Sent as it is; a plain object or array is sent as JSON (with content-type application/json unless `headers` say). */
  body?: string | Buffer | Uint8Array | Readable | FormData | object;
}

export interface InjectResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** The body parsed as JSON. */
  json<T = any>(): T;
  /** The body as UTF-8 text. */
  text(): string;
}

export interface InProcessService {
  /** `http://127.0.0.1:<port>`, for clients of their own (a raw socket, an SDK). */
  readonly url: string;
  readonly port: number;
  /** One request over loopback HTTP, read whole. */
  inject(request: InjectRequest): Promise<InjectResponse>;
  /** What the service logged so far (its stderr, run as a process). */
  logs(): string;
  /** Drains as SIGTERM does; resolves with the exit code the mode ended with. */
  close(): Promise<number>;
  /** Resolves with the exit code once the mode has ended, however it ended. */
  readonly finished: Promise<number>;
}

/** A fixture shim's model (test/fixtures/<name>), as it runs in its process with `env`, and the shim's path, which names the model. */
export async function fixtureModel(
  name: string,
  env: Record<string, string> = {},
): Promise<{ inference: InferenceFunction<never>; schema: InputsSchema; shim: string }> {
  const shim = fixture(name);
  const module = (await import(/* @vite-ignore */ pathToFileURL(shim).href)) as {
    createModel?: (env: Record<string, string>) => InferenceFunction<never>;
    schema?: InputsSchema;
  };
  if (typeof module.createModel !== 'function' || module.schema === undefined)
    throw new Error(`test/fixtures/${name} exports no createModel(env) and schema to run in process`);
  return { inference: module.createModel(env), schema: module.schema, shim };
}

/**
 * Starts the mode `mode` in this process, as `startLoop` would run it in a shim's, and waits until it listens.
 * @example const service = await startInProcess({ mode: 'kserve', model: 'http-model.mjs', env: { AUTH_TOKEN: 'secret' } }); (await service.inject({ url: '/v2/health/ready' })).status; await service.close();
 */
export async function startInProcess({ mode: name, model, env: given = {}, options = {}, protocol }: InProcessServiceOptions): Promise<InProcessService> {
  if (modeTraits(name)?.serves !== 'http') throw new Error(`MODE=${name} is not a mode that serves HTTP`);
  const env = { PORT: '0', GRPC_PORT: '0', HOST: '127.0.0.1', ACCESS_LOG: 'false', ...given, MODE: name };
  const { inference, schema, shim } = typeof model === 'string' ? await fixtureModel(model, env) : { ...model, shim: undefined };
  let logged = '';
  const stderr = new Writable({
    write(chunk, _encoding, done) {
      logged += String(chunk);
      done();
    },
  });
  const log = createLogger(stderr, env);
  // The test's own stdin and stdout are not the mode's.
  const stdout = new Writable({ write: (_chunk, _encoding, done) => done() });
  const mode = await loadMode(name);
  let started!: (service: HttpServiceHandle) => void;
  const listening = new Promise<HttpServiceHandle>((resolve) => (started = resolve));
  // As runMode does, without a process to end: the context is read from the options and the
  // environment, and an error before or while the mode starts is the mode's end.
  const finished = (async () => {
    const context = createModeContext(() => createInProcessEngine(inference), schema, { ...options, stdin: Readable.from([]), stdout }, env, [], log, shim);
    const embedded = { ...context, embedded: { started } };
    return protocol ? serveHttp(embedded, () => protocol) : mode.run(embedded);
  })();
  const service = await Promise.race([
    listening,
    finished.then(
      (code) => Promise.reject(new Error(`MODE=${name} ended with ${code} before it listened:\n${logged}`)),
      (error: Error) => Promise.reject(new Error(`MODE=${name} did not start: ${error.message}\n${logged}`)),
    ),
  ]);
  const url = `http://127.0.0.1:${service.address.port}`;
  return {
    url,
    port: service.address.port,
    inject: (injected) => {
      if (!injected.url.startsWith('/')) throw new Error(`inject takes a path on the service, got ${injected.url}`);
      return inject({ ...injected, url: `${url}${injected.url}` });
    },
    logs: () => logged,
    close: async () => {
      await service.close();
      return finished;
    },
    finished,
  };
}

/** One request to a whole URL (`${service.url}/path`), read whole: a body that is a plain object or array is sent as JSON. */
export async function inject({ method = 'GET', url, headers = {}, body }: InjectRequest): Promise<InjectResponse> {
  let payload = body as string | Buffer | Uint8Array | Readable | FormData | undefined;
  const sent = { ...headers };
  if (body !== undefined && isPlainJson(body)) {
    payload = JSON.stringify(body);
    if (!Object.keys(sent).some((key) => key.toLowerCase() === 'content-type')) sent['content-type'] = 'application/json';
  }
  const response = await request(url, { method, headers: sent, ...(payload === undefined ? {} : { body: payload }) });
  const bytes = Buffer.from(await response.body.arrayBuffer());
  return {
    status: response.statusCode,
    headers: response.headers,
    body: bytes,
    json: () => JSON.parse(bytes.toString('utf8')),
    text: () => bytes.toString('utf8'),
  };
}

function isPlainJson(body: object | string): body is object {
  if (typeof body !== 'object' || body === null) return false;
  if (body instanceof Uint8Array || body instanceof FormData || body instanceof globalThis.FormData) return false;
  return typeof (body as { pipe?: unknown }).pipe !== 'function' && !(Symbol.asyncIterator in body);
}
