import type { ModelInfo } from '../../src/http/protocol.js';
import { mustBeGiven } from '../../src/inputs/schema.js';
import { setOwn } from '../../src/inputs/safe-record.js';
import type { InputSpec, InputsSchema, OutputDescription } from '../../src/types.js';
import { fieldsJsonSchema } from '../../src/result/output-description.js';

// The components every document has; a choice input's enum component must not take their names.
const fixedComponents = [
  'Input',
  'Output',
  'PredictionRequest',
  'PredictionResponse',
  'Status',
  'WebhookEvent',
  'HTTPValidationError',
  'ValidationError',
  'Error',
];

/** Cog's title for an input: `guidance_scale` is "Guidance Scale". */
export function cogTitle(name: string): string {
  return name
    .split('_')
    .map((part) => (part.length > 0 ? part[0]!.toUpperCase() + part.slice(1) : part))
    .join(' ');
}

// OpenAPI component names are [A-Za-z0-9._-]+; an input name may be anything.
function componentNameFor(name: string, taken: Set<string>): string {
  const base = name.replace(/[^A-Za-z0-9._-]/g, '_') || '_';
  let candidate = base;
  for (let index = 2; taken.has(candidate); index++) candidate = `${base}_${index}`;
  taken.add(candidate);
  return candidate;
}

function typeSchema(spec: InputSpec): Record<string, unknown> {
  switch (spec.type) {
    case 'image':
      return { type: 'string', format: 'uri', 'x-cog-accept': 'image/*' };
    case 'file':
      return { type: 'string', format: 'uri' };
    case 'text':
      return { type: 'string' };
    case 'number':
    case 'integer':
      return { type: spec.type };
    case 'boolean':
      return { type: 'boolean' };
    case 'json':
      // Any JSON value: Cog's `Any` says "object", which would refuse the arrays, strings and
      // numbers a json input takes.
      return {};
    case 'choice':
      return { type: 'string' };
  }
}

/**
 * The `Input` component and the enum components of its choices, as Cog builds them: properties
 * in schema order with `x-order`, a `title` from the name, `default`, `description`,
 * `minimum`/`maximum`, `format: uri` for files; a choice is `allOf: [{$ref}]` to an enum component
 * named after the input, as Cog emits it; an optional input without a default is `nullable`.
 */
function inputComponents(schema: InputsSchema): { input: Record<string, unknown>; enums: [string, Record<string, unknown>][] } {
  const taken = new Set(fixedComponents);
  const properties: Record<string, unknown> = {};
  const enums: [string, Record<string, unknown>][] = [];
  const required: string[] = [];
  Object.entries(schema).forEach(([name, spec], order) => {
    const property: Record<string, unknown> = {};
    if (spec.type === 'choice') {
      const component = componentNameFor(name, taken);
      enums.push([component, { title: component, description: 'An enumeration.', enum: [...spec.choices], type: 'string' }]);
      property.allOf = [{ $ref: `#/components/schemas/${component}` }];
    } else {
      Object.assign(property, { title: cogTitle(name), ...typeSchema(spec) });
    }
    property['x-order'] = order;
    if ('default' in spec && spec.default !== undefined) property.default = spec.default;
    else if (spec.required === false) property.nullable = true;
    if (spec.description !== undefined) property.description = spec.description;
    if ((spec.type === 'number' || spec.type === 'integer') && spec.min !== undefined) property.minimum = spec.min;
    if ((spec.type === 'number' || spec.type === 'integer') && spec.max !== undefined) property.maximum = spec.max;
    if (mustBeGiven(spec)) required.push(name);
    setOwn(properties, name, property);
  });
  return { input: { title: 'Input', type: 'object', properties, ...(required.length > 0 ? { required } : {}) }, enums };
}

