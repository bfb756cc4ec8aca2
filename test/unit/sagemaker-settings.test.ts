import { describe, expect, test } from 'vitest';
import { bodyLimit, executionParameters } from '../../modes/sagemaker/limits.js';
import { AiIntegrationError } from '../../src/errors.js';
import { readSageMakerSettings, sagemakerVariables } from '../../modes/sagemaker/settings.js';
import { environmentVariables } from '../../src/environment-variables.js';
import { readSettings } from '../../src/settings.js';

const MiB = 1024 * 1024;

function configError(run: () => unknown): AiIntegrationError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(AiIntegrationError);
    expect((error as AiIntegrationError).code).toBe('AI_ERR_INVALID_OPTION');
    expect((error as AiIntegrationError).exitCode).toBe(3);
    return error as AiIntegrationError;
  }
  throw new Error('expected a configuration error');
}

/** The limit and execution parameters for an environment, as the mode computes them. */
function limitsFor(env: Record<string, string>, options = {}) {
  const settings = readSettings(options, env);
  const sagemaker = readSageMakerSettings(env);
  const limit = bodyLimit(settings, sagemaker);
  return { limit, parameters: executionParameters(settings.http.concurrency, sagemaker, limit.bytes) };
}

describe('SageMaker variables', () => {
  test('every variable the mode reads is declared with its description, and so listed in the runtime environment table', () => {
    expect(Object.keys(sagemakerVariables).sort()).toEqual([
      'SAGEMAKER_BATCH',
      'SAGEMAKER_BATCH_STRATEGY',
      'SAGEMAKER_BIND_TO_PORT',
      'SAGEMAKER_MAX_CONCURRENT_TRANSFORMS',
      'SAGEMAKER_MAX_PAYLOAD_IN_MB',
    ]);
    for (const name of Object.keys(sagemakerVariables)) expect(environmentVariables).toHaveProperty(name);
    expect(sagemakerVariables.SAGEMAKER_BIND_TO_PORT).toContain('com.amazonaws.sagemaker.capabilities.accept-bind-to-port=true');
  });

  test('nothing set: nothing said', () => {
    expect(readSageMakerSettings({})).toEqual({
      bindToPort: undefined,
      batch: false,
      maxPayloadInMb: undefined,
      batchStrategy: undefined,
      maxConcurrentTransforms: undefined,
    });
  });

  test("values as SageMaker sets them; the strategy also in the API's spelling; MaxConcurrentTransforms 0 is SageMaker's unset", () => {
    expect(
      readSageMakerSettings({
        SAGEMAKER_BIND_TO_PORT: '9090',
        SAGEMAKER_BATCH: 'true',
        SAGEMAKER_MAX_PAYLOAD_IN_MB: '20',
        SAGEMAKER_BATCH_STRATEGY: 'SINGLE_RECORD',
        SAGEMAKER_MAX_CONCURRENT_TRANSFORMS: '4',
      }),
    ).toEqual({ bindToPort: 9090, batch: true, maxPayloadInMb: 20, batchStrategy: 'SINGLE_RECORD', maxConcurrentTransforms: 4 });
    expect(
      readSageMakerSettings({ SAGEMAKER_BATCH_STRATEGY: 'MultiRecord', SAGEMAKER_BATCH: 'False', SAGEMAKER_MAX_CONCURRENT_TRANSFORMS: '0' }),
    ).toMatchObject({
      batchStrategy: 'MULTI_RECORD',
      batch: false,
      maxConcurrentTransforms: undefined,
    });
  });

  test('a malformed value is a configuration error (exit 3) naming the variable and what it takes', () => {
    expect(configError(() => readSageMakerSettings({ SAGEMAKER_BIND_TO_PORT: '80a' })).message).toBe(
      'SAGEMAKER_BIND_TO_PORT="80a" is not a whole number from 1 to 65535',
    );
    expect(configError(() => readSageMakerSettings({ SAGEMAKER_BIND_TO_PORT: '70000' })).message).toContain('from 1 to 65535');
    expect(configError(() => readSageMakerSettings({ SAGEMAKER_BATCH: 'yes please' })).message).toBe('SAGEMAKER_BATCH="yes please" is not true or false');
    expect(configError(() => readSageMakerSettings({ SAGEMAKER_MAX_PAYLOAD_IN_MB: '-1' })).message).toContain(
      'SAGEMAKER_MAX_PAYLOAD_IN_MB="-1" is not a whole number',
    );
    expect(configError(() => readSageMakerSettings({ SAGEMAKER_BATCH_STRATEGY: 'ALL' })).message).toBe(
      'SAGEMAKER_BATCH_STRATEGY="ALL" is not SINGLE_RECORD or MULTI_RECORD',
    );
    expect(configError(() => readSageMakerSettings({ SAGEMAKER_MAX_CONCURRENT_TRANSFORMS: '1.5' })).message).toContain(
      'SAGEMAKER_MAX_CONCURRENT_TRANSFORMS="1.5"',
    );
  });
});

