import type { HttpCore, RouteContext, RouteDefinition } from '../../src/http/protocol.js';
import { readinessProbe } from '../../src/http/probes.js';
import { sendJson } from '../../src/http/respond.js';
import { checkBatchSize, withReservation } from '../../src/serving/batch.js';
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
    // Admitted whole: a place for every instance at once, or 429 before any runs.
    const predictions = await withReservation(core.reserve, converted.length, 'instances', (reservation) =>
      // With OUTPUT_UPLOAD_URL, each instance's files go under `<request id>-<index>` (from 0, as `instances[0]`).
      runInstances(converted, async (inputs, index) =>
        core.uploadOutputs(await core.infer(inputs, route, { reservation }), { predictionId: `${route.id}-${index}`, cancellation: core.clientSignal(route) }),
      ),
    );
    sendJson(route.response, 200, { predictions: predictions.map(predictionOf) });
  };

  return [
    { method: 'GET', path: healthRoute, probe: true, handler: readinessProbe(core) },
    { method: 'POST', path: predictRoute, handler: predict },
  ];
}
