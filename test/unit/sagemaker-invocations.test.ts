import { describe, expect, test, vi } from 'vitest';
import { negotiate } from '../../modes/sagemaker/accept.js';
import { NotAcceptableError } from '../../modes/sagemaker/errors.js';
import { describeInputs, isRawBinaryType, parseJsonInputs, parseJsonLines, soleBinaryInput } from '../../modes/sagemaker/invocation-body.js';
import { chooseLinesType, encodeLines, encodeResult } from '../../modes/sagemaker/invocation-response.js';
import { checkLines, runLines } from '../../modes/sagemaker/run-lines.js';
import { checkResult } from '../../src/result/check-result.js';
import { AiIntegrationError, InvalidInputError } from '../../src/errors.js';
import type { Prediction } from '../../src/http/predict.js';
import { defineSchema } from '../../src/inputs/schema.js';
import type { InferenceResult } from '../../src/types.js';

const schema = defineSchema({ image: { type: 'image' }, prompt: { type: 'text', default: 'hi' } });
const bytes = (text: string) => Buffer.from(text, 'utf8');

function malformed(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(AiIntegrationError);
    expect((error as AiIntegrationError).code).toBe('AI_ERR_MALFORMED_INPUT');
    return (error as Error).message;
  }
  throw new Error('expected a malformed-input error');
}

async function prediction(result: InferenceResult): Promise<Prediction> {
  const report = await checkResult(result);
  expect(report.ok).toBe(true);
  return { inputs: {}, result, report, mediaType: report.mediaType!, queueMs: 0, predictMs: 0 };
}

describe('application/json bodies', () => {
  test('an object of inputs, as it is (a byte-order mark skipped); the native envelope {"inputs": {...}} alone is unwrapped', () => {
    expect(parseJsonInputs(bytes('{"image": "aGk=", "prompt": "x"}'), schema)).toEqual({ image: 'aGk=', prompt: 'x' });
    expect(parseJsonInputs(bytes('\ufeff{"prompt": "x"}'), schema)).toEqual({ prompt: 'x' });
    expect(parseJsonInputs(bytes('{"inputs": {"prompt": "x"}}'), schema)).toEqual({ prompt: 'x' });
    // Not when the schema has an input called inputs, nor beside other keys.
    expect(parseJsonInputs(bytes('{"inputs": {"a": 1}}'), { inputs: { type: 'json' } })).toEqual({ inputs: { a: 1 } });
    expect(parseJsonInputs(bytes('{"inputs": {"a": 1}, "prompt": "x"}'), schema)).toEqual({ inputs: { a: 1 }, prompt: 'x' });
  });

  test('empty, not JSON, not UTF-8, an array or a scalar: 400 saying what to send', () => {
    expect(malformed(() => parseJsonInputs(bytes('  '), schema))).toBe('the request body is empty; expected a JSON object of inputs');
    expect(malformed(() => parseJsonInputs(bytes('{"prompt": '), schema))).toMatch(/^the request body is not valid JSON \(.+\)$/);
    expect(malformed(() => parseJsonInputs(bytes('{"prompt": "a"}\n{"prompt": "b"}'), schema))).toMatch(
      /; for one inputs object per line, send Content-Type application\/jsonlines$/,
    );
    expect(malformed(() => parseJsonInputs(Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]), schema))).toBe(
      'the request body is not valid UTF-8; send JSON as UTF-8, and binary inputs as base64',
    );
    expect(malformed(() => parseJsonInputs(bytes('[{"prompt": "a"}]'), schema))).toBe(
      'expected a JSON object of inputs, got an array; send several inputs objects as application/jsonlines, one per line',
    );
    expect(malformed(() => parseJsonInputs(bytes('"hello"'), schema))).toBe(
      'the request body is the string "hello"; expected a JSON object of inputs (image (image), prompt (text))',
    );
  });
});

