// MODE=lambda's variables: AWS_LAMBDA_RUNTIME_API (required, host:port) and LAMBDA_DEADLINE_MARGIN_MS;
// and the startup errors it reports to init/error.
import { describe, expect, test } from 'vitest';
import { AiIntegrationError, ExitCode, InvalidSchemaError } from '../../src/errors.js';
import { createLogger } from '../../src/logger.js';
import { readLambdaSettings, readRuntimeApi } from '../../modes/lambda/settings.js';
import { environmentVariables } from '../../src/environment-variables.js';
import { reportStartupError } from '../../modes/lambda/index.js';
import { startRuntimeApi } from '../helpers/lambda-runtime-api.js';

function refusal(run: () => unknown): AiIntegrationError {
  try {
    run();
  } catch (error) {
    if (error instanceof AiIntegrationError) return error;
    throw error;
  }
  throw new Error('expected an error');
}

describe('MODE=lambda settings', () => {
  test('the variables are declared for the README', () => {
    expect(Object.keys(environmentVariables)).toEqual(expect.arrayContaining(['AWS_LAMBDA_RUNTIME_API', 'LAMBDA_DEADLINE_MARGIN_MS']));
  });

  test('AWS_LAMBDA_RUNTIME_API: host:port as Lambda sets it; missing or malformed is exit 3 saying where the mode runs', () => {
    expect(readRuntimeApi({ AWS_LAMBDA_RUNTIME_API: '127.0.0.1:9001' })).toBe('127.0.0.1:9001');
    expect(readRuntimeApi({ AWS_LAMBDA_RUNTIME_API: ' localhost:8080 ' })).toBe('localhost:8080');
    expect(readRuntimeApi({ AWS_LAMBDA_RUNTIME_API: '[::1]:9001' })).toBe('[::1]:9001');
    const missing = refusal(() => readRuntimeApi({}));
    expect(missing.exitCode).toBe(ExitCode.config);
    expect(missing.message).toMatch(
      /^AWS_LAMBDA_RUNTIME_API is not set: MODE=lambda runs inside AWS Lambda, or locally under the Lambda runtime interface emulator \(aws-lambda-rie\)/,
    );
    for (const bad of ['http://127.0.0.1:9001', '127.0.0.1', '127.0.0.1:0', '127.0.0.1:70000', 'host:80/path', 'user@host:80']) {
      const error = refusal(() => readRuntimeApi({ AWS_LAMBDA_RUNTIME_API: bad }));
      expect(error.message).toBe(`AWS_LAMBDA_RUNTIME_API=${JSON.stringify(bad)} is not host:port (such as 127.0.0.1:9001), as Lambda sets it`);
      expect(error.exitCode).toBe(ExitCode.config);
    }
  });

  test('LAMBDA_DEADLINE_MARGIN_MS: default 200, 0 allowed, anything else is exit 3', () => {
    const api = { AWS_LAMBDA_RUNTIME_API: '127.0.0.1:9001' };
    expect(readLambdaSettings(api)).toEqual({ runtimeApi: '127.0.0.1:9001', deadlineMarginMs: 200 });
    expect(readLambdaSettings({ ...api, LAMBDA_DEADLINE_MARGIN_MS: '0' }).deadlineMarginMs).toBe(0);
    expect(readLambdaSettings({ ...api, LAMBDA_DEADLINE_MARGIN_MS: ' 1500 ' }).deadlineMarginMs).toBe(1500);
    for (const bad of ['-1', '1.5', 'soon', '2147483648']) {
      expect(refusal(() => readLambdaSettings({ ...api, LAMBDA_DEADLINE_MARGIN_MS: bad })).message).toBe(
        `LAMBDA_DEADLINE_MARGIN_MS=${JSON.stringify(bad)} is not a whole number of milliseconds from 0 to 2147483647`,
      );
    }
  });
});

describe('reportStartupError (for errors found before the mode runs)', () => {
  test('posts the error to init/error with its code as errorType and Runtime.<Name> as the header', async () => {
    const api = await startRuntimeApi();
    try {
      await reportStartupError(new InvalidSchemaError('image', 'unknown type "imgae"'), { AWS_LAMBDA_RUNTIME_API: api.address }, createLogger(process.stderr));
      const posted = await api.initError();
      expect(posted.headers['lambda-runtime-function-error-type']).toBe('Runtime.InvalidSchema');
      expect(posted.json()).toEqual({ errorMessage: 'invalid inputs schema: image: unknown type "imgae"', errorType: 'AI_ERR_INVALID_SCHEMA', stackTrace: [] });
    } finally {
      await api.close();
    }
  });

  test('without AWS_LAMBDA_RUNTIME_API there is nowhere to post it, and nothing fails', async () => {
    await expect(reportStartupError(new Error('x'), {}, createLogger(process.stderr))).resolves.toBeUndefined();
  });
});
