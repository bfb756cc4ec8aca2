import type { IncomingMessage, ServerResponse } from 'node:http';
import { AiIntegrationError } from '../../src/errors.js';
import { acceptsRaw, outputValue, predictionEnvelope, type Prediction } from '../../src/http/predict.js';
import { nativePredictionState, type TrackedPrediction } from '../../src/serving/predictions.js';
import { notePredictionId } from '../../src/http/access-log.js';
import { parseWebhookTarget } from '../../src/serving/webhooks.js';
import { wantsEventStream } from '../../src/http/event-stream.js';
import { streamPrediction } from '../../src/http/stream-prediction.js';
import type { HttpCore, RouteContext, RouteDefinition } from '../../src/http/protocol.js';
import { livenessProbe, readinessProbe } from '../../src/http/probes.js';
import { sendJson, sendText } from '../../src/http/respond.js';
import { plural } from '../../src/plural.js';
import { runtimeVersion } from '../../src/version.js';
import { resultBytes } from '../../src/result/write-result.js';
import { legacyResponse } from './legacy-response.js';
import { renderPage } from './page.js';

/**
 * The native API's routes: the web page, the Python library's multipart endpoint, the prediction
 * API, readiness, liveness and /info. The core adds /openapi.json, /docs and /metrics.
 */
export function nativeRoutes(core: HttpCore): RouteDefinition[] {
  const { context, model } = core;
  const page = renderPage(context.schema, model, context.output);

  const runPrediction = async (route: RouteContext, accepted: readonly ('multipart' | 'json')[]) => {
    const { raw, origin } = await core.readInputs(route, accepted);
    return core.predict(raw, origin, route);
  };

  const stateOf = (tracked: TrackedPrediction) => nativePredictionState(tracked, outputValue);

  // `Prefer: respond-async` answers 202 at once; a `Webhook` header (with `Webhook-Events-Filter`)
  // gets the prediction's state on its events. Either way the prediction is held by id.
  const trackedPrediction = async (route: RouteContext, async: boolean, webhookUrl: string | undefined): Promise<TrackedPrediction> => {
    const { headers } = route.request;
    const target =
      webhookUrl === undefined
        ? undefined
        : parseWebhookTarget(webhookUrl, headers['webhook-events-filter'], { url: 'Webhook header', filter: 'Webhook-Events-Filter header' });
    const { raw, origin } = await core.readInputs(route, ['multipart', 'json']);
    const inputs = await core.convert(raw, origin);
    const tracked = core.predictions.start(inputs, {
      // A synchronous request's prediction ends with its client; an async one is on its own.
      ...(async ? {} : { signal: core.clientSignal(route) }),
      ...(target ? { webhook: { target, render: stateOf } } : {}),
    });
    notePredictionId(route.response, tracked.id);
    return tracked;
  };

  // `Accept: text/event-stream`: chunks as events as the model yields them, then the whole prediction.
  const streamedPrediction = async (route: RouteContext, webhookUrl: string | undefined) => {
    const target =
      webhookUrl === undefined
        ? undefined
        : parseWebhookTarget(webhookUrl, route.request.headers['webhook-events-filter'], { url: 'Webhook header', filter: 'Webhook-Events-Filter header' });
    const { raw, origin } = await core.readInputs(route, ['multipart', 'json']);
    const inputs = await core.convert(raw, origin);
    const webhook = target ? { webhook: { target, render: stateOf } } : {};
    await streamPrediction(route, (onChunk) => core.predictions.start(inputs, { signal: core.clientSignal(route), onChunk, ...webhook }), {
      chunk: (chunk) => chunk.value,
      done: stateOf,
    });
  };

  // The JSON envelope gives each output file's uploaded URL (OUTPUT_UPLOAD_URL; a prediction of
  // the store is uploaded already); a client that asked for the raw bytes gets them, with no upload.
  const sendPrediction = async (route: RouteContext, prediction: Prediction) => {
    const { request, response, id } = route;
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
    const uploaded = prediction.uploads ? prediction : await core.uploadOutputs(prediction, { predictionId: id, cancellation: core.clientSignal(route) });
    sendJson(response, 200, predictionEnvelope(id, uploaded));
  };

  const known = (id: string, response?: ServerResponse): TrackedPrediction => {
    const tracked = core.predictions.get(id);
    if (tracked && response) notePredictionId(response, tracked.id);
    if (!tracked)
      throw new AiIntegrationError(
        'AI_ERR_NOT_FOUND',
        `no prediction has the ID ${JSON.stringify(id)} (unknown, or finished more than PREDICTION_TTL_SECONDS ago)`,
      );
    return tracked;
  };

  return [
    { method: 'GET', path: '/', handler: ({ response }) => sendText(response, 200, 'text/html; charset=utf-8', page) },
    {
      method: 'POST',
      path: '/',
      handler: async (route) => {
        const prediction = await runPrediction(route, ['multipart']);
        sendJson(route.response, 200, legacyResponse(route.id, context.schema, prediction));
      },
    },
    {
      method: 'POST',
      path: '/predict',
      handler: async (route) => {
        const { request, response, id } = route;
        try {
          const async = preferAsync(request.headers.prefer as string | undefined);
          const webhook = webhookHeader(request);
          if (!async && wantsEventStream(request)) {
            await streamedPrediction(route, webhook);
            return;
          }
          if (async || webhook !== undefined) {
            const tracked = await trackedPrediction(route, async, webhook);
            if (async) {
              response.setHeader('location', `/predictions/${tracked.id}`);
              response.setHeader('preference-applied', 'respond-async');
              sendJson(response, 202, stateOf(tracked));
              return;
            }
            await tracked.settled;
            if (!tracked.prediction) throw tracked.error;
            await sendPrediction(route, tracked.prediction);
            return;
          }
          await sendPrediction(route, await runPrediction(route, ['multipart', 'json']));
        } catch (error) {
          // The envelope's id and status stay on a failure, so a client reads one shape.
          core.fail(response, error, { id, status: 'failed' });
        }
      },
    },
    { method: 'GET', path: '/predictions/{id}', handler: ({ response, params }) => sendJson(response, 200, stateOf(known(params.id!, response))) },
    {
      method: 'POST',
      path: '/predictions/{id}/cancel',
      handler: async ({ response, params }) => {
        const outcome = await core.predictions.cancel(known(params.id!, response).id);
        if (!outcome) throw new AiIntegrationError('AI_ERR_NOT_FOUND', `no prediction has the ID ${JSON.stringify(params.id)}`);
        if (outcome.stopped) {
          sendJson(response, 200, stateOf(outcome.prediction));
          return;
        }
        // Run directly, nothing can stop a model that ignores its signal: the cancel stands, and
        // the prediction ends when the model returns.
        sendJson(response, 202, {
          ...stateOf(outcome.prediction),
          cancel:
            'requested, but the model did not stop within CANCEL_GRACE_MS; it ignores its AbortSignal, and only the supervisor (the ai-integration command) can restart it',
        });
      },
    },
    { method: 'GET', path: '/health', probe: true, handler: readinessProbe(core) },
    { method: 'GET', path: '/health/live', probe: true, handler: livenessProbe(core, (live) => liveness(live, core)) },
    {
      method: 'GET',
      path: '/info',
      handler: ({ response }) => {
        const { workers } = core.status();
        sendJson(response, 200, {
          model,
          mode: 'http',
          schema: context.schema,
          ...(context.output ? { output: context.output } : {}),
          limits: {
            max_input_bytes: context.settings.maxInputBytes,
            max_input_depth: context.settings.maxInputDepth,
            strict_inputs: context.settings.strictInputs,
            ...snakeCase(core.settings),
          },
          runtime: { name: 'ai-integration', version: runtimeVersion, node: process.version },
          readiness: core.readiness(),
          // Under the supervisor: each model worker's state.
          ...(workers.length > 0 ? { workers } : {}),
        });
      },
    },
  ];
}

