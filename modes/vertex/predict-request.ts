import { decodeBinaryText, isB64 } from '../../src/inputs/binary-value.js';
import { AiIntegrationError } from '../../src/errors.js';
import { describeType, soleInput } from '../../src/inputs/schema.js';
import { isPlainObject, setOwn } from '../../src/inputs/safe-record.js';
import type { InputsSchema } from '../../src/types.js';

/** One instance of a predict request: its raw inputs, `parameters` merged in. */
export interface VertexInstance {
  raw: Record<string, unknown>;
  /** The inputs whose value came from `parameters` (the instance gave none), so that an error names the right place. */
  fromParameters: ReadonlySet<string>;
}

const expected = '{"instances": [...], "parameters": {...}}';

/**
 * Decodes Vertex AI's predict body, `{"instances": [...], "parameters": {...}}`, into one raw
 * inputs object per instance, in order. An instance is an inputs object; for a model with one
 * input (or one that must be given) it may also be that input's bare value. `parameters` are
 * model options merged into every instance; an instance's own value wins. A value `{"b64": "..."}`
 * is binary (Vertex's convention); image and file inputs also take plain base64 and data: URLs.
 * A body of another shape is a 400 that says what was expected.
 */
export function parsePredictRequest(body: unknown, schema: InputsSchema): VertexInstance[] {
  if (!isPlainObject(body)) throw malformed(`expected ${expected}, got ${describeType(body)}`);
  const { instances, parameters = null } = body;
  if (instances === undefined && 'inputs' in body) throw malformed(`Vertex AI sends ${expected}, not {"inputs": ...}; put each inputs object in "instances"`);
  if (!Array.isArray(instances))
    throw malformed(`"instances" must be an array, got ${instances === undefined ? 'nothing' : describeType(instances)}; expected ${expected}`);
  if (instances.length === 0) throw malformed('"instances" is empty; send at least one instance');
  if (parameters !== null && !isPlainObject(parameters)) throw malformed(`"parameters" must be an object of model options, got ${describeType(parameters)}`);
  const shared: [string, unknown][] = Object.entries(parameters ?? {}).map(([name, value]) => [name, unwrap(value, `parameters.${name}`)]);
  return instances.map((instance: unknown, index) => {
    const raw = instanceInputs(instance, index, schema);
    const fromParameters = new Set<string>();
    for (const [name, value] of shared) {
      if (Object.hasOwn(raw, name)) continue;
      setOwn(raw, name, value);
      fromParameters.add(name);
    }
    return { raw, fromParameters };
  });
}

function instanceInputs(instance: unknown, index: number, schema: InputsSchema): Record<string, unknown> {
  if (isPlainObject(instance) && !isB64(instance)) {
    const raw: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(instance)) setOwn(raw, name, unwrap(value, `instances[${index}].${name}`));
    return raw;
  }
  const sole = soleInput(schema);
  if (sole === undefined) {
    const names = Object.keys(schema);
    throw malformed(
      `instances[${index}] is ${describeType(instance)}, but this model has ${names.length === 0 ? 'no inputs' : `several inputs (${names.join(', ')})`}; send an object of input names to values`,
    );
  }
  const raw: Record<string, unknown> = {};
  setOwn(raw, sole, unwrap(instance, `instances[${index}]`));
  return raw;
}

function unwrap(value: unknown, where: string): unknown {
  return isPlainObject(value) && isB64(value) ? decodeBinaryText(`${where}.b64`, value.b64) : value;
}

function malformed(message: string): AiIntegrationError {
  return new AiIntegrationError('AI_ERR_MALFORMED_INPUT', message);
}
