import type { HttpCore, RouteDefinition } from '../../src/http/protocol.js';
import { livenessProbe, readinessProbe } from '../../src/http/probes.js';
import { chatCompletions } from './chat-completions.js';
import { completions } from './completions.js';
import { embeddings } from './embeddings.js';
import type { ModelKinds } from './model-kinds.js';
import { modelRoutes } from './models.js';

/**
 * OpenAI's routes: chat completions, completions, embeddings and the models list, each answering
 * 404 for a model not of its kind; `/health` (readiness) and `/health/live` for the container.
 * The core adds /openapi.json, /docs and /metrics.
 */
export function openAiRoutes(core: HttpCore, kinds: ModelKinds): RouteDefinition[] {
  const models = modelRoutes(core);
  return [
    { method: 'POST', path: '/v1/chat/completions', handler: chatCompletions(core, kinds) },
    { method: 'POST', path: '/v1/completions', handler: completions(core, kinds) },
    { method: 'POST', path: '/v1/embeddings', handler: embeddings(core, kinds) },
    { method: 'GET', path: '/v1/models', handler: models.list },
    { method: 'GET', path: '/v1/models/{model}', handler: models.one },
    { method: 'GET', path: '/health', probe: true, handler: readinessProbe(core) },
    { method: 'GET', path: '/health/live', probe: true, handler: livenessProbe(core, (live) => ({ status: live ? 'alive' : 'stuck' })) },
  ];
}
