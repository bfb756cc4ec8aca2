import type { ServerResponse } from 'node:http';
import { AiIntegrationError } from '../../src/errors.js';
import { errorBody, sendJson } from '../../src/http/respond.js';
import { openInferenceStatus } from './errors.js';

const retryLater = new Set(['AI_ERR_QUEUE_FULL', 'AI_ERR_OVERLOADED']);

/**
 * Answers an error as the protocol does, `{"error": "..."}`, with the status of the library's
 * error table (an input the schema refuses is a 400 here) and Retry-After when the queue is full
 * or the server overloaded.
 */
export function sendOpenInferenceError(response: ServerResponse, error: unknown): void {
  const { status, body } = errorBody(error);
  const headers: Record<string, string> = error instanceof AiIntegrationError && retryLater.has(error.code) ? { 'retry-after': '1' } : {};
  sendJson(response, openInferenceStatus(status), { error: body.error.message }, headers);
}
