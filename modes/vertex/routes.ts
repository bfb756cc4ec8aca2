import type { HttpCore, RouteContext, RouteDefinition } from '../../src/http/protocol.js';
import { readinessProbe } from '../../src/http/probes.js';
import { sendJson } from '../../src/http/respond.js';
import { checkBatchSize } from '../../src/serving/batch.js';
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

  const predict = async (route: RouteContext) => {
    const instances = parsePredictRequest(await core.readJson(route), context.schema);
    // Every instance takes a place in the queue at once: more than it can ever hold is a 413.
    checkBatchSize(instances.length, core.settings, 'instances');
    const converted = await convertInstances(instances, (raw) => core.convert(raw, 'data'));
    const predictions = await runInstances(converted, (inputs) => core.infer(inputs, route));
    sendJson(route.response, 200, { predictions: predictions.map(predictionOf) });
  };

  return [
    { method: 'GET', path: healthRoute, probe: true, handler: readinessProbe(core) },
    { method: 'POST', path: predictRoute, handler: predict },
  ];
}
