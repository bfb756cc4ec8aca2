import { AiIntegrationError, type ErrorAnswer } from '../../src/errors.js';

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

/**
 * An error as `{"error": "message", "code": "AI_ERR_...", "field"?}`. SageMaker hands the caller
 * the status and this body unchanged as a ModelError
 * (`Received client error (422) from primary with message "{"error":"steps: ..."}"`), so the
 * message comes first and reads on its own; the code and field are there for programs.
 */
export function sageMakerErrorBody({ message, code, field }: ErrorAnswer): { error: string; code: string; field?: string } {
  return field === undefined ? { error: message, code } : { error: message, code, field };
}

/** A JSON Lines record's error, saying which line (counted from 1), with its code (and so its status) kept. */
export function lineError(error: unknown, line: number): unknown {
  if (!(error instanceof AiIntegrationError)) return error;
  return new AiIntegrationError(error.code, `line ${line}: ${error.message}`, { ...(error.field === undefined ? {} : { field: error.field }), cause: error });
}
