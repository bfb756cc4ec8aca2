import { AiIntegrationError } from '../../src/errors.js';
import type { HttpCore, RouteContext, RouteDefinition } from '../../src/http/protocol.js';
import { readinessProbe } from '../../src/http/probes.js';
import { sendJson } from '../../src/http/respond.js';
import type { VertexSettings } from './settings.js';
import { convertInstances, runInstances } from './instances.js';
import { parsePredictRequest } from './predict-request.js';
import { predictionOf } from './predictions.js';

/**
 * Vertex AI's two routes, at the paths Vertex gives (AIP_HEALTH_ROUTE, AIP_PREDICT_ROUTE): the
 * health check, 200 only when the model can take work, and the predict route. The core adds
 * /openapi.json, /docs and /metrics.
 */
export function vertexRoutes(core: HttpCore, { healthRoute, predictRoute }: Pick<VertexSettings, 'healthRoute' | 'predictRoute'>): RouteDefinition[] {
  const { context } = core;
  // Every instance of a request takes a place in the queue at once, so a request with more than
  // the queue can ever hold would be refused with 429 forever: refuse it once, saying why.
  const mostInstances = core.settings.concurrency + core.settings.maxQueue;

  const predict = async (route: RouteContext) => {
    const instances = parsePredictRequest(await core.readJson(route), context.schema);
    if (instances.length > mostInstances) {
      throw new AiIntegrationError(
        'AI_ERR_INPUT_TOO_LARGE',
        `the request has ${instances.length} instances; this server takes at most ${mostInstances} in one request (CONCURRENCY + MAX_QUEUE); send fewer per request, or raise MAX_QUEUE`,
      );
    }
    const converted = await convertInstances(instances, (raw) => core.convert(raw, 'data'));
    const predictions = await runInstances(converted, (inputs) => core.infer(inputs, route));
    sendJson(route.response, 200, { predictions: predictions.map(predictionOf) });
  };

  return [
    { method: 'GET', path: healthRoute, probe: true, handler: readinessProbe(core) },
    { method: 'POST', path: predictRoute, handler: predict },
  ];
}