describe('application/jsonlines bodies', () => {
  test('one inputs object per line, in order; CRLF, a byte-order mark and trailing blank lines are fine', () => {
    expect(parseJsonLines(bytes('{"prompt": "a"}\n{"prompt": "b"}\n'), schema)).toEqual([{ prompt: 'a' }, { prompt: 'b' }]);
    expect(parseJsonLines(bytes('\ufeff{"prompt": "a"}\r\n{"prompt": "b"}\r\n\r\n  \n'), schema)).toEqual([{ prompt: 'a' }, { prompt: 'b' }]);
    expect(parseJsonLines(bytes('{"inputs": {"prompt": "a"}}'), schema)).toEqual([{ prompt: 'a' }]);
  });

  test('a bad line is a 400 naming its number, counted from 1', () => {
    expect(malformed(() => parseJsonLines(bytes('{"prompt": "a"}\n{"prompt": \n{"prompt": "c"}'), schema))).toMatch(
      /^line 2 is not valid JSON \(.+\); send one inputs object per line$/,
    );
    expect(malformed(() => parseJsonLines(bytes('{"prompt": "a"}\n\n{"prompt": "c"}\n'), schema))).toBe(
      'line 2 is empty; send one inputs object per line (only blank lines at the end are ignored)',
    );
    expect(malformed(() => parseJsonLines(bytes('{"prompt": "a"}\n[1, 2]'), schema))).toBe(
      'line 2 is an array; expected a JSON object of inputs (image (image), prompt (text))',
    );
    expect(malformed(() => parseJsonLines(Buffer.concat([bytes('{"prompt": "a"}\n{"prompt": "'), Buffer.from([0xc3]), bytes('"}')]), schema))).toBe(
      'line 2 is not valid UTF-8; send JSON as UTF-8, and binary inputs as base64',
    );
    expect(malformed(() => parseJsonLines(bytes('\n\n'), schema))).toBe('the JSON Lines body has no records; send one inputs object per line');
  });
});

describe('raw bodies', () => {
  test('image/*, application/octet-stream and application/x-image are raw; the one binary input takes them', () => {
    expect(['image/jpeg', 'image/png', 'application/octet-stream', 'application/x-image'].every(isRawBinaryType)).toBe(true);
    expect(['application/json', 'text/plain', 'multipart/form-data'].some(isRawBinaryType)).toBe(false);
    expect(soleBinaryInput(schema)).toBe('image');
    expect(soleBinaryInput({ audio: { type: 'file' }, note: { type: 'text' } })).toBe('audio');
    expect(soleBinaryInput({ a: { type: 'image' }, b: { type: 'image' } })).toBeUndefined();
    expect(soleBinaryInput({ prompt: { type: 'text' } })).toBeUndefined();
    expect(describeInputs({})).toBe('none');
  });
});

describe('Accept', () => {
  test('no header, */* or nothing parseable: the first offer', () => {
    for (const header of [undefined, '', '*/*', 'nonsense', 'a/b/c']) expect(negotiate(header, ['image/jpeg', 'application/json'])).toBe(0);
  });

  test("the highest quality wins, ties go to the earlier offer; the most specific range sets an offer's quality", () => {
    expect(negotiate('application/json', ['image/jpeg', 'application/json'])).toBe(1);
    expect(negotiate('application/json;q=0.5, image/*', ['image/jpeg', 'application/json'])).toBe(0);
    expect(negotiate('image/*;q=0.9, application/json', ['image/jpeg', 'application/json'])).toBe(1);
    expect(negotiate('image/*, image/jpeg;q=0', ['image/jpeg', 'application/json'])).toBeUndefined();
    expect(negotiate('text/csv', ['image/jpeg', 'application/json'])).toBeUndefined();
    expect(negotiate('TEXT/*', ['application/json', 'text/plain'])).toBe(1);
    expect(negotiate('application/*;q=0.2, */*;q=0.1', ['image/png', 'application/json'])).toBe(1);
  });
});

