import { formEncoding, formInputsExample, inputsExample, inputsJsonSchema, jsonEncoding } from '../../src/http/inputs-json-schema.js';
import { coreOpenApiPaths } from '../../src/http/core-openapi.js';
import type { ModelInfo } from '../../src/http/protocol.js';
import { fieldsJsonSchema, outputMediaType } from '../../src/result/output-description.js';
import type { InputsSchema, OutputDescription } from '../../src/types.js';

// Multipart and JSON bodies name their inputs the same way; only how values are written differs.
const inputsSchema = (schema: InputsSchema, form: boolean) => inputsJsonSchema(schema, form ? formEncoding : jsonEncoding);

const errorResponses = {
  '400': 'malformed body',
  '413': 'body over the limit',
  '415': 'unsupported content type',
  '422': 'an invalid or missing input; `field` names it',
  '429': 'the queue is full; see Retry-After',
  '500': 'the model reported a failure or threw',
  '503': 'not ready, or shutting down',
  '504': 'the inference timed out',
};

function errors(): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(errorResponses).map(([status, description]) => [
      status,
      { description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
    ]),
  );
}

const json = (schema: unknown) => ({ 'application/json': { schema } });

const genericOutput = 'parsed JSON, text, or a data: URL for binary data';

/** The `output` of a prediction, as the shim described it (`startLoop`'s `output` option), else any result. */
function outputSchema(output: OutputDescription | undefined): Record<string, unknown> {
  if (!output) return { description: genericOutput };
  const mediaType = outputMediaType(output);
  const described = (what: string) => (output.description ? `${output.description} (${what})` : what);
  switch (output.type) {
    case 'json':
      return output.schema ? { $ref: '#/components/schemas/Output' } : { description: described('the JSON value') };
    case 'text':
      return { type: 'string', description: described(`${mediaType} text`) };
    case 'image':
    case 'file':
      return { type: 'string', format: 'uri', description: described(`the ${mediaType} bytes as a data: URL`) };
    case 'fields':
      return { $ref: '#/components/schemas/Output' };
  }
}

/**
 * The 200 answer of /predict: the JSON envelope, and for a described binary or text output its
 * own media type too (sent when Accept names it).
 */
// Server-sent events: OpenAPI 3.1 has no schema for a stream, so the format is described in words.
const eventStreamContent = {
  schema: {
    type: 'string',
    description: 'server-sent events: `output` (one chunk, JSON), `error` ({code, message}), then `done` (the prediction state, JSON)',
  },
};

function predictionContent(output: OutputDescription | undefined): Record<string, unknown> {
  const envelope = json({ $ref: '#/components/schemas/Prediction' });
  if (!output || output.type === 'json' || output.type === 'fields') return envelope;
  return { ...envelope, [outputMediaType(output)]: output.type === 'text' ? { schema: { type: 'string' } } : {} };
}

// The shim's JSON Schema becomes components.schemas.Output, so its document-local references
// (#/$defs/..., #/definitions/...) are moved under it; a schema with its own $id resolves them itself.
function outputComponent(schema: Readonly<Record<string, unknown>>, description: string | undefined): Record<string, unknown> {
  const described = description !== undefined && schema.description === undefined ? { description } : {};
  if (typeof schema.$id === 'string') return { ...described, ...schema };
  const rebase = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(rebase);
    if (value === null || typeof value !== 'object') return value;
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [
        key,
        key === '$ref' && typeof item === 'string' && item.startsWith('#') ? `#/components/schemas/Output${item.slice(1)}` : rebase(item),
      ]),
    );
  };
  return { ...described, ...(rebase(schema) as Record<string, unknown>) };
}

