import { describe, expect, test } from 'vitest';
import { CogNotSupportedError, CogValidationError, cogErrorBody } from '../../modes/cog/errors.js';
import { isPredictionFailure, predictionResponse } from '../../modes/cog/prediction-response.js';
import { cogTimestamp, parseTimestamp } from '../../modes/cog/timestamp.js';
import { convertInputs } from '../../src/inputs/convert-inputs.js';
import { AiIntegrationError, InferenceThrewError, errorAnswer } from '../../src/errors.js';
import { outputValue, type Prediction } from '../../src/http/predict.js';
import { checkResult } from '../../src/result/check-result.js';
import type { InferenceResult } from '../../src/types.js';

const identity = { id: 'p1', input: { strength: 0.2 }, createdAt: '2024-05-01T10:20:29.000000+00:00' };
const completedMs = Date.UTC(2024, 4, 1, 10, 20, 30, 500);

describe('cogTimestamp and parseTimestamp', () => {
  test("times are written as Python's isoformat() writes UTC datetimes", () => {
    expect(cogTimestamp(Date.UTC(2024, 4, 1, 10, 20, 30, 123))).toBe('2024-05-01T10:20:30.123000+00:00');
    expect(cogTimestamp(Date.UTC(1999, 11, 31, 23, 59, 59, 0))).toBe('1999-12-31T23:59:59.000000+00:00');
    expect(cogTimestamp(Date.UTC(2024, 0, 1))).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}\+00:00$/);
  });

  test('RFC 3339 date-times parse, with offsets, fractions and no seconds; impossible dates do not', () => {
    expect(parseTimestamp('2024-05-01T10:20:30Z')).toBe(Date.UTC(2024, 4, 1, 10, 20, 30));
    expect(parseTimestamp('2024-05-01T10:20:30.123456789+00:00')).toBe(Date.UTC(2024, 4, 1, 10, 20, 30, 123));
    expect(parseTimestamp('2024-05-01T10:20:30-0130')).toBe(Date.UTC(2024, 4, 1, 11, 50, 30));
    expect(parseTimestamp('2024-05-01 10:20')).toBe(Date.UTC(2024, 4, 1, 10, 20));
    for (const text of ['2024-02-30T00:00:00Z', '2024-13-01T00:00:00Z', '2024-05-01T24:00:00Z', '2024-05-01', 'May 1 2024', '2024-05-01T10:20:30+25:00']) {
      expect(parseTimestamp(text), text).toBeUndefined();
    }
  });
});

describe('predictionResponse', () => {
  test("a success: Cog's envelope, output as given, predict_time in seconds, started_at = completed_at - predict_time", () => {
    expect(predictionResponse(identity, { status: 'succeeded', output: { label: 'cat' }, completedMs, predictMs: 250 })).toEqual({
      id: 'p1',
      status: 'succeeded',
      input: { strength: 0.2 },
      output: { label: 'cat' },
      error: null,
      logs: '',
      metrics: { predict_time: 0.25 },
      created_at: '2024-05-01T10:20:29.000000+00:00',
      started_at: '2024-05-01T10:20:30.250000+00:00',
      completed_at: '2024-05-01T10:20:30.500000+00:00',
    });
  });

  test('a failure: error as a string, output null; without a known running time, no started_at nor predict_time', () => {
    expect(predictionResponse(identity, { status: 'failed', error: 'no face found', completedMs, predictMs: 100 })).toMatchObject({
      status: 'failed',
      output: null,
      error: 'no face found',
      metrics: { predict_time: 0.1 },
      started_at: '2024-05-01T10:20:30.400000+00:00',
    });
    const unknown = predictionResponse(identity, { status: 'failed', error: 'the worker died', completedMs });
    expect(unknown).toMatchObject({ status: 'failed', started_at: null, completed_at: '2024-05-01T10:20:30.500000+00:00', metrics: {} });
  });

  test('a running prediction has no completion yet', () => {
    expect(predictionResponse(identity, { status: 'processing' })).toMatchObject({
      status: 'processing',
      output: null,
      error: null,
      started_at: null,
      completed_at: null,
      metrics: {},
    });
  });

  test('outputs as Cog gives them: JSON as JSON, text as a string, binary as a data: URL', async () => {
    const output = async (result: InferenceResult) => {
      const report = await checkResult(result);
      return outputValue({ inputs: {}, result, report, mediaType: report.mediaType ?? '', queueMs: 0, predictMs: 1 } satisfies Prediction);
    };
    expect(await output({ 'content-type': 'application/json', data: '{"a":[1,2]}', success: true })).toEqual({ a: [1, 2] });
    expect(await output({ 'content-type': 'text/plain; charset=utf-8', data: 'hello', success: true })).toBe('hello');
    expect(await output({ 'content-type': 'application/octet-stream', data: Buffer.from([0, 255]), success: true })).toBe(
      'data:application/octet-stream;base64,AP8=',
    );
  });

  test('model failures, invalid results, throws, dead workers and timeouts are a failed prediction; the rest are HTTP errors', () => {
    for (const code of ['AI_ERR_MODEL_FAILED', 'AI_ERR_INVALID_RESULT', 'AI_ERR_WORKER_DIED', 'AI_ERR_TIMEOUT'] as const) {
      expect(isPredictionFailure(new AiIntegrationError(code, 'x')), code).toBe(true);
    }
    expect(isPredictionFailure(new InferenceThrewError(new Error('CUDA')))).toBe(true);
    for (const code of ['AI_ERR_QUEUE_FULL', 'AI_ERR_NOT_READY', 'AI_ERR_INVALID_INPUT', 'AI_ERR_MALFORMED_INPUT', 'AI_ERR_INPUT_TOO_LARGE'] as const) {
      expect(isPredictionFailure(new AiIntegrationError(code, 'x')), code).toBe(false);
    }
    expect(isPredictionFailure(new Error('plain'))).toBe(false);
  });
});