describe('encoding a result', () => {
  const jsonResult = { 'content-type': 'application/json', data: '{"label": "cat"}', success: true };
  const image = {
    'content-type': 'image/png',
    data: Buffer.from(
      '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c63f8cfc0f01f0005000201a5e8a6a60000000049454e44ae426082',
      'hex',
    ),
    success: true,
  };
  const text = { 'content-type': 'text/plain; charset=utf-8', data: 'hello', success: true };

  test("the result's own data and content type when Accept allows it", async () => {
    for (const accept of [undefined, '*/*', 'application/json']) {
      const encoded = encodeResult(await prediction(jsonResult), accept);
      expect(encoded).toEqual({ contentType: 'application/json', body: bytes('{"label": "cat"}') });
    }
    expect(encodeResult(await prediction(image), 'image/*')).toEqual({ contentType: 'image/png', body: image.data });
    expect(encodeResult(await prediction(text), undefined)).toEqual({ contentType: 'text/plain; charset=utf-8', body: bytes('hello') });
  });

  test('converted where it can be: to JSON (binary as a data: URL), to a JSON line, a JSON result to text/plain', async () => {
    expect(encodeResult(await prediction(image), 'application/json')).toEqual({
      contentType: 'application/json',
      body: bytes(JSON.stringify(`data:image/png;base64,${image.data.toString('base64')}`)),
    });
    expect(encodeResult(await prediction(text), 'application/json')).toEqual({ contentType: 'application/json', body: bytes('"hello"') });
    expect(encodeResult(await prediction(jsonResult), 'application/jsonlines')).toEqual({
      contentType: 'application/jsonlines',
      body: bytes('{"label":"cat"}'),
    });
    expect(encodeResult(await prediction(jsonResult), 'text/plain')).toEqual({ contentType: 'text/plain; charset=utf-8', body: bytes('{"label": "cat"}') });
  });

  test('a mismatch that cannot be converted is 406, naming the forms the result can take', async () => {
    let error: unknown;
    try {
      encodeResult(await prediction(jsonResult), 'image/png');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(NotAcceptableError);
    expect((error as NotAcceptableError).httpStatus).toBe(406);
    expect((error as Error).message).toBe(
      "the result is application/json, which the request's Accept (image/png) does not take; it can be given as application/json, application/jsonlines, application/x-jsonlines, text/plain (or */*)",
    );
    // Binary data is never text.
    const png = await prediction(image);
    expect(() => encodeResult(png, 'text/plain')).toThrow(
      /^the result is image\/png, which the request's Accept \(text\/plain\) does not take; it can be given as image\/png, application\/json, application\/jsonlines, application\/x-jsonlines \(or \*\/\*\)$/,
    );
  });

  test('JSON Lines: one line per result in order, no newline after the last; as application/json, an array', async () => {
    const results = [await prediction(jsonResult), await prediction(text), await prediction(image)];
    const lines = encodeLines(results, 'application/jsonlines');
    expect(lines.contentType).toBe('application/jsonlines');
    expect(
      lines.body
        .toString()
        .split('\n')
        .map((line) => JSON.parse(line)),
    ).toEqual([{ label: 'cat' }, 'hello', `data:image/png;base64,${image.data.toString('base64')}`]);
    expect(lines.body.toString().endsWith('\n')).toBe(false);
    expect(JSON.parse(encodeLines(results, 'application/json').body.toString())).toHaveLength(3);
    expect(chooseLinesType('application/x-jsonlines', undefined)).toBe('application/x-jsonlines');
    expect(chooseLinesType('application/jsonlines', 'application/json')).toBe('application/json');
    expect(() => chooseLinesType('application/jsonlines', 'text/csv')).toThrow(NotAcceptableError);
  });
});

describe('running lines', () => {
  test('results in order, never more than the window at once', async () => {
    vi.useFakeTimers();
    try {
      let running = 0;
      let most = 0;
      const finished: number[] = [];
      const results = runLines([30, 5, 20, 1, 10], 2, async (delay, index) => {
        most = Math.max(most, ++running);
        await new Promise((resolve) => setTimeout(resolve, delay));
        running--;
        finished.push(index);
        return index * 10;
      });
      await vi.runAllTimersAsync();
      expect(await results).toEqual([0, 10, 20, 30, 40]);
      expect(most).toBe(2);
      // A lane takes the next line as soon as its own is done: while line 0 takes 30 ms, the other
      // lane runs lines 1, 2 and 3 (5 + 20 + 1 ms).
      expect(finished).toEqual([1, 2, 3, 0, 4]);
    } finally {
      vi.useRealTimers();
    }
  });

  test('after a failure nothing more starts; the earliest failing line is named, its code kept', async () => {
    const started: number[] = [];
    const failing = runLines([0, 1, 2, 3, 4, 5], 2, async (item) => {
      started.push(item);
      if (item === 2) throw new AiIntegrationError('AI_ERR_MODEL_FAILED', 'the model reported a failure: no face');
      return item;
    });
    await expect(failing).rejects.toMatchObject({ code: 'AI_ERR_MODEL_FAILED', message: 'line 3: the model reported a failure: no face' });
    expect(started).not.toContain(5);
  });

  test('every line is checked before any runs; a bad one is named, with its field', async () => {
    const checking = checkLines([{ n: 1 }, { n: 'x' }], async (item) => {
      if (typeof item.n !== 'number') throw new InvalidInputError('n', 'expected a number, got the string "x"');
      return item;
    });
    await expect(checking).rejects.toMatchObject({ code: 'AI_ERR_INVALID_INPUT', field: 'n', message: 'line 2: n: expected a number, got the string "x"' });
  });
});
