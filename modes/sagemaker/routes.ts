import type { ServerResponse } from 'node:http';
import { AiIntegrationError, InvalidInputError } from '../../src/errors.js';
import { closeGently } from '../../src/http/lingering-close.js';
import { isJsonType } from '../../src/media-type.js';
import type { HttpCore, RawInputs, RouteContext, RouteDefinition } from '../../src/http/protocol.js';
import { mediaTypeOf } from '../../src/http/request-body.js';
import { acceptsRaw } from '../../src/http/predict.js';
import { readinessProbe } from '../../src/http/probes.js';
import { sendJson } from '../../src/http/respond.js';
import { isBinaryType } from '../../src/inputs/schema.js';
import { describeInputs, isRawBinaryType, jsonLinesTypes, parseJsonInputs, parseJsonLines, soleBinaryInput } from './invocation-body.js';
import { acceptsUploadedAnswer, chooseLinesType, encodeLines, encodeResult, type Encoded } from './invocation-response.js';
import type { ExecutionParameters } from './limits.js';
import { checkLines, runLines } from './run-lines.js';

/**
 * SageMaker's container contract: `GET /ping` (readiness), `POST /invocations` (JSON, multipart,
 * JSON Lines, or the raw bytes of the one binary input) and, for batch transform,
 * `GET /execution-parameters`. The core adds /openapi.json, /docs and /metrics.
 */
export function sageMakerRoutes(core: HttpCore, parameters: ExecutionParameters): RouteDefinition[] {
  const { schema } = core.context;
  const binaryInput = soleBinaryInput(schema);
  // SageMaker sends MaxConcurrentTransforms requests at once; between them they keep CONCURRENCY
  // lines running, and the queue never fills with one request's lines.
  const lineWindow = Math.max(1, Math.ceil(core.settings.concurrency / parameters.MaxConcurrentTransforms));

  const readSingle = async (route: RouteContext, mediaType: string): Promise<RawInputs & { rawBody?: boolean }> => {
    if (mediaType === 'multipart/form-data') return core.readInputs(route, ['multipart']);
    if (isJsonType(mediaType)) return { raw: parseJsonInputs(await core.readBody(route), schema), origin: 'data' };
    if (isRawBinaryType(mediaType) && binaryInput !== undefined) return { raw: { [binaryInput]: await core.readBody(route) }, origin: 'data', rawBody: true };
    throw refuseUnread(route, unsupported(route, mediaType));
  };

  const unsupported = (route: RouteContext, mediaType: string): AiIntegrationError => {
    const given = JSON.stringify(mediaType || route.request.headers['content-type'] || '(none)');
    if (isRawBinaryType(mediaType)) {
      const count = Object.values(schema).filter((spec) => isBinaryType(spec.type)).length;
      return new AiIntegrationError(
        'AI_ERR_UNSUPPORTED_MEDIA_TYPE',
        `a raw ${given} body is the bytes of the model's one image or file input, but this model has ${count === 0 ? 'none' : count} (its inputs: ${describeInputs(schema)}); send application/json (an object of inputs, binary ones as base64) or multipart/form-data (a field per input)`,
      );
    }
    const raw = binaryInput === undefined ? '' : `, or the raw bytes of ${binaryInput} as image/* or application/octet-stream`;
    return new AiIntegrationError(
      'AI_ERR_UNSUPPORTED_MEDIA_TYPE',
      `the content type ${given} is not accepted; send application/json (an object of inputs: ${describeInputs(schema)}), multipart/form-data (a field per input), application/jsonlines (one inputs object per line)${raw}`,
    );
  };

  const invoke = async (route: RouteContext) => {
    const { request, response } = route;
    const accept = request.headers.accept;
    const mediaType = mediaTypeOf(request);
    if (jsonLinesTypes.includes(mediaType)) {
      let answerType: string;
      try {
        answerType = chooseLinesType(mediaType, accept);
      } catch (error) {
        throw refuseUnread(route, error as AiIntegrationError);
      }
      const lines = parseJsonLines(await core.readBody(route), schema);
      const converted = await checkLines(lines, (raw) => core.convert(raw, 'data'));
      // The window's places are taken at once and kept for the whole request, so that no line is
      // refused after earlier ones ran: a request either runs every line or gets 429 before any.
      const window = Math.max(1, Math.min(lineWindow, converted.length));
      const reservation = converted.length > 1 ? core.reserve(window, 'lines at once') : undefined;
      let results;
      try {
        // Each line's files go under `<request id>-<line>` (lines counted from 1, as errors name them).
        results = await runLines(converted, window, async (inputs, index) =>
          core.uploadOutputs(await core.infer(inputs, route, { reservation }), {
            predictionId: `${route.id}-${index + 1}`,
            cancellation: core.clientSignal(route),
          }),
        );
      } finally {
        reservation?.release();
      }
      send(response, encodeLines(results, answerType));
      return;
    }
    const { raw, origin, rawBody } = await readSingle(route, mediaType);
    const inputs = await core.convert(raw, origin).catch((error: unknown) => {
      // A raw body gives one input; say how to give the others.
      if (rawBody && error instanceof InvalidInputError && error.field !== binaryInput && /: is required/.test(error.message)) {
        throw new InvalidInputError(
          error.field!,
          `${error.message.slice(error.field!.length + 2)}; a raw body carries only ${binaryInput}: send application/json or multipart/form-data to give the other inputs`,
        );
      }
      throw error;
    });
    const inferred = await core.infer(inputs, route);
    // With OUTPUT_UPLOAD_URL the files are stored and answered as URLs (JSON), unless the Accept
    // header names the file's own type exactly, or takes no JSON form (`image/*`): then the bytes
    // (or 406), and nothing is uploaded.
    const prediction =
      acceptsRaw(request, inferred.mediaType) || !acceptsUploadedAnswer(inferred, accept)
        ? inferred
        : await core.uploadOutputs(inferred, { predictionId: route.id, cancellation: core.clientSignal(route) });
    send(response, encodeResult(prediction, accept), {
      'x-predict-time-ms': prediction.predictMs.toFixed(1),
      'x-queue-time-ms': prediction.queueMs.toFixed(1),
    });
  };

  return [
    // SageMaker waits for 200 with an empty body; the reason for a 503 helps whoever reads the logs.
    { method: 'GET', path: '/ping', probe: true, handler: readinessProbe(core, (readiness) => (readiness.status === 'ready' ? undefined : readiness)) },
    { method: 'POST', path: '/invocations', handler: invoke },
    { method: 'GET', path: '/execution-parameters', handler: ({ response }) => sendJson(response, 200, parameters) },
  ];
}

function send(response: ServerResponse, encoded: Encoded, headers: Record<string, string> = {}): void {
  response.writeHead(200, { 'content-type': encoded.contentType, 'content-length': encoded.body.length, ...headers });
  response.end(encoded.body);
}

// A request refused before its body was read: close the connection once answered (gently, so the
// client reads the answer), since the unread body would stand in the way of the next request.
function refuseUnread(route: RouteContext, error: AiIntegrationError): AiIntegrationError {
  if (!route.request.complete) {
    route.response.setHeader('connection', 'close');
    closeGently(route.request.socket);
  }
  return error;
}
