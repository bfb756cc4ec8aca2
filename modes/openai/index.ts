import { serveHttp } from '../../src/http/lifecycle.js';
import type { ModeContext } from '../../src/types.js';
import { openAiErrorBody, openAiErrorStatuses } from './error-body.js';
import { modelKinds, servedRoutes } from './model-kinds.js';
import { openAiOpenApiDocument } from './openapi.js';
import { openAiRoutes } from './routes.js';

/**
 * MODE=openai: OpenAI's API (chat completions, completions, embeddings, models) for a model whose
 * schema says what it is (`chatInputs`, `completionInputs`, `embeddingInputs`); a protocol on the
 * shared HTTP core, which owns the server, auth (AUTH_TOKEN is the API key), the limits, the
 * queue, readiness, metrics and shutdown.
 */
export function run(context: ModeContext): Promise<number> {
  const kinds = modelKinds(context.schema);
  return serveHttp(context, () => ({
    name: 'openai',
    // Its handlers are done with a body once they settle (gather-pool.ts may reuse its buffer).
    handlersReleaseBodies: true,
    defaultPort: 8000,
    summary: `OpenAI API ${servedRoutes(kinds).join(', ')}, health /health, docs /docs`,
    routes: (core) => openAiRoutes(core, kinds),
    openApi: (core) => openAiOpenApiDocument(core.model, kinds),
    errorBody: openAiErrorBody,
    errorStatuses: openAiErrorStatuses,
  }));
}
