import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { ChunkOutput } from '../../src/http/chunk-output.js';
import { wantsEventStream } from '../../src/http/event-stream.js';
import { neverRan, type TrackedPrediction } from '../../src/serving/predictions.js';
import { streamPrediction } from '../../src/http/stream-prediction.js';
import type { HttpCore, RouteContext, RouteDefinition } from '../../src/http/protocol.js';
import { sendJson } from '../../src/http/respond.js';
import type { ServiceControl } from '../../src/http/lifecycle.js';
import { parseWebhookTarget } from '../../src/serving/webhooks.js';
import { AiIntegrationError } from '../../src/errors.js';
import { runtimeVersion } from '../../src/version.js';
import { CogValidationError } from './errors.js';
import type { CogHealth } from './health.js';
import { parsePredictionRequest, predictionIdProblem, prefersAsync, refuseStreamOnPut } from './prediction-request.js';
import { isPredictionFailure, trackedResponse, type PredictionIdentity } from './prediction-response.js';
import { cogTimestamp } from './timestamp.js';
import type { CogPredictionRequest } from './types.js';

// How often a PUT that joined someone else's prediction starts it again after it never ran (its
// first client left before its turn).
const joinAttempts = 3;

/**
 * The routes of Cog's prediction API: `GET /` (the route index), `GET /health-check`,
 * `POST /predictions`, `PUT /predictions/{prediction_id}`, `GET /predictions/{prediction_id}`,
 * `POST /predictions/{prediction_id}/cancel` and `POST /shutdown`. Predictions live in the core's
 * store (shared with the native API), which makes PUT idempotent for PREDICTION_TTL_SECONDS after
 * a prediction ends. The core adds `/openapi.json`, `/docs` and `/metrics`.
 */
