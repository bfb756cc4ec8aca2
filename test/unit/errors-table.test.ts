// Every error is answered through one function, errorAnswer: status and headers from the error
// table, or from an error subclass that has its own (406, 501, Allow).
import { describe, expect, test } from 'vitest';
import { CogNotSupportedError, CogValidationError } from '../../modes/cog/errors.js';
import { OpenInferenceError, openInferenceStatuses } from '../../modes/kserve/errors.js';
import { NotAcceptableError } from '../../modes/sagemaker/errors.js';
import { AiIntegrationError, InvalidInputError, MethodNotAllowedError, errorAnswer, errorTable, type ErrorCode, type ErrorEntry } from '../../src/errors.js';

describe('errorAnswer', () => {
  test('every code answers with the status and Retry-After of its row of the table', () => {
    for (const [code, entry] of Object.entries(errorTable) as [ErrorCode, ErrorEntry][]) {
      const answer = errorAnswer(new AiIntegrationError(code, `about ${code}`));
      expect(answer, code).toEqual({
        status: entry.httpStatus,
        headers: entry.retryAfterSeconds === undefined ? {} : { 'retry-after': String(entry.retryAfterSeconds) },
        code,
        message: `about ${code}`,
      });
    }
  });

  test('only a refusal for lack of room invites a retry: the queue full, the server overloaded, the webhooks behind', () => {
    const retried = Object.entries(errorTable).filter(([code]) => 'retry-after' in errorAnswer(new AiIntegrationError(code as ErrorCode, '')).headers);
    expect(retried.map(([code]) => code).sort()).toEqual(['AI_ERR_OVERLOADED', 'AI_ERR_QUEUE_FULL', 'AI_ERR_WEBHOOKS_BEHIND']);
    expect(errorAnswer(new AiIntegrationError('AI_ERR_QUEUE_FULL', 'full'))).toMatchObject({ status: 429, headers: { 'retry-after': '1' } });
    expect(errorAnswer(new AiIntegrationError('AI_ERR_OVERLOADED', 'busy'))).toMatchObject({ status: 503, headers: { 'retry-after': '1' } });
    expect(errorAnswer(new AiIntegrationError('AI_ERR_NOT_READY', 'draining'))).toMatchObject({ status: 503, headers: {} });
  });

  test('a field names the input; anything not ours is AI_ERR_INTERNAL, its details kept out', () => {
    expect(errorAnswer(new InvalidInputError('image', 'is required'))).toEqual({
      status: 422,
      headers: {},
      code: 'AI_ERR_INVALID_INPUT',
      message: 'image: is required',
      field: 'image',
    });
    expect(errorAnswer(new TypeError('x is undefined'))).toEqual({ status: 500, headers: {}, code: 'AI_ERR_INTERNAL', message: 'internal server error' });
    expect(errorAnswer('a thrown string')).toMatchObject({ status: errorTable.AI_ERR_INTERNAL.httpStatus, code: 'AI_ERR_INTERNAL' });
  });

  test('a subclass with its own status or headers is honoured: 406, 501, Allow', () => {
    expect(errorAnswer(new NotAcceptableError('no form of the result is image/png'))).toEqual({
      status: 406,
      headers: {},
      code: 'AI_ERR_USAGE',
      message: 'no form of the result is image/png',
    });
    expect(errorAnswer(new CogNotSupportedError('output uploads are not served'))).toMatchObject({ status: 501, code: 'AI_ERR_USAGE' });
    expect(errorAnswer(new CogNotSupportedError('no stream on PUT', 406))).toMatchObject({ status: 406, code: 'AI_ERR_USAGE' });
    expect(errorAnswer(new MethodNotAllowedError(['GET', 'HEAD', 'POST'], 'PUT is not allowed'))).toEqual({
      status: 405,
      headers: { allow: 'GET, HEAD, POST' },
      code: 'AI_ERR_METHOD_NOT_ALLOWED',
      message: 'PUT is not allowed',
    });
    const validation = new CogValidationError([{ loc: ['body', 'input', 'steps'], msg: 'Field required', type: 'value_error.missing' }]);
    expect(errorAnswer(validation)).toMatchObject({ status: 422, code: 'AI_ERR_INVALID_INPUT', field: 'steps' });
    expect(errorAnswer(new OpenInferenceError(404, "unknown model 'x'"))).toMatchObject({ status: 404, code: 'AI_ERR_NOT_FOUND' });
  });

  test("a protocol's own statuses map the table's: KServe answers 400 where the table says 422, and nothing else changes", () => {
    expect(openInferenceStatuses).toEqual({ 422: 400 });
    expect(errorAnswer(new InvalidInputError('image', 'is required'), openInferenceStatuses)).toMatchObject({
      status: 400,
      code: 'AI_ERR_INVALID_INPUT',
      field: 'image',
    });
    expect(errorAnswer(new AiIntegrationError('AI_ERR_PICKLE_GLOBAL', 'os.system'), openInferenceStatuses).status).toBe(400);
    expect(errorAnswer(new AiIntegrationError('AI_ERR_QUEUE_FULL', 'full'), openInferenceStatuses)).toMatchObject({
      status: 429,
      headers: { 'retry-after': '1' },
    });
    expect(errorAnswer(new TypeError('bug'), openInferenceStatuses).status).toBe(500);
  });
});