describe('the body limit and /execution-parameters', () => {
  test("by default: SageMaker's 6 MB, and the parameters SageMaker would assume (CONCURRENCY, MULTI_RECORD, 6)", () => {
    const { limit, parameters } = limitsFor({});
    expect(limit.bytes).toBe(6 * MiB);
    expect(limit.source).toContain('6 MB');
    expect(parameters).toEqual({ MaxConcurrentTransforms: 1, BatchStrategy: 'MULTI_RECORD', MaxPayloadInMB: 6 });
    expect(limitsFor({ CONCURRENCY: '4' }).parameters.MaxConcurrentTransforms).toBe(4);
  });

  test('MAX_INPUT_BYTES, or the maxInputBytes option, wins, in batch too; MaxPayloadInMB follows it within 1 to 100', () => {
    expect(limitsFor({ MAX_INPUT_BYTES: '2000' })).toEqual({
      limit: { bytes: 2000, source: 'MAX_INPUT_BYTES' },
      parameters: expect.objectContaining({ MaxPayloadInMB: 1 }),
    });
    expect(limitsFor({ MAX_INPUT_BYTES: String(20 * MiB) }).parameters.MaxPayloadInMB).toBe(20);
    expect(limitsFor({ MAX_INPUT_BYTES: String(300 * MiB), MAX_BUFFERED_BYTES: String(400 * MiB) }).parameters.MaxPayloadInMB).toBe(100);
    expect(limitsFor({}, { maxInputBytes: 3000 }).limit).toEqual({ bytes: 3000, source: 'MAX_INPUT_BYTES' });
    // Given exactly as the default, it is still given.
    expect(limitsFor({ MAX_INPUT_BYTES: String(100 * MiB) }).limit.bytes).toBe(100 * MiB);
    expect(limitsFor({ MAX_INPUT_BYTES: '5000', SAGEMAKER_MAX_PAYLOAD_IN_MB: '20' }).limit.bytes).toBe(5000);
  });

  test("batch transform: SAGEMAKER_MAX_PAYLOAD_IN_MB is the limit, and the job's values are echoed; 0 leaves MAX_INPUT_BYTES's default", () => {
    const { limit, parameters } = limitsFor({
      SAGEMAKER_BATCH: 'true',
      SAGEMAKER_MAX_PAYLOAD_IN_MB: '20',
      SAGEMAKER_BATCH_STRATEGY: 'SINGLE_RECORD',
      SAGEMAKER_MAX_CONCURRENT_TRANSFORMS: '3',
    });
    expect(limit).toEqual({ bytes: 20 * MiB, source: 'SAGEMAKER_MAX_PAYLOAD_IN_MB=20' });
    expect(parameters).toEqual({ MaxConcurrentTransforms: 3, BatchStrategy: 'SINGLE_RECORD', MaxPayloadInMB: 20 });
    const unlimited = limitsFor({ SAGEMAKER_MAX_PAYLOAD_IN_MB: '0' });
    expect(unlimited.limit.bytes).toBe(100 * MiB);
    expect(unlimited.parameters.MaxPayloadInMB).toBe(0);
  });

  test('a limit the body budget cannot hold is a configuration error naming both', () => {
    const error = configError(() => limitsFor({ SAGEMAKER_MAX_PAYLOAD_IN_MB: '200', MAX_BUFFERED_BYTES: String(150 * MiB) }));
    expect(error.message).toBe(
      `MAX_BUFFERED_BYTES (${150 * MiB}) is smaller than the body limit of ${200 * MiB} bytes (SAGEMAKER_MAX_PAYLOAD_IN_MB=200), so a body at the limit could never be read; raise MAX_BUFFERED_BYTES`,
    );
  });
});
