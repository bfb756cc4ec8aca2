import { decodeBinaryText, isB64 } from '../../src/inputs/binary-value.js';
import { describeType, soleInput } from '../../src/inputs/schema.js';
import type { InputsSchema } from '../../src/types.js';
import { isPlainObject, setOwn } from '../../src/inputs/safe-record.js';
import { OpenInferenceError } from './errors.js';
import { resultValue } from '../../src/result/write-result.js';
import type { ModelOutput } from './infer-response.js';

/**
 * Decodes `POST /v1/models/{name}:predict`, `{"instances": [...]}`: one raw inputs object per
 * instance. An instance is an inputs object, or, for a model with one input, that input's value.
 * Binary values are `{"b64": "..."}` (TensorFlow Serving's convention) or, for image and file
 * inputs, plain base64 strings.
 */
export function parseV1Request(body: unknown, schema: InputsSchema): Record<string, unknown>[] {
  if (!isPlainObject(body)) throw new OpenInferenceError(400, `expected {"instances": [...]}, got ${describeType(body)}`);
  const { instances } = body;
  if (instances === undefined && 'inputs' in body) {
    throw new OpenInferenceError(400, 'the columnar {"inputs": ...} form is not supported; send {"instances": [...]}, one inputs object per instance');
  }
  if (!Array.isArray(instances))
    throw new OpenInferenceError(400, `"instances" must be an array, got ${instances === undefined ? 'nothing' : describeType(instances)}`);
  if (instances.length === 0) throw new OpenInferenceError(400, '"instances" is empty; send at least one instance');
  return instances.map((instance, index) => {
    if (isPlainObject(instance) && !isB64(instance)) {
      const inputs: Record<string, unknown> = {};
      for (const [name, value] of Object.entries(instance)) setOwn(inputs, name, unwrap(value, `instances[${index}].${name}`, name));
      return inputs;
    }
    const sole = soleInput(schema);
    if (sole === undefined) {
      throw new OpenInferenceError(
        400,
        `instances[${index}] is ${describeType(instance)}, but this model has several inputs (${Object.keys(schema).join(', ')}); send an object of input names to values`,
      );
    }
    return { [sole]: unwrap(instance, `instances[${index}]`, sole) };
  });
}

/**
 * `{"predictions": [...]}`, one per instance: a JSON result as its value, text as a string,
 * anything else as `{"b64": "..."}`.
 */
export function encodeV1Response(results: readonly ModelOutput[]): { predictions: unknown[] } {
  return { predictions: results.map(predictionOf) };
}

function predictionOf(result: ModelOutput): unknown {
  return resultValue(result, result.mediaType, (bytes) => ({ b64: bytes.toString('base64') }), result);
}

function unwrap(value: unknown, where: string, field: string): unknown {
  if (!isPlainObject(value) || !isB64(value)) return value;
  try {
    return decodeBinaryText(`${where}.b64`, value.b64);
  } catch (error) {
    throw new OpenInferenceError(400, (error as Error).message, field);
  }
}
