import { AiIntegrationError, type ErrorAnswer } from '../../src/errors.js';

/**
 * A request the Open Inference Protocol refuses: 400 for a malformed request (naming the tensor
 * in `field` when there is one), 404 for an unknown model or version. Carried by the library's
 * error codes, so that the core logs, counts and answers it like its own errors.
 */
export class OpenInferenceError extends AiIntegrationError {
  override name = 'OpenInferenceError';
  constructor(status: 400 | 404, message: string, tensor?: string) {
    super(status === 404 ? 'AI_ERR_NOT_FOUND' : 'AI_ERR_MALFORMED_INPUT', message, tensor === undefined ? {} : { field: tensor });
  }
}

/** A 400 about one tensor: the message starts with its name, as every error of this mode does. */
export function tensorError(kind: 'input' | 'output', tensor: string, message: string): OpenInferenceError {
  return new OpenInferenceError(400, `${kind} tensor '${tensor}': ${message}`, tensor);
}

/**
 * The protocol's statuses where they are not the error table's: an input the schema refuses is a
 * 400 here (the native API's 422), as the protocol answers every malformed request with 400.
 */
export const openInferenceStatuses: Readonly<Record<number, number>> = { 422: 400 };

/** An error as the protocol answers it: `{"error": "..."}`; status and Retry-After are the core's. */
export function openInferenceErrorBody({ message }: ErrorAnswer): { error: string } {
  return { error: message };
}
