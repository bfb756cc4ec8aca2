import type { ServerResponse } from 'node:http';
import { AiIntegrationError } from '../../src/errors.js';
import { errorBody, sendJson } from '../../src/http/respond.js';

/** An Accept header that no form of the result satisfies: 406, saying what the result can be. */
export class NotAcceptableError extends AiIntegrationError {
  override name = 'NotAcceptableError';
  constructor(message: string) {
    super('AI_ERR_USAGE', message);
  }

  override get httpStatus(): number {
    return 406;
  }
}

const retryLater = new Set(['AI_ERR_QUEUE_FULL', 'AI_ERR_OVERLOADED']);

/**
 * Answers an error as `{"error": "message", "code": "AI_ERR_...", "field"?}` with the status of the
 * library's error table (406 for an Accept the result cannot meet), and Retry-After where a retry
 * helps. SageMaker hands the caller the status and this body unchanged as a ModelError
 * (`Received client error (422) from primary with message "{"error":"steps: ..."}"`), so the
 * message comes first and reads on its own; the code and field are there for programs.
 */
export function sendSageMakerError(response: ServerResponse, error: unknown): void {
  const { status, body } = errorBody(error);
  const headers: Record<string, string> = error instanceof AiIntegrationError && retryLater.has(error.code) ? { 'retry-after': '1' } : {};
  const { message, code, field } = body.error;
  sendJson(response, error instanceof NotAcceptableError ? error.httpStatus : status, field === undefined ? { error: message, code } : { error: message, code, field }, headers);
}

/** A JSON Lines record's error, saying which line (counted from 1), with its code (and so its status) kept. */
export function lineError(error: unknown, line: number): unknown {
  if (!(error instanceof AiIntegrationError)) return error;
  return new AiIntegrationError(error.code, `line ${line}: ${error.message}`, { ...(error.field === undefined ? {} : { field: error.field }), cause: error });
}
