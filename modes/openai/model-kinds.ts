import { AiIntegrationError } from '../../src/errors.js';
import type { InputsSchema } from '../../src/types.js';

/** What OpenAI's API can ask of a model, read from its schema (the inputs of `chatInputs`, `completionInputs`, `embeddingInputs`). */
export interface ModelKinds {
  /** A `messages` input (json): `POST /v1/chat/completions`. */
  chat: boolean;
  /** A `prompt` input (text): `POST /v1/completions`. */
  completion: boolean;
  /** An `input` input (json): `POST /v1/embeddings`. */
  embedding: boolean;
}

/**
 * The kinds of model the schema says this is. A schema of none of them cannot be served as
 * OpenAI's API: the mode stops at start-up and says which inputs it looks for.
 */
export function modelKinds(schema: InputsSchema): ModelKinds {
  const kinds = {
    chat: schema.messages?.type === 'json',
    completion: schema.prompt?.type === 'text',
    embedding: schema.input?.type === 'json',
  };
  if (!kinds.chat && !kinds.completion && !kinds.embedding) {
    const names = Object.keys(schema);
    throw new AiIntegrationError(
      'AI_ERR_INVALID_OPTION',
      `MODE=openai serves chat models (a "messages" json input), completion models (a "prompt" text input) and embedding models (an "input" json input); this model's inputs are ${names.length === 0 ? 'none' : names.join(', ')}: build its schema from chatInputs, completionInputs or embeddingInputs`,
    );
  }
  return kinds;
}

/** The routes a model of these kinds serves, for the log and the 404 of a route it does not. */
export function servedRoutes(kinds: ModelKinds): string[] {
  return [
    ...(kinds.chat ? ['/v1/chat/completions'] : []),
    ...(kinds.completion ? ['/v1/completions'] : []),
    ...(kinds.embedding ? ['/v1/embeddings'] : []),
    '/v1/models',
  ];
}
