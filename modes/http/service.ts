import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { AiIntegrationError, type InferenceThrewError } from '../../src/errors.js';
import { runtimeVersion } from '../../src/version.js';
import type { ModeContext } from '../../src/types.js';
import { resultBytes } from '../../src/write-result.js';
import { BodyBudget } from './body-budget.js';
import { ConnectionGuard, probeRoutes } from './connection-guard.js';
import { docsPage, isDocsAsset, sendDocsAsset } from './docs.js';
import { startEventLoopWatchdog } from './event-loop-watchdog.js';
import { legacyResponse } from './legacy-response.js';
import { createMetrics, type HttpMetrics } from './metrics.js';
import { openApiDocument, type ModelInfo } from './openapi.js';
import { renderPage } from './page.js';
import { acceptsRaw, outputValue, predict, readRequestInputs } from './predict.js';
import { requestIdOf, sendError, sendJson } from './respond.js';
import { InferenceScheduler } from './scheduler.js';

/** Whether the service takes work, and why not. */
export interface Readiness {
  status: 'ready' | 'shutting_down' | 'failed' | 'restarting';
  reason?: string;
}

interface RouteContext {
  request: IncomingMessage;
  response: ServerResponse;
  id: string;
}

type RouteHandler = (route: RouteContext) => Promise<void> | void;

export interface HttpService {
  server: Server;
  scheduler: InferenceScheduler;
  metrics: HttpMetrics;
  readiness: Readiness;
  /** Open connections and the requests in flight on them; the drain on shutdown waits for these. */
  connections: ConnectionGuard;
}

/**
 * Builds the HTTP service: the routes, their metrics and the inference scheduler. The mode
 * (index.ts) owns listening and the process's lifecycle; `onModelFault` tells it the model threw
 * or ran past its timeout.
 */