const jsonContent = (schema: unknown) => ({ 'application/json': { schema } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const anyJson = { description: 'Successful Response', content: jsonContent({}) };
const validationError = { description: 'Validation Error', content: jsonContent(ref('HTTPValidationError')) };
const errorResponse = (description: string) => ({ description, content: jsonContent(ref('Error')) });

const predictionErrors = {
  '400': errorResponse('a body that is not JSON'),
  '413': errorResponse('a body over MAX_INPUT_BYTES'),
  '415': errorResponse('a body that is not application/json'),
  '422': validationError,
  '429': errorResponse('the queue is full (Cog would answer 409 while busy; this server queues up to MAX_QUEUE); see Retry-After'),
  '503': errorResponse('the model is not ready, or the server is shutting down'),
};

const predictionIdParameter = {
  required: true,
  schema: { title: 'Prediction ID', type: 'string', minLength: 1, maxLength: 256 },
  name: 'prediction_id',
  in: 'path',
};
const preferParameter = {
  required: false,
  schema: { title: 'Prefer', type: 'string' },
  name: 'prefer',
  in: 'header',
  description: "respond-async: answer 202 at once with the prediction's state; follow it at GET /predictions/{prediction_id} or with a webhook",
};

/**
 * The OpenAPI document of MODE=cog in the shape of Cog's (`openapi` 3.0.2, the components
 * `Input`, `Output`, `PredictionRequest`, `PredictionResponse`, `Status`, `HTTPValidationError`,
 * `ValidationError`), generated from the inputs schema, so that tools that read a Cog model's
 * schema (Replicate, cog's own clients) read this one.
 */
export function cogOpenApiDocument(schema: InputsSchema, model: ModelInfo, output?: OutputDescription): Record<string, unknown> {
  const { input, enums } = inputComponents(schema);
  const predictionResponse = { description: 'Successful Response', content: jsonContent(ref('PredictionResponse')) };
  // With Accept: text/event-stream, server-sent events as Replicate's streams send them.
  const streamingPredictionResponse = {
    description:
      'Successful Response (with Accept: text/event-stream, server-sent events: `output` per chunk, `error` on a failure, then `done` with the prediction)',
    content: { ...jsonContent(ref('PredictionResponse')), 'text/event-stream': { schema: { type: 'string' } } },
  };
  return {
    openapi: '3.0.2',
    info: { title: model.name, version: model.version, description: model.description },
    paths: {
      '/': { get: { summary: 'Root', operationId: 'root__get', responses: { '200': anyJson } } },
      '/health-check': { get: { summary: 'Healthcheck', operationId: 'healthcheck_health_check_get', responses: { '200': anyJson } } },
      '/predictions': {
        post: {
          summary: 'Predict',
          description: 'Run a single prediction on the model',
          operationId: 'predict_predictions_post',
          parameters: [preferParameter],
          requestBody: { content: jsonContent(ref('PredictionRequest')) },
          responses: {
            '200': streamingPredictionResponse,
            '202': predictionResponse,
            ...predictionErrors,
            '409': errorResponse('the id names a prediction the server holds, running or finished: the model runs once per id (PUT or GET answers it)'),
          },
        },
      },
      '/predictions/{prediction_id}': {
        put: {
          summary: 'Predict Idempotent',
          description: 'Run a single prediction on the model (idempotent creation): a known ID answers that prediction, which never runs twice',
          operationId: 'predict_idempotent_predictions__prediction_id__put',
          parameters: [predictionIdParameter, preferParameter],
          requestBody: { required: true, content: jsonContent(ref('PredictionRequest')) },
          responses: { '200': predictionResponse, '202': predictionResponse, ...predictionErrors },
        },
        get: {
          summary: 'Get Prediction',
          description: 'The state of a prediction, until PREDICTION_TTL_SECONDS after it ended (404 afterwards, or for an unknown ID)',
          operationId: 'get_prediction_predictions__prediction_id__get',
          parameters: [predictionIdParameter],
          responses: { '200': predictionResponse, '404': anyJson, '422': validationError },
        },
      },
      '/predictions/{prediction_id}/cancel': {
        post: {
          summary: 'Cancel',
          description: 'Cancel a running prediction (404 for an unknown or finished one; 202 when a model run directly did not stop within CANCEL_GRACE_MS)',
          operationId: 'cancel_predictions__prediction_id__cancel_post',
          parameters: [predictionIdParameter],
          responses: { '200': anyJson, '202': anyJson, '404': anyJson, '422': validationError },
        },
      },
      '/shutdown': { post: { summary: 'Start Shutdown', operationId: 'start_shutdown_shutdown_post', responses: { '200': anyJson } } },
    },
    components: {
      schemas: {
        Input: input,
        Output:
          output?.type === 'fields'
            ? { title: 'Output', ...fieldsJsonSchema(output) }
            : {
                title: 'Output',
                description: "JSON results as JSON, text results as a string, binary results as data: URLs (the model's content type decides)",
              },
        ...Object.fromEntries(enums),
        PredictionRequest: {
          title: 'PredictionRequest',
          type: 'object',
          properties: {
            input: ref('Input'),
            id: { title: 'Id', type: 'string' },
            created_at: { title: 'Created At', type: 'string', format: 'date-time' },
            context: { title: 'Context', type: 'object', additionalProperties: { type: 'string' }, description: 'checked, not passed to the model' },
            webhook: {
              title: 'Webhook',
              type: 'string',
              format: 'uri',
              maxLength: 65536,
              minLength: 1,
              description: "an http(s) URL that gets the prediction's state on the events of webhook_events_filter",
            },
            webhook_events_filter: { type: 'array', items: ref('WebhookEvent'), default: ['start', 'output', 'logs', 'completed'] },
            output_file_prefix: {
              title: 'Output File Prefix',
              type: 'string',
              format: 'uri',
              description:
                "an http(s) URL: the prediction's output files are PUT to <prefix>/<prediction id>/<field>.<ext>, and output gives their URLs (instead of OUTPUT_UPLOAD_URL)",
            },
          },
        },
        PredictionResponse: {
          title: 'PredictionResponse',
          type: 'object',
          properties: {
            input: ref('Input'),
            output: ref('Output'),
            id: { title: 'Id', type: 'string' },
            created_at: { title: 'Created At', type: 'string', format: 'date-time' },
            started_at: { title: 'Started At', type: 'string', format: 'date-time', nullable: true },
            completed_at: { title: 'Completed At', type: 'string', format: 'date-time', nullable: true },
            logs: { title: 'Logs', type: 'string', default: '' },
            error: { title: 'Error', type: 'string', nullable: true },
            status: ref('Status'),
            metrics: { title: 'Metrics', type: 'object', properties: { predict_time: { type: 'number', description: 'seconds the model ran' } } },
          },
        },
        Status: { title: 'Status', description: 'An enumeration.', enum: ['starting', 'processing', 'succeeded', 'canceled', 'failed'], type: 'string' },
        WebhookEvent: { title: 'WebhookEvent', description: 'An enumeration.', enum: ['start', 'output', 'logs', 'completed'], type: 'string' },
        HTTPValidationError: {
          title: 'HTTPValidationError',
          type: 'object',
          properties: { detail: { title: 'Detail', type: 'array', items: ref('ValidationError') } },
        },
        ValidationError: {
          title: 'ValidationError',
          required: ['loc', 'msg', 'type'],
          type: 'object',
          properties: {
            loc: { title: 'Location', type: 'array', items: { anyOf: [{ type: 'string' }, { type: 'integer' }] } },
            msg: { title: 'Message', type: 'string' },
            type: { title: 'Error Type', type: 'string' },
          },
        },
        Error: { title: 'Error', type: 'object', required: ['detail'], properties: { detail: { title: 'Detail', type: 'string' } } },
      },
    },
  };
}