// Answering at all proves the event loop runs (a probe's timeout catches a blocked one); an
// inference stuck past its timeout in this process means the model is not alive either.
function liveness(live: boolean, core: HttpCore): { status: 'alive' } | { status: 'stuck'; reason: string } {
  if (live) return { status: 'alive' };
  return {
    status: 'stuck',
    reason: `${plural(core.status().stuck, 'inference')} ran past INFERENCE_TIMEOUT_MS and have not returned; the process is exiting to be restarted`,
  };
}

/**
 * The one URL of the `Webhook` header. node:http joins repeated lines of a header it does not know
 * with ", " (RFC 9110, section 5.3, allows that only for list-valued fields), which turned two URLs
 * into one URL that parses and would be called; a URL may itself hold a comma, so the lines are counted.
 * `Prefer` and `Webhook-Events-Filter` are lists, so their repeated lines join as the RFC says.
 */
function webhookHeader(request: IncomingMessage): string | undefined {
  const lines = request.headersDistinct.webhook;
  if (lines === undefined) return undefined;
  if (lines.length > 1)
    throw new AiIntegrationError('AI_ERR_INVALID_INPUT', `Webhook header: sent ${lines.length} times; send one webhook URL`, { field: 'Webhook header' });
  return lines[0];
}

/** Whether a Prefer header (RFC 7240) asks for `respond-async`. */
function preferAsync(prefer: string | undefined): boolean {
  return prefer !== undefined && prefer.split(',').some((preference) => preference.split(';')[0]!.trim().toLowerCase() === 'respond-async');
}

function snakeCase(record: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [key.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`), value]));
}
