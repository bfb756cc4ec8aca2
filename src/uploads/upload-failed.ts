import { AiIntegrationError } from '../errors.js';
import type { UploadedFile } from './uploaded-file.js';

/** An upload that failed for good (AI_ERR_UPLOAD_FAILED, 502), with the files of the same prediction that were uploaded before it. */
export class UploadFailedError extends AiIntegrationError {
  override name = 'UploadFailedError';

  constructor(
    message: string,
    readonly uploaded: readonly UploadedFile[],
  ) {
    super('AI_ERR_UPLOAD_FAILED', message);
  }
}
