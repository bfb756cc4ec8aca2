import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { outputValue } from '../../src/http/predict.js';
import type { HttpCore, RouteContext, RouteDefinition } from '../../src/http/protocol.js';
import { sendJson, sendText } from '../../src/http/respond.js';
import type { ServiceControl } from '../../src/http/serve.js';
import { runtimeVersion } from '../../src/version.js';
import { CogNotSupportedError, CogValidationError } from './errors.js';
import type { CogHealth } from './health.js';
import { parsePredictionRequest, predictionIdProblem, refuseUnsupportedHeaders } from './prediction-request.js';
import { isPredictionFailure, predictionResponse, type PredictionIdentity } from './prediction-response.js';
import { PredictionStore } from './prediction-store.js';
import { cogTimestamp } from './timestamp.js';

// Finished answers kept for idempotent PUT: a retry comes within seconds or minutes, and an answer
// may hold a whole image as a data: URL, so the bound is in bytes as well as in count.
const storeLimits = { maxFinished: 1000, maxBytes: 64 * 1024 * 1024, sizeOf: (answer: string) => answer.length };
// How often a PUT that joined someone else's prediction starts it again after it never ran (its
// first client left before its turn, or the queue refused it).
const joinAttempts = 3;

/**
 * The routes of Cog's prediction API: `GET /` (the route index), `GET /health-check`,
 * `POST /predictions`, `PUT /predictions/{prediction_id}`, `POST /predictions/{prediction_id}/cancel`
 * and `POST /shutdown`. The core adds `/openapi.json`, `/docs` and `/metrics`.
 */
export function cogRoutes(core: HttpCore, health: CogHealth, control: ServiceControl): RouteDefinition[] {
  const { context } = core;
  const store = new PredictionStore<string>(storeLimits);

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

  // The answer to a prediction, serialised once: the store keeps it, and every request for it
  // gets the same bytes. A failure of the model is an answer (status "failed", HTTP 200, as Cog
  // gives it); a request that never became a prediction (422, 429, 503) rejects.
  const run = async (identity: PredictionIdentity, route: RouteContext): Promise<string> => {
    try {
      const prediction = await core.predict(identity.input, 'data', route);
      const outcome = { status: 'succeeded', output: outputValue(prediction), completedMs: Date.now(), predictMs: prediction.predictMs } as const;
      return JSON.stringify(predictionResponse(identity, outcome));
    } catch (error) {
      if (!isPredictionFailure(error)) throw error;
      return JSON.stringify(predictionResponse(identity, { status: 'failed', error: error.message, completedMs: Date.now() }));
    }
  };

  const readRequest = async (route: RouteContext): Promise<unknown> => {
    const { headers } = route.request;
    refuseUnsupportedHeaders(headers.prefer, headers.accept);
    // Cog's compatibility rule: no body at all is a prediction without inputs.
    const bodiless = headers['content-type'] === undefined && headers['transfer-encoding'] === undefined && (headers['content-length'] ?? '0') === '0';
    return bodiless ? null : core.readJson(route);
  };

  // `received`: when the request arrived, Cog's `created_at` unless the body gives its own.
  const identityOf = (body: unknown, received: number, pathId?: string): PredictionIdentity & { chosen: boolean } => {
    const request = parsePredictionRequest(body, { schema: context.schema, strictInputs: context.settings.strictInputs, ...(pathId === undefined ? {} : { pathId }) });
    return {
      id: request.id ?? randomUUID().replaceAll('-', ''),
      chosen: request.id !== undefined,
      input: request.input,
      createdAt: request.createdAt ?? cogTimestamp(received),
    };
  };

  const answer = (response: ServerResponse, text: string) => sendText(response, 200, 'application/json; charset=utf-8', text);

  const create = async (route: RouteContext) => {
    const received = Date.now();
    try {
      const identity = identityOf(await readRequest(route), received);
      // POST always runs, as Cog's does; an id the client chose is kept for a later PUT.
      const prediction = store.start(identity.id, () => run(identity, route), { keep: identity.chosen });
      answer(route.response, await prediction.answer);
    } catch (error) {
      core.fail(route.response, error);
    }
  };

  const createIdempotent = async (route: RouteContext) => {
    const pathId = route.params.prediction_id!;
    const received = Date.now();
    try {
      const body = await readRequest(route);
      const bodyId = body !== null && typeof body === 'object' ? (body as { id?: unknown }).id : undefined;
      const sameId = bodyId === undefined || bodyId === null || bodyId === pathId;
      let identity: PredictionIdentity | undefined;
      for (let attempt = 1; ; attempt++) {
        // A known id answers its prediction, running or finished, whatever the body's inputs say
        // (Cog's rule), unless the body names another id. The model runs once per id.
        const known = sameId ? store.get(pathId) : undefined;
        let prediction = known;
        let created = false;
        if (!prediction) {
          identity ??= identityOf(body, received, pathId);
          const start = identity;
          ({ prediction, created } = store.getOrStart(start.id, () => run(start, route)));
        }
        try {
          answer(route.response, await prediction.answer);
          return;
        } catch (error) {
          // Another request's prediction for this id never ran (its client left before its turn,
          // or the queue refused it): it is forgotten, and this request may still run it.
          if (created || attempt >= joinAttempts) throw error;
        }
      }
    } catch (error) {
      core.fail(route.response, error);
    }
  };

  const cancel = ({ response, params }: RouteContext) => {
    const id = params.prediction_id!;
    const problem = predictionIdProblem(id);
    if (problem) throw new CogValidationError([{ loc: ['path', 'prediction_id'], msg: problem, type: 'value_error' }]);
    const held = store.get(id);
    // Cog answers 404 for an id it does not know or whose prediction has finished.
    if (!held || held.done) {
      sendJson(response, 404, { detail: `no running prediction has the ID ${JSON.stringify(id)}` });
      return;
    }
    throw new CogNotSupportedError('canceling a running prediction is not supported yet: it runs to the end, and PUT /predictions/{prediction_id} with its ID answers it');
  };

  return [
    { method: 'GET', path: '/', handler: ({ response }) => sendJson(response, 200, index) },
    {
      method: 'GET',
      path: '/health-check',
      probe: true,
      handler: ({ response }) => sendJson(response, 200, health.body({ readiness: core.readiness(), running: core.scheduler.inFlight, slots: core.settings.concurrency })),
    },
    { method: 'POST', path: '/predictions', handler: create },
    { method: 'PUT', path: '/predictions/{prediction_id}', handler: createIdempotent },
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
