import { AiIntegrationError } from '../../src/errors.js';
import { servedRoutes, type ModelKinds } from './model-kinds.js';

/** 404 for an API this model is not of: what it would need, and what it serves. */
export function notServed(api: string, needs: string, kinds: ModelKinds): AiIntegrationError {
  return new AiIntegrationError(
    'AI_ERR_NOT_FOUND',
    `this model does not serve ${api}: that needs ${needs} in its schema; it serves ${servedRoutes(kinds).join(', ')}`,
  );
}