describe('cogErrorBody', () => {
  // As the core answers: status and headers from errorAnswer, the body in Cog's shape.
  const cogAnswer = (error: unknown) => {
    const answer = errorAnswer(error);
    return { status: answer.status, body: cogErrorBody(answer, error), headers: answer.headers };
  };

  test("an input the core refuses is Cog's 422 entry naming the field", async () => {
    const schema = { strength: { type: 'number', min: 0, max: 1 } } as const;
    const refusal = (raw: Record<string, unknown>) =>
      convertInputs(schema, raw, { origin: 'data' }).then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(cogAnswer(await refusal({ strength: 3 }))).toEqual({
      status: 422,
      body: { detail: [{ loc: ['body', 'input', 'strength'], msg: '3 is out of range; expected a number between 0 and 1', type: 'value_error' }] },
      headers: {},
    });
    expect(cogAnswer(await refusal({}))).toEqual({
      status: 422,
      body: { detail: [{ loc: ['body', 'input', 'strength'], msg: 'Field required; expected a number between 0 and 1', type: 'value_error.missing' }] },
      headers: {},
    });
  });

  test("a validation error keeps all its entries; the field of the first input entry is the error's field", () => {
    const error = new CogValidationError([
      { loc: ['body', 'id'], msg: 'prediction ID must match the ID supplied in the URL', type: 'value_error' },
      { loc: ['body', 'input', 'image'], msg: 'Field required', type: 'value_error.missing' },
    ]);
    expect(error.code).toBe('AI_ERR_INVALID_INPUT');
    expect(error.message).toBe('body.id: prediction ID must match the ID supplied in the URL; body.input.image: Field required');
    expect(cogAnswer(error)).toEqual({ status: 422, body: { detail: error.detail }, headers: {} });
    expect(new CogValidationError([{ loc: ['body', 'input', 'image'], msg: 'm', type: 't' }]).field).toBe('image');
  });

  test('every other error is {"detail": message} with the status of the error table, 501 for what is not supported, Retry-After for 429 and overload', () => {
    expect(cogAnswer(new AiIntegrationError('AI_ERR_QUEUE_FULL', 'the queue is full'))).toEqual({
      status: 429,
      body: { detail: 'the queue is full' },
      headers: { 'retry-after': '1' },
    });
    expect(cogAnswer(new AiIntegrationError('AI_ERR_OVERLOADED', 'busy')).headers).toEqual({ 'retry-after': '1' });
    expect(cogAnswer(new AiIntegrationError('AI_ERR_MALFORMED_INPUT', 'not JSON'))).toEqual({ status: 400, body: { detail: 'not JSON' }, headers: {} });
    expect(cogAnswer(new AiIntegrationError('AI_ERR_NOT_FOUND', 'no route'))).toMatchObject({ status: 404, body: { detail: 'no route' } });
    expect(cogAnswer(new AiIntegrationError('AI_ERR_NOT_READY', 'restarting'))).toMatchObject({ status: 503 });
    expect(cogAnswer(new CogNotSupportedError('later'))).toEqual({ status: 501, body: { detail: 'later' }, headers: {} });
    expect(cogAnswer(new CogNotSupportedError('no streams', 406)).status).toBe(406);
    expect(cogAnswer(new TypeError('secret internals'))).toEqual({ status: 500, body: { detail: 'internal server error' }, headers: {} });
  });
});
