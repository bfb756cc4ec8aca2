import { AiIntegrationError } from '../../src/errors.js';
import type { HttpCore, RouteContext } from '../../src/http/protocol.js';
import { sendJson } from '../../src/http/respond.js';

/** `GET /v1/models` and `GET /v1/models/{model}`: the one model served, OpenAI's Model object. */
export function modelRoutes(core: HttpCore) {
  // When it was created: the service's start, in seconds, the same in every answer.
  const entry = { id: core.model.name, object: 'model', created: Math.floor(Date.now() / 1000), owned_by: 'ai-integration' };
  return {
    list: ({ response }: RouteContext) => sendJson(response, 200, { object: 'list', data: [entry] }),
    one: ({ response, params }: RouteContext) => {
      if (params.model !== entry.id) {
        throw new AiIntegrationError('AI_ERR_NOT_FOUND', `The model \`${params.model}\` does not exist: this server serves ${JSON.stringify(entry.id)}`, {
          field: 'model',
        });
      }
      sendJson(response, 200, entry);
    },
  };
}
