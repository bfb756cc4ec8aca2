import type { ErrorAnswer } from '../../src/errors.js';

/** OpenAI's error object: `{"error": {message, type, param, code}}`. */
export interface OpenAiError {
  error: { message: string; type: string; param: string | null; code: string | null };
}

// OpenAI's own `type` for each status (its documented invalid_request_error for every client
// mistake); the statuses that are ours alone (queue, timeout, drain) get a type that says what happened.
const typeByStatus: Record<number, string> = {
  401: 'invalid_request_error',
  403: 'permission_error',
  429: 'rate_limit_error',
  500: 'server_error',
  503: 'service_unavailable_error',
  504: 'timeout_error',
};

/**
 * An error in OpenAI's shape, from the answer the core computed once: `param` the request field
 * it is about, `code` OpenAI's own where there is one (`invalid_api_key`, `model_not_found`),
 * else ours (`AI_ERR_QUEUE_FULL`), which a client can match on.
 */
export function openAiErrorBody({ status, code, message, field }: ErrorAnswer): OpenAiError {
  const openAiCode = code === 'AI_ERR_UNAUTHORIZED' ? 'invalid_api_key' : code === 'AI_ERR_NOT_FOUND' && field === 'model' ? 'model_not_found' : code;
  return {
    error: { message, type: typeByStatus[status] ?? (status >= 500 ? 'server_error' : 'invalid_request_error'), param: field ?? null, code: openAiCode },
  };
}

/** Where OpenAI answers another status than the error table: an invalid field is a 400. */
export const openAiErrorStatuses: Readonly<Record<number, number>> = { 422: 400 };