export function cogRoutes(core: HttpCore, health: CogHealth, control: ServiceControl): RouteDefinition[] {
  const { context } = core;
  // What each held prediction answers with beyond its state: Cog's identity (the inputs as sent,
  // created_at). Kept beside the core's entry, and dropped with it (a WeakMap).
  const identities = new WeakMap<TrackedPrediction, PredictionIdentity>();

  const index = {
    cog_version: `ai-integration ${runtimeVersion}`,
    docs_url: '/docs',
    openapi_url: '/openapi.json',
    shutdown_url: '/shutdown',
    healthcheck_url: '/health-check',
    predictions_url: '/predictions',
    predictions_idempotent_url: '/predictions/{prediction_id}',
    predictions_cancel_url: '/predictions/{prediction_id}/cancel',
  };

  // Cog's own fields (the input as given, its created_at) stay here, beside the core's record.
  const bodyOf = (tracked: TrackedPrediction) =>
    trackedResponse(identities.get(tracked) ?? { id: tracked.id, input: {}, createdAt: cogTimestamp(tracked.createdMs) }, tracked);

  const readRequest = async (route: RouteContext): Promise<unknown> => {
    const { headers } = route.request;
    // Cog's compatibility rule: no body at all is a prediction without inputs.
    const bodiless = headers['content-type'] === undefined && headers['transfer-encoding'] === undefined && (headers['content-length'] ?? '0') === '0';
    return bodiless ? null : core.readJson(route);
  };

  // `received`: when the request arrived, Cog's `created_at` unless the body gives its own.
  const parse = (body: unknown, received: number, pathId?: string): { identity: PredictionIdentity; request: CogPredictionRequest } => {
    const request = parsePredictionRequest(body, {
      schema: context.schema,
      strictInputs: context.settings.strictInputs,
      ...(pathId === undefined ? {} : { pathId }),
    });
    return {
      request,
      identity: { id: request.id ?? randomUUID().replaceAll('-', ''), input: request.input, createdAt: request.createdAt ?? cogTimestamp(received) },
    };
  };

  // Converts and queues: 422 and 429 are HTTP answers, before anything is held.
  // `onChunk`: the event stream's listener, when the client asked for one.
  const start = async (
    route: RouteContext,
    parsed: { identity: PredictionIdentity; request: CogPredictionRequest },
    async: boolean,
    onChunk?: (chunk: ChunkOutput) => void,
  ): Promise<TrackedPrediction> => {
    const { identity, request } = parsed;
    const target =
      request.webhook === undefined
        ? undefined
        : parseWebhookTarget(request.webhook, request.webhookEventsFilter, { url: 'webhook', filter: 'webhook_events_filter' });
    const inputs = await core.convert(identity.input, 'data');
    const tracked = core.predictions.start(inputs, {
      id: identity.id,
      // A synchronous request's prediction ends with its client; an async one is on its own.
      ...(async ? {} : { signal: core.clientSignal(route) }),
      ...(target ? { webhook: { target, render: (prediction: TrackedPrediction) => trackedResponse(identity, prediction) } } : {}),
      ...(onChunk ? { onChunk } : {}),
      ...(request.outputFilePrefix === undefined ? {} : { uploadUrl: request.outputFilePrefix }),
    });
    identities.set(tracked, identity);
    return tracked;
  };

  // `Accept: text/event-stream`: an `output` event per chunk, then `done` with the prediction.
  const stream = (route: RouteContext, parsed: { identity: PredictionIdentity; request: CogPredictionRequest }) =>
    streamPrediction(route, (onChunk) => start(route, parsed, false, onChunk), { chunk: (chunk) => chunk.value, done: bodyOf });

  // A failure of the model is an answer (status "failed" or "canceled", HTTP 200, as Cog gives
  // it); an error that is not the prediction's (the server stopping) keeps its HTTP status.
  const answer = async (response: ServerResponse, tracked: TrackedPrediction, async: boolean) => {
    if (async) {
      sendJson(response, 202, bodyOf(tracked));
      return;
    }
    await tracked.settled;
    if (tracked.status === 'failed' && !isPredictionFailure(tracked.error)) throw tracked.error;
    sendJson(response, 200, bodyOf(tracked));
  };

  const create = async (route: RouteContext) => {
    const received = Date.now();
    const async = prefersAsync(route.request.headers.prefer);
    const parsed = parse(await readRequest(route), received);
    if (!async && wantsEventStream(route.request)) return await stream(route, parsed);
    // An id the server holds is refused (409, as Cog refuses an id it is running): the model runs
    // once per id; PUT is the idempotent way to ask again.
    await answer(route.response, await start(route, parsed, async), async);
  };

  const createIdempotent = async (route: RouteContext) => {
    const pathId = route.params.prediction_id!;
    const received = Date.now();
    const async = prefersAsync(route.request.headers.prefer);
    refuseStreamOnPut(route.request.headers.accept);
    const body = await readRequest(route);
    const bodyId = body !== null && typeof body === 'object' ? (body as { id?: unknown }).id : undefined;
    const sameId = bodyId === undefined || bodyId === null || bodyId === pathId;
    for (let attempt = 1; ; attempt++) {
      // A known id answers its prediction, running or finished, whatever the body's inputs say
      // (Cog's rule), unless the body names another id. The model runs once per id.
      const known = sameId ? core.predictions.get(pathId) : undefined;
      let tracked: TrackedPrediction;
      try {
        tracked = known && !neverRan(known) ? known : await start(route, parse(body, received, pathId), async);
      } catch (error) {
        // Another request started this id while its inputs were converted: join that one.
        if (sameId && error instanceof AiIntegrationError && error.code === 'AI_ERR_ID_IN_USE' && attempt < joinAttempts) continue;
        throw error;
      }
      if (async) return await answer(route.response, tracked, true);
      await tracked.settled;
      if (tracked !== known || !neverRan(tracked) || attempt >= joinAttempts || route.response.destroyed) return await answer(route.response, tracked, false);
    }
  };

  const checkedId = (id: string) => {
    const problem = predictionIdProblem(id);
    if (problem) throw new CogValidationError([{ loc: ['path', 'prediction_id'], msg: problem, type: 'value_error' }]);
    return id;
  };

  const get = ({ response, params }: RouteContext) => {
    const tracked = core.predictions.get(checkedId(params.prediction_id!));
    if (!tracked)
      throw new AiIntegrationError(
        'AI_ERR_NOT_FOUND',
        `no prediction has the ID ${JSON.stringify(params.prediction_id)} (unknown, or finished more than PREDICTION_TTL_SECONDS ago)`,
      );
    sendJson(response, 200, bodyOf(tracked));
  };

  const cancel = async ({ response, params }: RouteContext) => {
    const id = checkedId(params.prediction_id!);
    const held = core.predictions.get(id);
    // Cog answers 404 for an id it does not know or whose prediction has finished.
    if (!held || held.done) throw new AiIntegrationError('AI_ERR_NOT_FOUND', `no running prediction has the ID ${JSON.stringify(id)}`);
    const outcome = await core.predictions.cancel(id);
    if (!outcome || outcome.stopped) sendJson(response, 200, {});
    else
      sendJson(response, 202, {
        detail:
          'canceled, but the model did not stop within CANCEL_GRACE_MS: it ignores its AbortSignal, and only the supervisor (the ai-integration command) can restart it; the prediction ends when the model returns',
      });
  };

  return [
    { method: 'GET', path: '/', handler: ({ response }) => sendJson(response, 200, index) },
    {
      method: 'GET',
      path: '/health-check',
      probe: true,
      handler: ({ response }) => {
        const { slots } = core.status();
        sendJson(response, 200, health.body({ readiness: core.readiness(), running: slots.held, slots: slots.total }));
      },
    },
    { method: 'POST', path: '/predictions', handler: create },
    { method: 'PUT', path: '/predictions/{prediction_id}', handler: createIdempotent },
    { method: 'GET', path: '/predictions/{prediction_id}', handler: get },
    { method: 'POST', path: '/predictions/{prediction_id}/cancel', handler: cancel },
    {
      method: 'POST',
      path: '/shutdown',
      // An operator's command: it gets through past MAX_CONNECTIONS and while already draining.
      probe: true,
      handler: ({ response }) => {
        context.log.info('POST /shutdown: draining in-flight and queued work, then exiting');
        control.shutdown('POST /shutdown');
        sendJson(response, 200, {});
      },
    },
  ];
}