/** The OpenAPI 3.1 document of the HTTP mode, generated from the inputs schema and, when given, the output description. */
export function openApiDocument(schema: InputsSchema, model: ModelInfo, output?: OutputDescription): Record<string, unknown> {
  const raw =
    output && output.type !== 'json' && output.type !== 'fields'
      ? `; with Accept: ${outputMediaType(output)}, the result's bytes alone (timings in X-Predict-Time-Ms and X-Queue-Time-Ms)`
      : '';
  return {
    openapi: '3.1.0',
    info: { title: model.name, version: model.version, description: model.description },
    paths: {
      '/predict': {
        post: {
          operationId: 'predict',
          summary: 'Run the model',
          description:
            'Inputs as multipart/form-data fields named by the schema, or as JSON {"inputs": {...}} with binary inputs as base64 or data: URLs. ' +
            "Send Accept with the result's own media type (for example image/jpeg) to get the raw bytes. " +
            'Send Accept: text/event-stream for server-sent events: an `output` event per chunk of a streaming model (data: the chunk as JSON), `error` on a failure, then `done` with the whole prediction state.',
          parameters: [
            { name: 'X-Request-Id', in: 'header', required: false, schema: { type: 'string' }, description: 'echoed back; made up when absent' },
            {
              name: 'Prefer',
              in: 'header',
              required: false,
              schema: { type: 'string' },
              description: "respond-async: 202 at once with the prediction's state and a Location (GET /predictions/{id})",
            },
            {
              name: 'Webhook',
              in: 'header',
              required: false,
              schema: { type: 'string', format: 'uri' },
              description: "an http(s) URL that gets the prediction's state on its events (POST, JSON)",
            },
            {
              name: 'Webhook-Events-Filter',
              in: 'header',
              required: false,
              schema: { type: 'string' },
              description: 'comma-separated: start, output, logs, completed (default all)',
            },
          ],
          requestBody: {
            required: true,
            content: {
              // First, so /docs's "Try it out" opens on the form: a file picker for each binary input.
              'multipart/form-data': { schema: inputsSchema(schema, true), example: formInputsExample(schema) },
              'application/json': {
                schema: { type: 'object', properties: { inputs: inputsSchema(schema, false) }, required: ['inputs'] },
                example: { inputs: inputsExample(schema) },
              },
            },
          },
          responses: {
            '200': { description: `the prediction${raw}`, content: { ...predictionContent(output), 'text/event-stream': eventStreamContent } },
            ...errors(),
          },
        },
      },
      '/predictions/{id}': {
        get: {
          operationId: 'getPrediction',
          summary: "A prediction's state (starting, processing, succeeded, failed, canceled), until PREDICTION_TTL_SECONDS after it ended",
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { '200': { description: 'the state', content: json({ type: 'object' }) }, ...errors() },
        },
      },
      '/predictions/{id}/cancel': {
        post: {
          operationId: 'cancelPrediction',
          summary: 'Cancel a prediction: 200 with its state once stopped; 202 when a model run directly did not stop within CANCEL_GRACE_MS',
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
          responses: {
            '200': { description: 'the state', content: json({ type: 'object' }) },
            '202': { description: 'not stopped', content: json({ type: 'object' }) },
            ...errors(),
          },
        },
      },
      '/': {
        get: {
          operationId: 'page',
          summary: 'The web page: a form built from the schema',
          responses: { '200': { description: 'HTML', content: { 'text/html': {} } } },
        },
        post: {
          operationId: 'legacyPredict',
          summary: 'The ai_integration (Python) multipart endpoint and its response shape',
          requestBody: { required: true, content: { 'multipart/form-data': { schema: inputsSchema(schema, true) } } },
          responses: { '200': { description: 'the ai_integration response', content: json({ $ref: '#/components/schemas/LegacyPrediction' }) }, ...errors() },
        },
      },
      '/health': {
        get: {
          operationId: 'readiness',
          summary: 'Readiness: 200 when the model can take work',
          responses: {
            '200': { description: 'ready', content: json({ $ref: '#/components/schemas/Health' }) },
            '503': { description: 'not ready, with the reason', content: json({ $ref: '#/components/schemas/Health' }) },
          },
        },
      },
      '/health/live': {
        get: {
          operationId: 'liveness',
          summary: 'Liveness',
          responses: { '200': { description: 'alive', content: json({ $ref: '#/components/schemas/Health' }) } },
        },
      },
      '/info': {
        get: {
          operationId: 'info',
          summary: 'The model, its schema, the limits and the runtime version',
          responses: { '200': { description: 'info', content: json({ type: 'object' }) } },
        },
      },
      ...coreOpenApiPaths,
    },
    components: {
      schemas: {
        Prediction: {
          type: 'object',
          required: ['id', 'status', 'output', 'content_type', 'metrics'],
          properties: {
            id: { type: 'string' },
            status: { type: 'string', enum: ['succeeded', 'failed'] },
            output: outputSchema(output),
            content_type: output ? { type: 'string', examples: [outputMediaType(output)] } : { type: 'string' },
            error: { $ref: '#/components/schemas/ErrorDetail' },
            metrics: {
              type: 'object',
              properties: { predict_time_ms: { type: 'number' }, queue_time_ms: { type: 'number' } },
            },
          },
        },
        LegacyPrediction: {
          type: 'object',
          properties: {
            id: { type: 'string' },
            output_url: { type: ['string', 'null'], description: 'a data: URL for image results' },
            scale_applied: { type: 'number' },
            inputs: { type: 'object', additionalProperties: { type: 'object', properties: { is_img: { type: 'boolean' }, url: { type: 'string' } } } },
            output: { description: 'parsed JSON or text' },
            visualizer_data: {},
          },
        },
        Health: { type: 'object', properties: { status: { type: 'string' }, reason: { type: 'string' } } },
        ErrorDetail: {
          type: 'object',
          required: ['code', 'message'],
          properties: { code: { type: 'string' }, message: { type: 'string' }, field: { type: 'string' } },
        },
        Error: { type: 'object', required: ['error'], properties: { error: { $ref: '#/components/schemas/ErrorDetail' } } },
        ...(output?.type === 'json' && output.schema ? { Output: outputComponent(output.schema, output.description) } : {}),
        ...(output?.type === 'fields' ? { Output: fieldsJsonSchema(output) } : {}),
      },
    },
  };
}
