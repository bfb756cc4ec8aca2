import { AiIntegrationError } from '../../src/errors.js';

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
 * The protocol's status for one of the library's: an input the schema refuses is a 400 here (the
 * native API's 422), as the protocol answers every malformed request with 400.
 */
export function openInferenceStatus(status: number): number {
  return status === 422 ? 400 : status;
}
