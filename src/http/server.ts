import { createServer, type Server, type ServerResponse } from 'node:http';
import { Cancellation } from '../engine/cancellation.js';
import { AiIntegrationError, MethodNotAllowedError, errorAnswer, type InferenceThrewError } from '../errors.js';
import { createAccessLog } from './access-log.js';
import { BearerAuth, metricsPath, withBearerScheme } from './auth.js';
import type { ModeContext } from '../types.js';
import { BodyBudget } from './body-budget.js';
import { ConnectionGuard } from './connection-guard.js';
import { docsPage, isDocsAsset, sendDocsAsset } from './docs.js';
import { startEventLoopWatchdog } from './event-loop-watchdog.js';
import { createMetrics } from './metrics.js';
import { isJsonType } from '../media-type.js';
import { convertRequestInputs, readRequestInputs, runInference, unsupportedType, withinLimits, type BodyHolding, type Prediction } from './predict.js';
import type { BackgroundWork, HttpCore, HttpProtocol, ModelInfo, Readiness, RouteContext, RouteDefinition } from './protocol.js';
import { collectBody, mediaTypeOf, readJsonBody } from './request-body.js';
import { nativeErrorBody, requestIdOf, sendJson, sendText } from './respond.js';
import { Router } from './router.js';
import { AdmissionQueue, type SubmitOptions } from '../serving/admission-queue.js';
import { PredictionStore } from '../serving/predictions.js';
import { WebhookSender } from '../serving/webhooks.js';
import { OutputUploads } from '../uploads/output-uploads.js';
import type { UploadTarget } from '../uploads/uploaded-file.js';

/** The server of one protocol mode, with the state its lifecycle (lifecycle.ts) drives. */
export interface HttpService {
  server: Server;
  core: HttpCore;
  /** The admission queue: the drain waits for it, and a fault of the model refuses what waits in it. */
  scheduler: AdmissionQueue;
  /** The service's own state; `core.readiness()` adds the engine's (a restarting worker). */
  readiness: Readiness;
  /** Open connections and the requests in flight on them; the drain on shutdown waits for these. */
  connections: ConnectionGuard;
  /** The mode's background work once started (MODE=queue's consumer). */
  background: BackgroundWork | undefined;
  /**
   * Answers `error` (in the protocol's shape, with `Connection: close`) to every request not
   * answered yet, whose handler may still be waiting: the drain's deadline has come. A handler's
   * later answer or error for such a request is dropped. Returns how many were answered.
   */
  answerUnanswered(error: AiIntegrationError): number;
}

/**
 * Builds the HTTP core for a protocol: the scheduler, metrics, body budget and connection guard,
 * the protocol's routes with the shared ones (`/openapi.json`, `/docs`, `/metrics`), and the
 * server. The lifecycle (listening, signals, the drain) is lifecycle.ts's; `onModelFault` tells it
 * the model threw or ran past its timeout.
 */
