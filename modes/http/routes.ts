import type { ServerResponse } from 'node:http';
import { AiIntegrationError } from '../../src/errors.js';
import { acceptsRaw, outputValue } from '../../src/http/predict.js';
import type { HttpCore, Readiness, RouteContext, RouteDefinition } from '../../src/http/protocol.js';
import { sendError, sendJson, sendText } from '../../src/http/respond.js';
import { plural } from '../../src/plural.js';
import { runtimeVersion } from '../../src/version.js';
import { resultBytes } from '../../src/write-result.js';
import { legacyResponse } from './legacy-response.js';
import { renderPage } from './page.js';

/**
 * The native API's routes: the web page, the Python library's multipart endpoint, the prediction
 * API, readiness, liveness and /info. The core adds /openapi.json, /docs and /metrics.
 */
export function nativeRoutes(core: HttpCore): RouteDefinition[] {
  const { context, model } = core;
  const page = renderPage(context.schema, model);

  const runPrediction = async (route: RouteContext, accepted: readonly ('multipart' | 'json')[]) => {
    const { raw, origin } = await core.readInputs(route, accepted);
    return core.predict(raw, origin, route);
  };

  return [
    { method: 'GET', path: '/', handler: ({ response }) => sendText(response, 200, 'text/html; charset=utf-8', page) },
    {
      method: 'POST',
      path: '/',
      handler: async (route) => {
        try {
          const prediction = await runPrediction(route, ['multipart']);
          sendJson(route.response, 200, legacyResponse(route.id, context.schema, prediction));
        } catch (error) {
          core.fail(route.response, error);
        }
      },
    },
    {
      method: 'POST',
      path: '/predict',
      handler: async (route) => {
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
          // The envelope's id and status stay on a failure, so a client reads one shape.
          if (error instanceof AiIntegrationError && !response.headersSent) sendError(response, error, {}, { id, status: 'failed' });
          else core.fail(response, error);
        }
      },
    },
    { method: 'GET', path: '/health', probe: true, handler: ({ response }) => sendReadiness(response, core.readiness()) },
    { method: 'GET', path: '/health/live', probe: true, handler: ({ response }) => sendLiveness(response, core) },
    {
      method: 'GET',
      path: '/info',
      handler: ({ response }) =>
        sendJson(response, 200, {
          model,
          mode: 'http',
          schema: context.schema,
          ...(context.output ? { output: context.output } : {}),
          limits: { max_input_bytes: context.settings.maxInputBytes, max_input_depth: context.settings.maxInputDepth, strict_inputs: context.settings.strictInputs, ...snakeCase(core.settings) },
          runtime: { name: 'ai-integration', version: runtimeVersion, node: process.version },
          readiness: core.readiness(),
        }),
    },
  ];
}

// Answering at all proves the event loop runs (a probe's timeout catches a blocked one); an
// inference stuck past its timeout in this process means the model is not alive either.
function sendLiveness(response: ServerResponse, core: HttpCore): void {
  if (core.live()) sendJson(response, 200, { status: 'alive' });
  else sendJson(response, 503, { status: 'stuck', reason: `${plural(core.scheduler.stuck, 'inference')} ran past INFERENCE_TIMEOUT_MS and have not returned; the process is exiting to be restarted` });
}

function sendReadiness(response: ServerResponse, readiness: Readiness): void {
  sendJson(response, readiness.status === 'ready' ? 200 : 503, readiness);
}

const round = (milliseconds: number) => Math.round(milliseconds * 10) / 10;

function snakeCase(record: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [key.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`), value]));
}
