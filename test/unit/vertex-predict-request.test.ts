import { describe, expect, test, vi } from 'vitest';
import { AiIntegrationError, InvalidInputError } from '../../src/errors.js';
import type { InputsSchema } from '../../src/types.js';
import { convertInstances, locate, runInstances } from '../../modes/vertex/instances.js';
import { parsePredictRequest } from '../../modes/vertex/predict-request.js';
import { soleInput } from '../../src/inputs/schema.js';

const schema: InputsSchema = {
  image: { type: 'image' },
  strength: { type: 'number', default: 0.5 },
  note: { type: 'text', required: false },
};
const several: InputsSchema = { a: { type: 'text' }, b: { type: 'text' } };

function malformed(body: unknown, inputs: InputsSchema = schema): string {
  try {
    parsePredictRequest(body, inputs);
  } catch (error) {
    expect(error).toBeInstanceOf(AiIntegrationError);
    expect((error as AiIntegrationError).httpStatus, (error as Error).message).toBe(400);
    return (error as Error).message;
  }
  throw new Error('no error');
}

describe('MODE=vertex request: {"instances": [...], "parameters": {...}}', () => {
  test('each instance becomes one raw inputs object, in order; {"b64"} values become bytes', () => {
    const bytes = Buffer.from([0xff, 0xd8, 0xff, 0x00, 0x01]);
    const instances = parsePredictRequest(
      {
        instances: [
          { image: { b64: bytes.toString('base64') }, note: 'a' },
          { image: 'cGxhaW4=', strength: 1 },
        ],
      },
      schema,
    );
    expect(instances.map((instance) => instance.raw)).toEqual([
      { image: bytes, note: 'a' },
      { image: 'cGxhaW4=', strength: 1 },
    ]);
    expect(Buffer.isBuffer(instances[0]!.raw.image)).toBe(true);
    // A plain base64 string or a data: URL stays text here; the schema's conversion decodes it for image and file inputs.
    expect(instances[1]!.raw.image).toBe('cGxhaW4=');
  });

  test('parameters are merged into every instance; the instance’s own value wins; which inputs came from parameters is kept', () => {
    const instances = parsePredictRequest(
      { instances: [{ note: 'own', strength: 0.1 }, {}], parameters: { strength: 0.9, temperature: 0.7, mask: { b64: 'AAE=' } } },
      schema,
    );
    expect(instances.map((instance) => instance.raw)).toEqual([
      { note: 'own', strength: 0.1, temperature: 0.7, mask: Buffer.from([0, 1]) },
      { strength: 0.9, temperature: 0.7, mask: Buffer.from([0, 1]) },
    ]);
    expect([...instances[0]!.fromParameters]).toEqual(['temperature', 'mask']);
    expect([...instances[1]!.fromParameters]).toEqual(['strength', 'temperature', 'mask']);
    expect(parsePredictRequest({ instances: [{}], parameters: null }, schema)[0]!.raw).toEqual({});
  });

  test('a bare instance (or a bare {"b64"}) is the value of the one input that must be given', () => {
    expect(soleInput(schema)).toBe('image');
    expect(soleInput(several)).toBeUndefined();
    expect(soleInput({ only: { type: 'text', required: false } })).toBe('only');
    const [first, second] = parsePredictRequest({ instances: [{ b64: 'AAE=' }, 'data:image/png;base64,AAE='], parameters: { note: 'n' } }, schema);
    expect(first!.raw).toEqual({ image: Buffer.from([0, 1]), note: 'n' });
    expect(second!.raw).toEqual({ image: 'data:image/png;base64,AAE=', note: 'n' });
  });

  test('an input named __proto__ stays data and pollutes nothing', () => {
    const body = JSON.parse('{"instances": [{"__proto__": {"polluted": true}}], "parameters": {"constructor": 1}}') as unknown;
    const [instance] = parsePredictRequest(body, schema);
    expect(Object.getPrototypeOf(instance!.raw)).toBe(Object.prototype);
    expect(Object.keys(instance!.raw)).toEqual(['__proto__', 'constructor']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  test('a body of another shape is a 400 saying what was expected', () => {
    expect(malformed([1])).toBe('expected {"instances": [...], "parameters": {...}}, got an array');
    expect(malformed({ inputs: { image: 'x' } })).toBe(
      'Vertex AI sends {"instances": [...], "parameters": {...}}, not {"inputs": ...}; put each inputs object in "instances"',
    );
    expect(malformed({})).toBe('"instances" must be an array, got nothing; expected {"instances": [...], "parameters": {...}}');
    expect(malformed({ instances: { image: 'x' } })).toBe('"instances" must be an array, got an object; expected {"instances": [...], "parameters": {...}}');
    expect(malformed({ instances: [] })).toBe('"instances" is empty; send at least one instance');
    expect(malformed({ instances: [{}], parameters: [1] })).toBe('"parameters" must be an object of model options, got an array');
    expect(malformed({ instances: [{ a: 'x', b: 'y' }, 'bare'] }, several)).toBe(
      'instances[1] is the string "bare", but this model has several inputs (a, b); send an object of input names to values',
    );
    expect(malformed({ instances: [7] }, {})).toBe('instances[0] is number 7, but this model has no inputs; send an object of input names to values');
  });

  test('a {"b64"} that is not base64 is refused, naming the instance (or parameters) and the field', () => {
    const refused = (body: unknown) => {
      try {
        parsePredictRequest(body, schema);
      } catch (error) {
        return { status: (error as AiIntegrationError).httpStatus, message: (error as Error).message };
      }
      throw new Error('no error');
    };
    expect(refused({ instances: [{}, { image: { b64: '%%%' } }] })).toEqual({
      status: 422,
      message: expect.stringMatching(/^instances\[1\]\.image\.b64: is not valid base64/),
    });
    expect(refused({ instances: [{}], parameters: { mask: { b64: '' } } })).toEqual({
      status: 422,
      message: expect.stringMatching(/^parameters\.mask\.b64: is empty/),
    });
  });
});

describe('MODE=vertex instances: converted whole first, run together, failing whole', () => {
  test('an error is located: the instance’s field, the parameter it came from, or the instance', () => {
    const field = locate(new InvalidInputError('strength', '7 is out of range'), 2) as AiIntegrationError;
    expect([field.code, field.message, field.field]).toEqual(['AI_ERR_INVALID_INPUT', 'instances[2].strength: 7 is out of range', 'instances[2].strength']);
    const parameter = locate(new InvalidInputError('strength', '7 is out of range'), 0, new Set(['strength'])) as AiIntegrationError;
    expect(parameter.message).toBe('parameters.strength: 7 is out of range');
    const failure = locate(new AiIntegrationError('AI_ERR_MODEL_FAILED', 'the model reported a failure: no face'), 1) as AiIntegrationError;
    expect([failure.code, failure.httpStatus, failure.message]).toEqual(['AI_ERR_MODEL_FAILED', 500, 'instances[1]: the model reported a failure: no face']);
    const bug = new TypeError('x is undefined');
    expect(locate(bug, 0)).toBe(bug);
  });

  test('conversion stops at the first refused instance, before anything runs', async () => {
    const seen: unknown[] = [];
    const instances = [
      { raw: { n: 1 }, fromParameters: new Set<string>() },
      { raw: { n: -1 }, fromParameters: new Set<string>() },
      { raw: { n: 2 }, fromParameters: new Set<string>() },
    ];
    const convert = async (raw: Record<string, unknown>) => {
      seen.push(raw.n);
      if ((raw.n as number) < 0) throw new InvalidInputError('n', 'must be positive');
      return raw.n;
    };
    await expect(convertInstances(instances, convert)).rejects.toThrow('instances[1].n: must be positive');
    expect(seen).toEqual([1, -1]);
  });

  test('every instance runs, results in order; one failure fails the request with the first failing index, after all settled', async () => {
    vi.useFakeTimers();
    try {
      const finished: number[] = [];
      const run = async (n: number) => {
        await new Promise((resolve) => setTimeout(resolve, (3 - n) * 5));
        finished.push(n);
        if (n === 1 || n === 2) throw new AiIntegrationError('AI_ERR_MODEL_FAILED', `failed ${n}`);
        return n * 10;
      };
      const succeeding = runInstances([0, 3], run);
      await vi.runAllTimersAsync();
      expect(await succeeding).toEqual([0, 30]);
      expect(finished).toEqual([3, 0]);
      finished.length = 0;
      let finishedWhenItFailed: number[] = [];
      const failing = runInstances([0, 1, 2, 3], run).catch((caught: unknown) => {
        finishedWhenItFailed = [...finished];
        throw caught;
      });
      const failed = expect(failing).rejects.toThrow('instances[1]: failed 1');
      await vi.runAllTimersAsync();
      await failed;
      expect(finishedWhenItFailed.sort()).toEqual([0, 1, 2, 3]);
    } finally {
      vi.useRealTimers();
    }
  });
});