export function createHttpService(context: ModeContext, model: ModelInfo, onModelFault: (error: InferenceThrewError | AiIntegrationError) => void): HttpService {
  const http = context.settings.http;
  const { prefetch, enforcesTimeout } = context.engine.configure?.({ concurrency: http.concurrency, inferenceTimeoutMs: http.inferenceTimeoutMs }) ?? { prefetch: 0, enforcesTimeout: false };
  const scheduler = new InferenceScheduler(context.engine, {
    ...http,
    concurrency: http.concurrency + prefetch,
    inferenceTimeoutMs: enforcesTimeout ? 0 : http.inferenceTimeoutMs,
  });
  // Run directly, only a thread of its own can see the model block the event loop (a busy loop):
  // the scheduler's timers stop with it.
  if (!enforcesTimeout && http.inferenceTimeoutMs > 0) startEventLoopWatchdog(http.inferenceTimeoutMs);
  const metrics = createMetrics(() => scheduler.queueDepth, () => scheduler.inFlight, () => context.engine.restartCounts?.() ?? {});
  const readiness: Readiness = { status: 'ready' };
  const page = renderPage(context.schema, model.name);
  const openApi = JSON.stringify(openApiDocument(context.schema, model));

  // The service's own state first (shutting down, failed), then the engine's (a restarting worker).
  const currentReadiness = (): Readiness => {
    if (readiness.status !== 'ready') return readiness;
    const engine = context.engine.readiness?.();
    return engine && !engine.ready ? { status: 'restarting', reason: engine.reason ?? 'the model is restarting' } : readiness;
  };

  // Our errors are the caller's answer; anything else is a bug here, which the log must show.
  const fail = (response: ServerResponse, error: unknown, extra: Record<string, unknown> = {}) => {
    if (!(error instanceof AiIntegrationError)) context.log.error(`internal error while answering a request: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    sendError(response, error, {}, extra);
  };

  const bodies = new BodyBudget(http.maxBufferedBytes, http.maxConcurrentUploads);
  const runPrediction = async ({ request, response }: RouteContext, accepted: readonly ('multipart' | 'json')[]) => {
    const { raw, origin } = await readRequestInputs(request, context, accepted, { budget: bodies, response });
    return predict(context, scheduler, metrics, raw, origin, () => request.socket.destroyed, onModelFault);
  };

  const routes: Record<string, Partial<Record<string, RouteHandler>>> = {
    '/': {
      GET: ({ response }) => sendText(response, 200, 'text/html; charset=utf-8', page),
      POST: async (route) => {
        try {
          const prediction = await runPrediction(route, ['multipart']);
          sendJson(route.response, 200, legacyResponse(route.id, context.schema, prediction));
        } catch (error) {
          fail(route.response, error);
        }
      },
    },
    '/predict': {
      POST: async (route) => {
        const { request, response, id } = route;
        try {
          const prediction = await runPrediction(route, ['multipart', 'json']);
          if (acceptsRaw(request, prediction.mediaType)) {
            // Raw bytes have no envelope, so the timings travel as headers.
            const bytes = resultBytes(prediction.result);
            response.writeHead(200, {
              'content-type': prediction.result['content-type'],
              'content-length': bytes.length,
              'x-predict-time-ms': prediction.predictMs.toFixed(1),
              'x-queue-time-ms': prediction.queueMs.toFixed(1),
            });
            response.end(bytes);
            return;
          }
          sendJson(response, 200, {
            id,
            status: 'succeeded',
            output: outputValue(prediction),
            content_type: prediction.result['content-type'],
            metrics: { predict_time_ms: round(prediction.predictMs), queue_time_ms: round(prediction.queueMs) },
          });
        } catch (error) {
          fail(response, error, { id, status: 'failed' });
        }
      },
    },
    '/health': {
      GET: ({ response }) => sendReadiness(response, currentReadiness()),
    },
    '/health/live': {
      GET: ({ response }) => sendLiveness(response, scheduler),
    },
    '/info': {
      GET: ({ response }) =>
        sendJson(response, 200, {
          model,
          mode: 'http',
          schema: context.schema,
          limits: { max_input_bytes: context.settings.maxInputBytes, max_input_depth: context.settings.maxInputDepth, strict_inputs: context.settings.strictInputs, ...snakeCase(http) },
          runtime: { name: 'ai-integration', version: runtimeVersion, node: process.version },
          readiness: currentReadiness(),
        }),
    },
    '/openapi.json': { GET: ({ response }) => sendText(response, 200, 'application/json; charset=utf-8', openApi) },
    '/docs': { GET: ({ response }) => sendText(response, 200, 'text/html; charset=utf-8', docsPage) },
    '/metrics': {
      GET: async ({ response }) => sendText(response, 200, metrics.registry.contentType, await metrics.render()),
    },
  };

  const serverOptions = {
    // A request's headers cannot take longer than the whole request (node:http refuses that pairing).
    headersTimeout: Math.min(http.headersTimeoutMs, http.requestTimeoutMs),
    requestTimeout: http.requestTimeoutMs,
    keepAliveTimeout: http.keepAliveTimeoutMs,
    // node:http checks those two timeouts on this interval (30 s by default, which would make a
    // short HEADERS_TIMEOUT_MS useless): a tenth of the shorter one.
    connectionsCheckingInterval: Math.min(30_000, Math.max(100, Math.floor(Math.min(http.headersTimeoutMs, http.requestTimeoutMs) / 10))),
  };
  const server = createServer(serverOptions, (request, response) => {
    const probesOnly = connections.begin(request, response);
    const id = requestIdOf(request);
    response.setHeader('x-request-id', id);
    if (readiness.status !== 'ready') response.setHeader('connection', 'close');
    const started = performance.now();
    const path = pathOf(request.url ?? '/');
    const docsAsset = path.startsWith('/docs/') && isDocsAsset(path.slice(6)) ? path.slice(6) : undefined;
    const routeName = docsAsset ? '/docs/*' : Object.hasOwn(routes, path) ? path : 'unmatched';
    response.on('finish', () => metrics.recordRequest(routeName, request.method ?? '', response.statusCode, (performance.now() - started) / 1000));
    if ((probesOnly || connections.draining) && !probeRoutes.has(path)) {
      const refusal = connections.draining
        ? new AiIntegrationError('AI_ERR_NOT_READY', `the server is shutting down and takes no new work (${readiness.reason ?? readiness.status})`)
        : new AiIntegrationError('AI_ERR_OVERLOADED', `too many open connections (MAX_CONNECTIONS is ${http.maxConnections}); this one may only reach /health, /health/live and /metrics; retry on a new connection`);
      sendError(response, refusal, { ...(connections.draining ? {} : { 'retry-after': '1' }), connection: 'close' });
      return;
    }
    const methods = docsAsset ? { GET: ({ response: res }: RouteContext) => sendDocsAsset(res, docsAsset) } : routes[path];
    if (!methods) {
      sendError(response, new AiIntegrationError('AI_ERR_NOT_FOUND', `no route ${path}; see /docs for the API`));
      return;
    }
    // HEAD is GET without the body: node:http drops what the handler writes and keeps its headers.
    const handler = methods[request.method ?? ''] ?? (request.method === 'HEAD' ? methods.GET : undefined);
    if (!handler) {
      const allowed = Object.keys(methods);
      if (methods.GET) allowed.splice(allowed.indexOf('GET') + 1, 0, 'HEAD');
      sendError(response, new AiIntegrationError('AI_ERR_METHOD_NOT_ALLOWED', `${request.method} is not allowed on ${path}; use ${allowed.join(', ')}`), { allow: allowed.join(', ') });
      return;
    }
    Promise.resolve(handler({ request, response, id })).catch((error: unknown) => {
      if (!response.headersSent) fail(response, error);
      else response.destroy();
    });
  });
  const connections = new ConnectionGuard(server, http.maxConnections);

  return { server, scheduler, metrics, readiness, connections };
}

// The path of an origin-form target (/predict?x) or of an absolute-form one (http://host/predict),
// which proxies send.
function pathOf(target: string): string {
  if (target.startsWith('/')) {
    const query = target.indexOf('?');
    return query === -1 ? target : target.slice(0, query);
  }
  try {
    return new URL(target).pathname;
  } catch {
    return target;
  }
}

function sendText(response: ServerResponse, status: number, type: string, body: string): void {
  response.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  response.end(body);
}

// Answering at all proves the event loop runs (a probe's timeout catches a blocked one); an
// inference stuck past its timeout in this process means the model is not alive either.
function sendLiveness(response: ServerResponse, scheduler: InferenceScheduler): void {
  if (scheduler.stuck === 0) sendJson(response, 200, { status: 'alive' });
  else sendJson(response, 503, { status: 'stuck', reason: `${scheduler.stuck} inference(s) ran past INFERENCE_TIMEOUT_MS and have not returned; the process is exiting to be restarted` });
}

function sendReadiness(response: ServerResponse, readiness: Readiness): void {
  sendJson(response, readiness.status === 'ready' ? 200 : 503, readiness);
}

const round = (milliseconds: number) => Math.round(milliseconds * 10) / 10;

function snakeCase(record: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [key.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`), value]));
}
