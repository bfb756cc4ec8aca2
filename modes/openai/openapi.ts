import { coreOpenApiPaths } from '../../src/http/core-openapi.js';
import type { ModelInfo } from '../../src/http/protocol.js';
import type { ModelKinds } from './model-kinds.js';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: unknown) => ({ 'application/json': { schema } });
const errors = {
  '400': { description: 'a malformed or invalid request; `param` names the field', content: json(ref('ErrorResponse')) },
  '401': { description: 'AUTH_TOKEN is set and the API key (Authorization: Bearer) is not it', content: json(ref('ErrorResponse')) },
  '404': { description: 'another model, or an API this model is not of', content: json(ref('ErrorResponse')) },
  '429': { description: 'the queue is full; see Retry-After', content: json(ref('ErrorResponse')) },
  '500': { description: 'the model failed or threw', content: json(ref('ErrorResponse')) },
  '503': { description: 'not ready, or shutting down', content: json(ref('ErrorResponse')) },
  '504': { description: 'an inference ran past INFERENCE_TIMEOUT_MS', content: json(ref('ErrorResponse')) },
};
const streamed = { 'text/event-stream': { schema: { type: 'string', description: '`data: {chunk}` events, then `data: [DONE]`' } } };

function operation(operationId: string, summary: string, required: string[], response: string, stream: boolean) {
  return {
    post: {
      operationId,
      summary,
      requestBody: { required: true, content: json({ type: 'object', required, additionalProperties: true }) },
      responses: { '200': { description: response, content: { ...json({ type: 'object' }), ...(stream ? streamed : {}) } }, ...errors },
    },
  };
}

/** The OpenAPI 3.1 document of MODE=openai: the routes this model serves, in outline (OpenAI's own document has the full shapes). */
export function openAiOpenApiDocument(model: ModelInfo, kinds: ModelKinds): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: model.name,
      version: model.version,
      description: `${model.description}. OpenAI-compatible API (https://platform.openai.com/docs/api-reference).`,
    },
    paths: {
      ...(kinds.chat
        ? {
            '/v1/chat/completions': operation(
              'createChatCompletion',
              'A chat completion',
              ['messages'],
              'chat.completion, or chat.completion.chunk events with stream: true',
              true,
            ),
          }
        : {}),
      ...(kinds.completion
        ? { '/v1/completions': operation('createCompletion', 'A text completion', ['prompt'], 'text_completion, or its events with stream: true', true) }
        : {}),
      ...(kinds.embedding
        ? { '/v1/embeddings': operation('createEmbedding', 'Embeddings of the input', ['input'], 'a list of embedding objects', false) }
        : {}),
      '/v1/models': {
        get: {
          operationId: 'listModels',
          summary: 'The model served',
          responses: { '200': { description: 'a list of one Model', content: json({ type: 'object' }) } },
        },
      },
      '/v1/models/{model}': {
        get: {
          operationId: 'retrieveModel',
          summary: 'The model served, by name',
          parameters: [{ name: 'model', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { '200': { description: 'a Model', content: json({ type: 'object' }) }, '404': errors['404'] },
        },
      },
      '/health': {
        get: {
          operationId: 'health',
          summary: 'Readiness: 200 when the model can take work',
          responses: { '200': { description: 'ready' }, '503': { description: 'not ready' } },
        },
      },
      '/health/live': { get: { operationId: 'live', summary: 'Liveness', responses: { '200': { description: 'alive' }, '503': { description: 'stuck' } } } },
      ...coreOpenApiPaths,
    },
    components: {
      schemas: {
        ErrorResponse: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              required: ['message', 'type', 'param', 'code'],
              properties: { message: { type: 'string' }, type: { type: 'string' }, param: { type: ['string', 'null'] }, code: { type: ['string', 'null'] } },
            },
          },
        },
      },
    },
  };
}
