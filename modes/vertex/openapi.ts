import { inputsJsonSchema, type ValueEncoding } from '../../src/http/inputs-json-schema.js';
import { coreOpenApiPaths } from '../../src/http/core-openapi.js';
import type { ModelInfo } from '../../src/http/protocol.js';
import type { VertexSettings } from './settings.js';
import type { InputsSchema } from '../../src/types.js';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: unknown) => ({ 'application/json': { schema } });

const errorStatuses: Record<string, string> = {
  '400': 'a malformed body: not JSON, no "instances" array, "parameters" not an object',
  '413': 'the body is over MAX_INPUT_BYTES, or has more instances than CONCURRENCY + MAX_QUEUE',
  '415': 'the body is not application/json',
  '422': 'an instance the schema refuses; the message names the instance (or parameters) and the field',
  '429': 'the queue is full; see Retry-After',
  '500': 'the model reported a failure or threw; the message names the instance',
  '503': 'not ready or shutting down; or overloaded, see Retry-After',
  '504': 'an inference ran past INFERENCE_TIMEOUT_MS',
};

// Vertex writes binary values as {"b64": ...}; base64 and data: URLs are taken too.
const instanceEncoding: ValueEncoding = {
  binary: (common) => ({ ...common, oneOf: [ref('B64'), { type: 'string', description: 'base64 or a data: URL', contentEncoding: 'base64' }] }),
  json: (common) => common,
};

/** The OpenAPI 3.1 document of MODE=vertex: its two routes at their configured paths, the instance built from the schema. */
export function vertexOpenApiDocument(
  schema: InputsSchema,
  model: ModelInfo,
  { healthRoute, predictRoute }: Pick<VertexSettings, 'healthRoute' | 'predictRoute'>,
): Record<string, unknown> {
  const instance = {
    description: 'one inputs object; inputs the schema does not list reach the model as options (unless STRICT_INPUTS)',
    ...inputsJsonSchema(schema, instanceEncoding),
  };
  const errors = Object.fromEntries(Object.entries(errorStatuses).map(([status, description]) => [status, { description, content: json(ref('Error')) }]));
  return {
    openapi: '3.1.0',
    info: {
      title: model.name,
      version: model.version,
      description: `${model.description}. Vertex AI custom container: POST ${predictRoute}, health ${healthRoute}.`,
    },
    paths: {
      [predictRoute]: {
        post: {
          operationId: 'predict',
          summary: 'Run the model on each instance',
          description:
            'Each instance is an inputs object; "parameters" are merged into every instance (an instance\'s own value wins). Binary values are {"b64": "..."}. ' +
            'The predictions come back in instance order; when an instance fails, the whole request fails with its index in the message.',
          requestBody: {
            required: true,
            content: json({
              type: 'object',
              required: ['instances'],
              properties: {
                instances: { type: 'array', minItems: 1, items: instance },
                parameters: { type: 'object', description: 'model options, merged into every instance' },
              },
            }),
          },
          responses: {
            '200': {
              description: 'one prediction per instance, in order',
              content: json({
                type: 'object',
                required: ['predictions'],
                properties: {
                  predictions: { type: 'array', items: { description: 'a JSON result parsed, text as a string, anything else as {"b64": "..."}' } },
                },
              }),
            },
            ...errors,
          },
        },
      },
      [healthRoute]: {
        get: {
          operationId: 'health',
          summary: "Vertex AI's health check: 200 when the model can take work",
          responses: {
            '200': { description: 'ready', content: json(ref('Health')) },
            '503': { description: 'starting, restarting or shutting down, with the reason', content: json(ref('Health')) },
          },
        },
      },
      ...coreOpenApiPaths,
    },
    components: {
      schemas: {
        B64: { type: 'object', required: ['b64'], properties: { b64: { type: 'string', contentEncoding: 'base64' } }, additionalProperties: false },
        Health: {
          type: 'object',
          required: ['status'],
          properties: { status: { type: 'string', enum: ['ready', 'restarting', 'shutting_down', 'failed'] }, reason: { type: 'string' } },
        },
        Error: { type: 'object', required: ['error'], properties: { error: { type: 'string' } } },
      },
    },
  };
}
