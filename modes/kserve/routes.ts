import type { HttpCore, Readiness, RouteContext, RouteDefinition } from '../../src/http/protocol.js';
import { livenessProbe, readinessProbe } from '../../src/http/probes.js';
import { sendJson } from '../../src/http/respond.js';
import { runtimeVersion } from '../../src/version.js';
import { parseJsonBody } from './_json-body.js';
import { inferenceHeaderLength } from './binary-extension.js';
import { checkModel as checkModelOf, runItems as runModelItems } from './model-calls.js';
import { parseInferRequest } from './infer-request.js';
import { encodeInferResponse, type ModelOutput } from './infer-response.js';
import { describedFields } from './field-tensors.js';
import { modelMetadata, outputMetadata, serverMetadata } from './metadata.js';
import { encodeV1Response, parseV1Request } from './v1.js';

/**
 * The Open Inference Protocol's routes (V2, with the binary tensor data extension, and V1) for
 * the one model this container serves. The core adds /openapi.json, /docs and /metrics.
 */
export function openInferenceRoutes(core: HttpCore): RouteDefinition[] {
  const { context, model } = core;
  const { schema } = context;
  const metadata = modelMetadata(model, schema, outputMetadata(context.output));

  const checkModel = ({ params }: RouteContext) => checkModelOf(model, params.name, params.version);
  const runItems = (route: RouteContext, items: Record<string, unknown>[], noun: string): Promise<ModelOutput[]> =>
    runModelItems(core, items, noun, (inputs, reservation) => core.infer(inputs, route, { reservation }));

  const modelMetadataRoute = (route: RouteContext) => {
    checkModel(route);
    sendJson(route.response, 200, metadata);
  };
  // Health answers by its status code (200 true, 503 false), as the protocol says; the body repeats
  // it, with the reason when false.
  const live = livenessProbe(core, (isLive) =>
    isLive ? { live: true } : { live: false, reason: 'an inference ran past INFERENCE_TIMEOUT_MS; the process is exiting to be restarted' },
  );
  const ready = readinessProbe(core, (readiness) => ({ ready: readiness.status === 'ready', ...reasonOf(readiness) }));
  const modelReady = readinessProbe(core, (readiness) => ({ name: model.name, ready: readiness.status === 'ready', ...reasonOf(readiness) }));
  const modelReadyRoute = (route: RouteContext) => {
    checkModel(route);
    return modelReady(route);
  };
  const inferRoute = async (route: RouteContext) => {
    checkModel(route);
    // The content type is not checked, as KServe and Triton do not: JSON, or binary with the header.
    const body = await core.readBody(route);
    const request = parseInferRequest(body, route.request.headers[inferenceHeaderLength], schema);
    const results = await runItems(route, request.items, 'batch items');
    // Without an id in the request, the X-Request-Id stands in, so a response can always be traced.
    const encoded = encodeInferResponse({ model, id: request.id ?? route.id, outputs: request.outputs, results, described: describedFields(context.output) });
    if (!encoded.binary) {
      sendJson(route.response, 200, encoded.json);
      return;
    }
    route.response.writeHead(200, {
      'content-type': 'application/octet-stream',
      [inferenceHeaderLength]: String(encoded.headerLength),
      'content-length': encoded.body.length,
    });
    route.response.end(encoded.body);
  };

  return [
    { method: 'GET', path: '/v2', handler: ({ response }) => sendJson(response, 200, serverMetadata(runtimeVersion)) },
    // The official document's path for server metadata.
    { method: 'GET', path: '/v2/', handler: ({ response }) => sendJson(response, 200, serverMetadata(runtimeVersion)) },
    { method: 'GET', path: '/v2/health/live', probe: true, handler: live },
    { method: 'GET', path: '/v2/health/ready', probe: true, handler: ready },
    { method: 'GET', path: '/v2/models/{name}', handler: modelMetadataRoute },
    { method: 'GET', path: '/v2/models/{name}/ready', probe: true, handler: modelReadyRoute },
    { method: 'POST', path: '/v2/models/{name}/infer', handler: inferRoute },
    { method: 'GET', path: '/v2/models/{name}/versions/{version}', handler: modelMetadataRoute },
    { method: 'GET', path: '/v2/models/{name}/versions/{version}/ready', probe: true, handler: modelReadyRoute },
    { method: 'POST', path: '/v2/models/{name}/versions/{version}/infer', handler: inferRoute },
    { method: 'GET', path: '/v1/models/{name}', probe: true, handler: modelReadyRoute },
    {
      method: 'POST',
      path: '/v1/models/{name}:predict',
      handler: async (route) => {
        checkModel(route);
        const body = parseJsonBody(await core.readBody(route), 'the body', '{"instances": [...]}');
        const results = await runItems(route, parseV1Request(body, schema), 'instances');
        sendJson(route.response, 200, encodeV1Response(results));
      },
    },
  ];
}

function reasonOf(readiness: Readiness): { reason?: string } {
  if (readiness.status === 'ready') return {};
  return { reason: readiness.reason ?? readiness.status };
}
