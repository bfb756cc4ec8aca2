import { formEncoding, inputsJsonSchema, jsonEncoding } from '../../src/http/inputs-json-schema.js';
import { coreOpenApiPaths } from '../../src/http/core-openapi.js';
import type { ModelInfo } from '../../src/http/protocol.js';
import type { InputsSchema } from '../../src/types.js';
import type { ExecutionParameters } from './limits.js';

// /invocations takes the native API's inputs object and form fields.
const inputsObject = (schema: InputsSchema, form: boolean) => inputsJsonSchema(schema, form ? formEncoding : jsonEncoding);

const errorStatuses: Record<string, string> = {
  '400': 'a malformed body, or a bad JSON Lines line (named by its number)',
  '406': 'Accept asks for a form the result cannot take',
  '413': 'the body is over the limit (6 MB unless MAX_INPUT_BYTES or SAGEMAKER_MAX_PAYLOAD_IN_MB)',
  '415': 'a content type this model does not take; the message lists what it does',
  '422': 'an invalid or missing input; `field` names it',
  '429': 'the queue is full; see Retry-After',
  '500': "the model reported a failure or threw; the message is the model's",
  '503': 'not ready (starting, restarting or shutting down), or overloaded',
  '504': 'the inference ran past INFERENCE_TIMEOUT_MS',
};

const json = (schema: unknown) => ({ 'application/json': { schema } });

/** The OpenAPI 3.1 document of the sagemaker mode: SageMaker's routes, with the model's inputs. */
export function openApiDocument(
  schema: InputsSchema,
  model: ModelInfo,
  parameters: ExecutionParameters,
  binaryInput: string | undefined,
): Record<string, unknown> {
  const errors = Object.fromEntries(
    Object.entries(errorStatuses).map(([status, description]) => [status, { description, content: json({ $ref: '#/components/schemas/Error' }) }]),
  );
  const raw =
    binaryInput === undefined
      ? {}
      : {
          'image/*': { schema: { type: 'string', contentMediaType: 'image/*', description: `the bytes of ${binaryInput}` } },
          'application/octet-stream': { schema: { type: 'string', description: `the bytes of ${binaryInput}` } },
        };
  return {
    openapi: '3.1.0',
    info: { title: model.name, version: model.version, description: `${model.description}, as an Amazon SageMaker inference container` },
    paths: {
      '/ping': {
        get: {
          operationId: 'ping',
          summary: 'Readiness: 200 with an empty body when the model can take work',
          responses: {
            '200': { description: 'ready (empty body)' },
            '503': { description: 'not ready, with the reason', content: json({ $ref: '#/components/schemas/Readiness' }) },
          },
        },
      },
      '/invocations': {
        post: {
          operationId: 'invocations',
          summary: 'Run the model',
          description:
            'The body is an object of inputs (application/json; binary inputs as base64 or data: URLs), multipart/form-data fields named by the inputs, ' +
            'application/jsonlines (one inputs object per line; one result line per line comes back, in order)' +
            (binaryInput === undefined ? '.' : `, or the raw bytes of ${binaryInput} (image/* or application/octet-stream).`) +
            " The answer is the result's data with the result's content type; Accept: application/json gives it as JSON (binary data as a data: URL string).",
          requestBody: {
            required: true,
            content: {
              'application/json': { schema: inputsObject(schema, false) },
              'multipart/form-data': { schema: inputsObject(schema, true) },
              'application/jsonlines': { schema: { type: 'string', description: 'one JSON object of inputs per line' } },
              ...raw,
            },
          },
          responses: { '200': { description: "the result's data, with the result's content type", content: { '*/*': {} } }, ...errors },
        },
      },
      '/execution-parameters': {
        get: {
          operationId: 'executionParameters',
          summary: "Batch transform's settings for what the transform job leaves unset",
          responses: { '200': { description: 'the parameters', content: json({ $ref: '#/components/schemas/ExecutionParameters' }) } },
        },
      },
      ...coreOpenApiPaths,
    },
    components: {
      schemas: {
        Readiness: { type: 'object', required: ['status'], properties: { status: { type: 'string' }, reason: { type: 'string' } } },
        ExecutionParameters: {
          type: 'object',
          required: ['MaxConcurrentTransforms', 'BatchStrategy', 'MaxPayloadInMB'],
          properties: {
            MaxConcurrentTransforms: { type: 'integer', minimum: 1 },
            BatchStrategy: { type: 'string', enum: ['SINGLE_RECORD', 'MULTI_RECORD'] },
            MaxPayloadInMB: { type: 'integer', minimum: 0 },
          },
          example: parameters,
        },
        Error: {
          type: 'object',
          required: ['error', 'code'],
          properties: {
            error: { type: 'string', description: 'what was wrong, readable on its own' },
            code: { type: 'string', description: 'the stable error code, e.g. AI_ERR_INVALID_INPUT' },
            field: { type: 'string', description: 'the input the error is about' },
          },
        },
      },
    },
  };
}
