import { AiIntegrationError } from '../../src/errors.js';
import { largestInputBytes } from '../../src/settings.js';
import type { SageMakerSettings } from './settings.js';
import type { RuntimeSettings } from '../../src/types.js';

const mebibyte = 1024 * 1024;

/** SageMaker's limit on a real-time request (InvokeEndpoint's 6 MB), also batch transform's default MaxPayloadInMB. */
export const realTimePayloadMb = 6;

/** The largest MaxPayloadInMB SageMaker takes. */
const largestPayloadMb = 100;

/** The body limit of this mode and what set it, for the log. */
export interface BodyLimit {
  bytes: number;
  source: string;
}

/**
 * The most bytes one request body may have: MAX_INPUT_BYTES (or the `maxInputBytes` option) when
 * given; otherwise, in batch transform, SAGEMAKER_MAX_PAYLOAD_IN_MB (0: no limit from SageMaker,
 * so MAX_INPUT_BYTES's default); otherwise SageMaker's 6 MB. A MB is 2^20 bytes here: if SageMaker
 * counts 10^6, this limit is the looser one, so a body SageMaker lets through is never refused.
 */
export function bodyLimit(settings: RuntimeSettings, sagemaker: SageMakerSettings): BodyLimit {
  const given = settings.maxInputBytesGiven;
  let limit: BodyLimit;
  if (given) limit = { bytes: settings.maxInputBytes, source: 'MAX_INPUT_BYTES' };
  else if (sagemaker.maxPayloadInMb === 0)
    limit = { bytes: settings.maxInputBytes, source: "SAGEMAKER_MAX_PAYLOAD_IN_MB=0 (no SageMaker limit), so MAX_INPUT_BYTES's default" };
  else if (sagemaker.maxPayloadInMb !== undefined)
    limit = { bytes: sagemaker.maxPayloadInMb * mebibyte, source: `SAGEMAKER_MAX_PAYLOAD_IN_MB=${sagemaker.maxPayloadInMb}` };
  else limit = { bytes: realTimePayloadMb * mebibyte, source: "SageMaker's 6 MB request limit; MAX_INPUT_BYTES sets another" };
  if (limit.bytes > largestInputBytes) {
    throw new AiIntegrationError(
      'AI_ERR_INVALID_OPTION',
      `${limit.source} asks for a body limit of ${limit.bytes} bytes, more than the runtime can honour (${largestInputBytes}); lower it`,
    );
  }
  if (limit.bytes > settings.http.maxBufferedBytes) {
    throw new AiIntegrationError(
      'AI_ERR_INVALID_OPTION',
      `MAX_BUFFERED_BYTES (${settings.http.maxBufferedBytes}) is smaller than the body limit of ${limit.bytes} bytes (${limit.source}), so a body at the limit could never be read; raise MAX_BUFFERED_BYTES`,
    );
  }
  return limit;
}

/** What `GET /execution-parameters` answers: SageMaker uses it for what the transform job leaves unset. */
export interface ExecutionParameters {
  MaxConcurrentTransforms: number;
  BatchStrategy: 'SINGLE_RECORD' | 'MULTI_RECORD';
  MaxPayloadInMB: number;
}

/**
 * The job's own values where SageMaker passed them; otherwise CONCURRENCY requests at once (each
 * queued request past it only waits), MULTI_RECORD (a JSON Lines body of many records is one
 * request), and the body limit in whole MB (at least 1, at most SageMaker's 100).
 */
export function executionParameters(concurrency: number, sagemaker: SageMakerSettings, limitBytes: number): ExecutionParameters {
  return {
    MaxConcurrentTransforms: sagemaker.maxConcurrentTransforms ?? concurrency,
    BatchStrategy: sagemaker.batchStrategy ?? 'MULTI_RECORD',
    MaxPayloadInMB: sagemaker.maxPayloadInMb ?? Math.min(largestPayloadMb, Math.max(1, Math.floor(limitBytes / mebibyte))),
  };
}
