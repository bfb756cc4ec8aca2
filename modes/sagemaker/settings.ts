import { AiIntegrationError } from '../../src/errors.js';

/** The environment variables MODE=sagemaker reads, with what each sets; docs/reference/environment.md lists them. */
export const sagemakerVariables = {
  SAGEMAKER_BIND_TO_PORT:
    'MODE=sagemaker: the port SageMaker tells the container to listen on (inference pipelines); it wins over PORT, and SageMaker sets it only for an image labelled com.amazonaws.sagemaker.capabilities.accept-bind-to-port=true (default 8080)',
  SAGEMAKER_BATCH: 'MODE=sagemaker: true when SageMaker runs the container for batch transform (set by SageMaker; the log says which limits apply)',
  SAGEMAKER_MAX_PAYLOAD_IN_MB:
    "MODE=sagemaker: batch transform's MaxPayloadInMB (set by SageMaker): the body limit when MAX_INPUT_BYTES is not set (0: MAX_INPUT_BYTES's default), and /execution-parameters' MaxPayloadInMB (default 6)",
  SAGEMAKER_BATCH_STRATEGY:
    "MODE=sagemaker: batch transform's BatchStrategy, SINGLE_RECORD or MULTI_RECORD (set by SageMaker), as /execution-parameters answers it (default MULTI_RECORD)",
  SAGEMAKER_MAX_CONCURRENT_TRANSFORMS:
    "MODE=sagemaker: batch transform's MaxConcurrentTransforms (set by SageMaker), as /execution-parameters answers it (default CONCURRENCY); a JSON Lines request runs CONCURRENCY / this many of its lines at once",
} as const;

/** What SageMaker told the container through its variables; undefined where it said nothing. */
export interface SageMakerSettings {
  /** SAGEMAKER_BIND_TO_PORT. */
  bindToPort: number | undefined;
  /** SAGEMAKER_BATCH: the container runs for batch transform. */
  batch: boolean;
  /** SAGEMAKER_MAX_PAYLOAD_IN_MB; 0 means no limit from SageMaker. */
  maxPayloadInMb: number | undefined;
  /** SAGEMAKER_BATCH_STRATEGY. */
  batchStrategy: 'SINGLE_RECORD' | 'MULTI_RECORD' | undefined;
  /** SAGEMAKER_MAX_CONCURRENT_TRANSFORMS; 0 (SageMaker's "unset") reads as undefined. */
  maxConcurrentTransforms: number | undefined;
}

type Environment = Readonly<Record<string, string | undefined>>;

/**
 * Reads SageMaker's variables. A malformed value stops the program with a clear error (exit 3),
 * as src/settings.ts does for the runtime's own.
 */
export function readSageMakerSettings(env: Environment): SageMakerSettings {
  const concurrent = wholeNumber(env, 'SAGEMAKER_MAX_CONCURRENT_TRANSFORMS', 0, 1_000_000);
  return {
    bindToPort: wholeNumber(env, 'SAGEMAKER_BIND_TO_PORT', 1, 65535),
    batch: flag(env, 'SAGEMAKER_BATCH') ?? false,
    maxPayloadInMb: wholeNumber(env, 'SAGEMAKER_MAX_PAYLOAD_IN_MB', 0, 1_000_000),
    batchStrategy: batchStrategy(env),
    maxConcurrentTransforms: concurrent === 0 ? undefined : concurrent,
  };
}

function text(env: Environment, name: keyof typeof sagemakerVariables): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function invalid(env: Environment, name: keyof typeof sagemakerVariables, expected: string): AiIntegrationError {
  return new AiIntegrationError('AI_ERR_INVALID_OPTION', `${name}=${JSON.stringify(env[name])} is not ${expected}`);
}

function wholeNumber(env: Environment, name: keyof typeof sagemakerVariables, least: number, most: number): number | undefined {
  const value = text(env, name);
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!/^\d+$/.test(value) || number < least || number > most) throw invalid(env, name, `a whole number from ${least} to ${most}`);
  return number;
}

function flag(env: Environment, name: keyof typeof sagemakerVariables): boolean | undefined {
  const value = text(env, name)?.toLowerCase();
  if (value === undefined) return undefined;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw invalid(env, name, 'true or false');
}

// SageMaker passes the API's names in upper snake case; the API itself spells them MultiRecord.
function batchStrategy(env: Environment): SageMakerSettings['batchStrategy'] {
  const value = text(env, 'SAGEMAKER_BATCH_STRATEGY');
  if (value === undefined) return undefined;
  const normal = value.toUpperCase().replace(/_/g, '');
  if (normal === 'SINGLERECORD') return 'SINGLE_RECORD';
  if (normal === 'MULTIRECORD') return 'MULTI_RECORD';
  throw invalid(env, 'SAGEMAKER_BATCH_STRATEGY', 'SINGLE_RECORD or MULTI_RECORD');
}