export function createHttpService(
  context: ModeContext,
  protocol: HttpProtocol,
  model: ModelInfo,
  onModelFault: (error: InferenceThrewError | AiIntegrationError) => void,
): HttpService {
  const http = context.settings.http;
  const predictionSettings = context.settings.predictions;
  const { engine } = context;
  const { enforcesTimeout } = engine.capabilities;
  const { prefetch } = engine.configure({
    concurrency: http.concurrency,
    inferenceTimeoutMs: http.inferenceTimeoutMs,
    cancelGraceMs: predictionSettings.cancelGraceMs,
    maxQueue: http.maxQueue,
  });
  const scheduler = new AdmissionQueue(context.engine, {
    ...http,
    concurrency: http.concurrency + prefetch,
    inferenceTimeoutMs: enforcesTimeout ? 0 : http.inferenceTimeoutMs,
  });
  const bodies = new BodyBudget(http.maxBufferedBytes, http.maxConcurrentUploads, {
    idleMs: http.bodyIdleTimeoutMs,
    minBytesPerSecond: http.minBodyBytesPerSecond,
    windowMs: http.bodyRateWindowMs,
  });
  const metrics = createMetrics(
    () => scheduler.queueDepth,
    () => scheduler.inFlight,
    () => engine.restartCounts(),
    model,
    () => engine.workers(),
    bodies,
    () => engine.bodyBuffers?.(),
  );
  engine.events.on('batch', (size) => metrics.recordBatch(size));
  // Run directly, only a thread of its own can see the model block the event loop (a busy loop):
  // the scheduler's timers stop with it. Only an inference can block it so, and the thread (a
  // second Node instance) costs start-up time: it starts with the first inference.
  let watchdogStarted = enforcesTimeout || http.inferenceTimeoutMs <= 0;
  const run = (inputs: Record<string, unknown>, options: SubmitOptions) => {
    if (!watchdogStarted) {
      watchdogStarted = true;
      startEventLoopWatchdog(http.inferenceTimeoutMs);
    }
    return runInference(scheduler, metrics, inputs, options, onModelFault);
  };
  const readiness: Readiness = { status: 'ready' };
  // A platform's own request limit (SageMaker's 6 MB) when MAX_INPUT_BYTES is not given.
  const maxInputBytes = protocol.maxInputBytes ?? context.settings.maxInputBytes;
  if (http.maxBufferedBytes < maxInputBytes) {
    throw new AiIntegrationError(
      'AI_ERR_INVALID_OPTION',
      `MAX_BUFFERED_BYTES (${http.maxBufferedBytes}) is smaller than the body limit of this mode (${maxInputBytes} bytes${context.settings.maxInputBytesGiven ? ', MAX_INPUT_BYTES' : ", MAX_INPUT_BYTES's default"}), so a body at the limit could never be read; raise MAX_BUFFERED_BYTES or lower MAX_INPUT_BYTES`,
    );
  }
  const holding = (route: RouteContext): BodyHolding => ({ budget: bodies, response: route.response });
  const uploads = new OutputUploads(predictionSettings.uploads);
  const uploadOutputs = (prediction: Prediction, target: UploadTarget) => uploads.apply(prediction, target);

  // Every error is answered here: status and headers from the error table (through the
  // protocol's own statuses), the body in the protocol's shape.
  const errorBody = protocol.errorBody ?? nativeErrorBody;
  const answerError = (response: ServerResponse, error: unknown, around?: Readonly<Record<string, unknown>>) => {
    const answer = errorAnswer(error, protocol.errorStatuses);
    const body = errorBody(answer, error);
    sendJson(response, answer.status, around ? { ...around, ...body } : body, answer.headers);
  };
  // Requests the drain answered at its deadline: what their handlers do later goes nowhere.
  const answeredAtShutdown = new WeakSet<ServerResponse>();
  // Our errors are the caller's answer; anything else is a bug here, which the log must show.
  const fail = (response: ServerResponse, error: unknown, around?: Readonly<Record<string, unknown>>) => {
    if (answeredAtShutdown.has(response)) return;
    if (!(error instanceof AiIntegrationError))
      context.log.error(`internal error while answering a request: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    if (response.headersSent) response.destroy();
    else answerError(response, error, around);
  };

  const core: HttpCore = {
    context,
    model,
    settings: http,
    metrics,
    // The service's own state first (shutting down, failed), then the engine's (a restarting worker).
    readiness() {
      if (readiness.status !== 'ready') return readiness;
      const modelState = engine.readiness();
      if (!modelState.ready) return { status: 'restarting', reason: modelState.reason ?? 'the model is restarting' };
      // A mode's background work (KServe's gRPC server, the queue's consumer) starts once the port
      // listens: until it has, the service is not ready, so no probe routes traffic it cannot serve.
      if (protocol.background && service.background === undefined) return { status: 'not_ready', reason: `starting ${protocol.name}'s background work` };
      const work = service.background?.readiness?.();
      if (work && !work.ready) return { status: 'not_ready', reason: work.reason ?? 'the background work is not ready' };
      // Still ready (200): bodies are refused with 503 and Retry-After only until a slot frees, which
      // the body timeouts bound; a probe that failed here would take the replica out of service for
      // a passing peak, or every replica at once under a trickle on each.
      if (bodies.uploadsInUse >= bodies.maxUploads) {
        return {
          status: 'ready',
          reason: `every upload slot is held (${bodies.uploadsInUse} of ${bodies.maxUploads}, MAX_CONCURRENT_UPLOADS): request bodies get 503 with Retry-After until one frees`,
        };
      }
      return readiness;
    },
    live: () => scheduler.stuck === 0,
    status: () => ({
      inFlight: scheduler.inFlight,
      queued: scheduler.queueDepth,
      stuck: scheduler.stuck,
      workers: engine.workers(),
      // Run in this process, what the queue hands the engine runs (a batch model's next round aside).
      slots: engine.modelSlots?.() ?? { held: Math.min(scheduler.inFlight, http.concurrency), total: http.concurrency },
    }),
    readBody(route, accepted = []) {
      const mediaType = mediaTypeOf(route.request);
      if (accepted.length > 0 && !accepted.includes(mediaType)) return Promise.reject(unsupportedType(route.request, accepted.join(' or ')));
      return withinLimits(route.request, maxInputBytes, holding(route), (reading) => collectBody(route.request, reading));
    },
    readJson(route) {
      if (!isJsonType(mediaTypeOf(route.request))) return Promise.reject(unsupportedType(route.request, 'application/json'));
      return withinLimits(route.request, maxInputBytes, holding(route), (reading) => readJsonBody(route.request, reading, { expected: 'a JSON body' }));
    },
    readInputs: (route, accepted) => readRequestInputs(route.request, context, accepted, holding(route), maxInputBytes),
    convert: (raw, origin, options) => convertRequestInputs(context, raw, origin, options?.strict),
    infer: (inputs, route, options) => run(inputs, { signal: clientSignal(route), ...options }),
    reserve: (count, items) => scheduler.reserve(count, items),
    run: (inputs, options = {}) => run(inputs, options),
    predictions: new PredictionStore(
      predictionSettings,
      run,
      () => scheduler.refusal(),
      new WebhookSender(predictionSettings.webhooks, context.log),
      context.log,
      uploads,
    ),
    uploadOutputs,
    clientSignal,
    predict: async (raw, origin, route, options) => core.infer(await convertRequestInputs(context, raw, origin, options?.strict), route),
    fail,
  };

  const { access } = context.settings;
  const auth = access.token === undefined ? undefined : new BearerAuth(access.token);
  const accessLog = access.accessLog ? createAccessLog(access.logFormat) : undefined;
  const protocolRoutes = protocol.routes(core);
  const releasesBodies = protocol.handlersReleaseBodies === true;
  const openApi = JSON.stringify(auth ? withBearerScheme(protocol.openApi(core), protocolRoutes) : protocol.openApi(core));
  const shared: RouteDefinition[] = [
    { method: 'GET', path: '/openapi.json', handler: ({ response }) => sendText(response, 200, 'application/json; charset=utf-8', openApi) },
    { method: 'GET', path: '/docs', handler: ({ response }) => sendText(response, 200, 'text/html; charset=utf-8', docsPage) },
    // The page's asset URLs are relative (docs/swagger-ui.css), so it is served at /docs only; a
    // relative Location keeps a proxy's path prefix.
    {
      method: 'GET',
      path: '/docs/',
      handler: ({ response }) => {
        response.setHeader('location', '../docs');
        sendText(response, 308, 'text/plain; charset=utf-8', 'the API docs are at /docs\n');
      },
    },
    {
      method: 'GET',
      path: metricsPath,
      probe: true,
      handler: async ({ response }) => sendText(response, 200, metrics.registry.contentType, await metrics.render()),
    },
  ];
  const router = new Router([...protocolRoutes, ...shared]);

  const server = createServer(
    {
      // A request's headers cannot take longer than the whole request (node:http refuses that pairing).
      headersTimeout: Math.min(http.headersTimeoutMs, http.requestTimeoutMs),
      requestTimeout: http.requestTimeoutMs,
      keepAliveTimeout: http.keepAliveTimeoutMs,
      // node:http checks those two timeouts on this interval (30 s by default, which would make a
      // short HEADERS_TIMEOUT_MS useless): a tenth of the shorter one.
      connectionsCheckingInterval: Math.min(30_000, Math.max(100, Math.floor(Math.min(http.headersTimeoutMs, http.requestTimeoutMs) / 10))),
    },
    (request, response) => {
      const started = performance.now();
      const probesOnly = connections.begin(request, response);
      const id = requestIdOf(request);
      response.setHeader('x-request-id', id);
      if (readiness.status !== 'ready') response.setHeader('connection', 'close');
      const path = pathOf(request.url ?? '/');
      const bytesBefore = accessLog ? request.socket.bytesWritten : 0;
      let routeName = 'unmatched';
      // One listener per request for everything that happens when its response closes: each
      // listener more was a measurable share of a small request's cost.
      response.on('close', () => {
        connections.end(request, response);
        if (response.writableFinished) metrics.recordRequest(routeName, request.method ?? '', response.statusCode, (performance.now() - started) / 1000);
        accessLog?.(request, response, path, id, started, bytesBefore);
      });
      const docsAsset = path.startsWith('/docs/') && isDocsAsset(path.slice(6)) ? path.slice(6) : undefined;
      let match;
      try {
        match = docsAsset ? undefined : router.match(path);
      } catch (error) {
        fail(response, error);
        return;
      }
      routeName = docsAsset ? '/docs/*' : (match?.template ?? 'unmatched');
      if (auth && !BearerAuth.isOpen(request.method, match, docsAsset !== undefined) && !auth.allows(request)) {
        auth.refuse(request, response, answerError);
        return;
      }
      if ((probesOnly || connections.draining) && !match?.probe) {
        const refusal = connections.draining
          ? new AiIntegrationError('AI_ERR_NOT_READY', `the server is shutting down and takes no new work (${readiness.reason ?? readiness.status})`)
          : new AiIntegrationError(
              'AI_ERR_OVERLOADED',
              `too many open connections (MAX_CONNECTIONS is ${http.maxConnections}); this one may only reach the health probes and /metrics; retry on a new connection`,
            );
        response.setHeader('connection', 'close');
        answerError(response, refusal);
        return;
      }
      if (docsAsset) {
        // GET and HEAD only, as the router answers for a GET route of its own.
        if (request.method !== 'GET' && request.method !== 'HEAD') answerError(response, methodNotAllowed(request.method, path, ['GET', 'HEAD']));
        else sendDocsAsset(response, docsAsset).catch((error: unknown) => fail(response, error));
        return;
      }
      if (!match) {
        answerError(response, new AiIntegrationError('AI_ERR_NOT_FOUND', `no route ${path}; see /docs for the API`));
        return;
      }
      // HEAD is GET without the body: node:http drops what the handler writes and keeps its headers.
      const route = match.methods.get(request.method ?? '') ?? (request.method === 'HEAD' ? match.methods.get('GET') : undefined);
      if (!route) {
        const allowed = [...match.methods.keys()];
        if (match.methods.has('GET')) allowed.splice(allowed.indexOf('GET') + 1, 0, 'HEAD');
        answerError(response, methodNotAllowed(request.method, path, allowed));
        return;
      }
      try {
        const done = route.handler({ request, response, id, params: match.params });
        // Once the handler has settled (and the response closed), nothing of this request reads
        // its body's bytes, when the protocol says so: a buffer they were gathered into may be
        // reused (gather-pool.ts). A handler that returns no promise never says so, and its
        // buffers are never reused.
        if (done)
          done.then(
            () => releasesBodies && bodies.handlerSettled(response),
            (error: unknown) => {
              if (releasesBodies) bodies.handlerSettled(response);
              fail(response, error);
            },
          );
      } catch (error) {
        fail(response, error);
      }
    },
  );
  // Said once the port is taken (a port in use stays a one-line error), before "listening on".
  server.once('listening', () =>
    context.log.info(
      auth
        ? 'auth: every route but the health probes needs the bearer token (AUTH_TOKEN)'
        : 'auth: none, every route is open to whoever reaches the port (set AUTH_TOKEN to require a bearer token)',
    ),
  );
  const connections = new ConnectionGuard(server, http.maxConnections);
  const answerUnanswered = (error: AiIntegrationError): number => {
    const unanswered = connections.unanswered();
    for (const response of unanswered) {
      // A response already under way (a stream) cannot change its status: it ends where it is.
      if (response.headersSent) response.destroy();
      else {
        response.setHeader('connection', 'close');
        answerError(response, error);
      }
      answeredAtShutdown.add(response);
    }
    return unanswered.length;
  };
  const service: HttpService = { server, core, scheduler, readiness, connections, background: undefined, answerUnanswered };
  return service;
}

// One per response: a request of many items (a JSON Lines body, a KServe batch, Vertex instances)
// shares it, so the response gets one `close` listener, not one an item.
const clientSignals = new WeakMap<RouteContext['response'], Cancellation>();

/** Cancels when the client goes away before its answer is written: its predictions are canceled, queued or running. */
function clientSignal(route: RouteContext): Cancellation {
  const { response } = route;
  const known = clientSignals.get(response);
  if (known) return known;
  const cancellation = new Cancellation();
  clientSignals.set(response, cancellation);
  response.once('close', () => {
    if (!response.writableFinished) cancellation.cancel();
  });
  return cancellation;
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

/** 405 with `Allow`, for a method the path does not take. */
function methodNotAllowed(method: string | undefined, path: string, allowed: readonly string[]): MethodNotAllowedError {
  return new MethodNotAllowedError(allowed, `${method} is not allowed on ${path}; use ${allowed.join(', ')}`);
}
