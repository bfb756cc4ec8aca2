import { describe, expect, test } from 'vitest';
import { type CogNotSupportedError, CogValidationError } from '../../modes/cog/errors.js';
import { parsePredictionRequest, predictionIdProblem, prefersAsync, refuseStreamOnPut } from '../../modes/cog/prediction-request.js';
import type { CogValidationDetail } from '../../modes/cog/types.js';
import type { InputsSchema } from '../../src/types.js';

const schema: InputsSchema = {
  image: { type: 'image' },
  strength: { type: 'number', min: 0, max: 1, default: 0.5 },
  note: { type: 'text', required: false },
  audio: { type: 'file', required: false },
};
const jpeg = 'data:image/jpeg;base64,/9j/4AAQ';
const options = { schema, strictInputs: false };

function detailOf(body: unknown, parseOptions: Parameters<typeof parsePredictionRequest>[1] = options): CogValidationDetail[] {
  try {
    parsePredictionRequest(body, parseOptions);
  } catch (error) {
    if (error instanceof CogValidationError) return error.detail;
    throw error;
  }
  throw new Error('expected a CogValidationError');
}

describe('parsePredictionRequest', () => {
  test('takes {id, input}; unknown inputs are dropped and reported, the rest kept as sent', () => {
    const request = parsePredictionRequest({ id: 'abc', input: { image: jpeg, strength: 0.2, seed: 4, extra: 'x' }, unknown_top_level: 1 }, options);
    expect(request).toEqual({
      id: 'abc',
      input: { image: jpeg, strength: 0.2 },
      dropped: ['seed', 'extra'],
      createdAt: undefined,
      webhookEventsFilter: ['start', 'output', 'logs', 'completed'],
    });
  });

  test("Cog's compatibility rules: a null body or a missing or null input means no inputs", () => {
    const noInputs: InputsSchema = { note: { type: 'text', required: false } };
    for (const body of [null, undefined, {}, { input: null }]) {
      expect(parsePredictionRequest(body, { schema: noInputs, strictInputs: false }).input).toEqual({});
    }
  });

  test('a missing required input is "Field required" (value_error.missing), one entry per missing field', () => {
    const twoRequired: InputsSchema = { a: { type: 'text' }, b: { type: 'integer' }, c: { type: 'integer', default: 1 } };
    expect(detailOf({ input: { b: null } }, { schema: twoRequired, strictInputs: false })).toEqual([
      { loc: ['body', 'input', 'a'], msg: 'Field required', type: 'value_error.missing' },
      { loc: ['body', 'input', 'b'], msg: 'Field required', type: 'value_error.missing' },
    ]);
  });

  test("STRICT_INPUTS refuses an unknown input naming it, with the model's inputs", () => {
    const [entry, ...rest] = detailOf({ input: { image: jpeg, strenght: 1 } }, { schema, strictInputs: true });
    expect(rest).toEqual([]);
    expect(entry).toMatchObject({ loc: ['body', 'input', 'strenght'], type: 'value_error.extra' });
    expect(entry!.msg).toMatch(/is not an input of this model; this model's inputs are image, strength, note, audio \(did you mean 'strength'\?\)/);
  });

  test('files and images are data: URLs or http(s) URLs (fetched by the core); anything else is not a URI', () => {
    expect(parsePredictionRequest({ input: { image: jpeg, audio: 'DATA:audio/wav;base64,UklGR' } }, options).input.audio).toBe('DATA:audio/wav;base64,UklGR');
    expect(parsePredictionRequest({ input: { image: 'https://example.com/cat.jpg' } }, options).input.image).toBe('https://example.com/cat.jpg');
    expect(parsePredictionRequest({ input: { image: jpeg, audio: 'HTTP://example.com/a.wav' } }, options).input.audio).toBe('HTTP://example.com/a.wav');
    expect(detailOf({ input: { image: '/9j/4AAQ' } })[0]).toMatchObject({ loc: ['body', 'input', 'image'], type: 'value_error.url' });
    expect(detailOf({ input: { image: 12 } })[0]).toMatchObject({ loc: ['body', 'input', 'image'], type: 'type_error.str' });
  });

  test('a body or input that is not an object is refused with its loc', () => {
    expect(detailOf([1, 2])).toEqual([{ loc: ['body'], msg: expect.stringContaining('expected a JSON object'), type: 'type_error.dict' }]);
    expect(detailOf('text')[0]!.loc).toEqual(['body']);
    expect(detailOf({ input: [jpeg] })).toEqual([
      { loc: ['body', 'input'], msg: 'expected an object of input names to values, got an array', type: 'type_error.dict' },
    ]);
  });

  test('every problem is reported at once', () => {
    const detail = detailOf({
      id: 5,
      created_at: 'yesterday',
      context: { a: 1 },
      webhook_events_filter: ['start', 'bogus'],
      input: { image: 'ftp://x/y.png' },
    });
    expect(detail.map((entry) => entry.loc)).toEqual([
      ['body', 'id'],
      ['body', 'created_at'],
      ['body', 'context'],
      ['body', 'webhook_events_filter', 1],
      ['body', 'input', 'image'],
    ]);
  });

  test("ids: the URL's id is used; a different body id is Cog's 422; empty, long and control-character ids are refused", () => {
    expect(parsePredictionRequest({ input: { image: jpeg } }, { ...options, pathId: 'p1' }).id).toBe('p1');
    expect(parsePredictionRequest({ id: 'p1', input: { image: jpeg } }, { ...options, pathId: 'p1' }).id).toBe('p1');
    expect(detailOf({ id: 'p2', input: { image: jpeg } }, { ...options, pathId: 'p1' })).toEqual([
      { loc: ['body', 'id'], msg: 'prediction ID must match the ID supplied in the URL', type: 'value_error' },
    ]);
    expect(detailOf({ input: { image: jpeg } }, { ...options, pathId: 'a\u0000b' })).toEqual([
      { loc: ['path', 'prediction_id'], msg: 'a prediction ID must not contain control characters', type: 'value_error' },
    ]);
    expect(detailOf({ id: '', input: { image: jpeg } })[0]).toMatchObject({ loc: ['body', 'id'], msg: 'a prediction ID must not be empty' });
    expect(detailOf({ id: 'x'.repeat(257), input: { image: jpeg } })[0]).toMatchObject({ loc: ['body', 'id'] });
    expect(parsePredictionRequest({ id: 'x'.repeat(256), input: { image: jpeg } }, options).id).toHaveLength(256);
    expect(parsePredictionRequest({ input: { image: jpeg } }, options).id).toBeUndefined();
    expect(predictionIdProblem('pred_18a9f3c2b1')).toBeUndefined();
    expect(predictionIdProblem('ünïcode and spaces')).toBeUndefined();
  });

  test("created_at is taken in RFC 3339 and given back in Cog's format", () => {
    expect(parsePredictionRequest({ created_at: '2024-05-01T10:20:30.123456Z', input: { image: jpeg } }, options).createdAt).toBe(
      '2024-05-01T10:20:30.123000+00:00',
    );
    expect(parsePredictionRequest({ created_at: '2024-05-01T12:20:30+02:00', input: { image: jpeg } }, options).createdAt).toBe(
      '2024-05-01T10:20:30.000000+00:00',
    );
    expect(detailOf({ created_at: '2024-02-30T00:00:00Z', input: { image: jpeg } })[0]).toMatchObject({
      loc: ['body', 'created_at'],
      type: 'value_error.datetime',
    });
    expect(detailOf({ created_at: 1714558830, input: { image: jpeg } })[0]).toMatchObject({ loc: ['body', 'created_at'] });
  });

  test('webhook_events_filter is checked and deduplicated; context must be an object of strings', () => {
    expect(
      parsePredictionRequest({ webhook_events_filter: ['completed', 'completed'], context: { user: 'a' }, input: { image: jpeg } }, options)
        .webhookEventsFilter,
    ).toEqual(['completed']);
    expect(detailOf({ webhook_events_filter: 'completed', input: { image: jpeg } })[0]).toMatchObject({
      loc: ['body', 'webhook_events_filter'],
      type: 'type_error.list',
    });
  });

  test('a webhook is taken (its URL checked by the core), a non-string one is a 422; an output_file_prefix is an http(s) URL with no query, else a 422', () => {
    expect(parsePredictionRequest({ webhook: 'https://example.com/hook', input: { image: jpeg } }, options).webhook).toBe('https://example.com/hook');
    expect(detailOf({ webhook: 5, input: { image: jpeg } })[0]).toMatchObject({ loc: ['body', 'webhook'], type: 'type_error.str' });
    expect(parsePredictionRequest({ output_file_prefix: 'https://bucket.example/out/', input: { image: jpeg } }, options).outputFilePrefix).toBe(
      'https://bucket.example/out/',
    );
    for (const prefix of [5, 'not a url', 'ftp://bucket/', 'https://bucket/?sig=1']) {
      expect(detailOf({ output_file_prefix: prefix, input: { image: jpeg } })[0]).toMatchObject({ loc: ['body', 'output_file_prefix'] });
    }
    const none = parsePredictionRequest({ webhook: null, output_file_prefix: null, input: { image: jpeg } }, options);
    expect(none.id).toBeUndefined();
    expect(none.outputFilePrefix).toBeUndefined();
  });

  test('an input named __proto__ stays ordinary data', () => {
    const request = parsePredictionRequest(JSON.parse('{"input": {"__proto__": {"polluted": true}}}'), {
      schema: JSON.parse('{"__proto__": {"type": "json"}}') as InputsSchema,
      strictInputs: true,
    });
    expect(Object.keys(request.input)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(request.input)).toBe(Object.prototype);
  });
});

describe('refuseStreamOnPut', () => {
  test('Prefer: respond-async is found in any case and among other preferences', () => {
    for (const prefer of ['respond-async', 'Respond-Async', 'wait=10, respond-async', ['return=minimal', 'respond-async; foo=bar']])
      expect(prefersAsync(prefer)).toBe(true);
    expect(prefersAsync('return=minimal')).toBe(false);
    expect(prefersAsync(undefined)).toBe(false);
    expect(() => refuseStreamOnPut('application/json')).not.toThrow();
    expect(() => refuseStreamOnPut(undefined)).not.toThrow();
  });

  test('PUT with an Accept of only text/event-stream is refused with 406; one that also takes JSON is served', () => {
    let thrown: unknown;
    try {
      refuseStreamOnPut('text/event-stream');
    } catch (error) {
      thrown = error;
    }
    expect((thrown as CogNotSupportedError).httpStatus).toBe(406);
    expect(() => refuseStreamOnPut('text/event-stream, application/json;q=0.5')).not.toThrow();
    expect(() => refuseStreamOnPut('*/*')).not.toThrow();
  });
});
