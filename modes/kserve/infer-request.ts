import { decodeBinaryText } from '../../src/inputs/binary-value.js';
import { describeType, soleInput } from '../../src/inputs/schema.js';
import type { InputSpec, InputsSchema } from '../../src/types.js';
import { parseJsonBody } from './_json-body.js';
import { isPlainObject, setOwn } from '../../src/inputs/safe-record.js';
import { formatShape, plural } from './_text.js';
import { readBytesElements, splitBody } from './binary-extension.js';
import {
  datatypesFor,
  elementSize,
  isTensorDatatype,
  jsonElementProblem,
  readFixedElements,
  tensorDatatypes,
  type FixedDatatype,
  type TensorDatatype,
} from './datatypes.js';
import { OpenInferenceError, tensorError } from './errors.js';
import { outputTensor } from './metadata.js';

/** An output the response carries, and whether as binary data (the binary tensor extension). */
export interface RequestedOutput {
  name: string;
  binary: boolean;
}

/** A V2 inference request, decoded and checked, as raw inputs objects for the model. */
export interface InferRequest {
  /** The request's `id`, to echo. */
  id: string | undefined;
  /** One raw inputs object per batch item, in order: its tensors' elements, then the request parameters. */
  items: Record<string, unknown>[];
  outputs: RequestedOutput[];
}

/** An input tensor's elements, flat, in row-major order. */
interface DecodedTensor {
  name: string;
  shape: number[];
  values: unknown[];
  spec: InputSpec | undefined;
}

// Parameters of the binary tensor extension: the protocol's business, not the model's.
const extensionParameters = new Set(['binary_data_output']);
const maxRank = 64;

/**
 * Decodes `POST /v2/models/{name}/infer`: a JSON body, or a JSON header followed by binary tensor
 * data (Inference-Header-Content-Length), or, with that header at 0, the raw data of the model's
 * one input. A batch of N along every tensor's first dimension becomes N inputs objects; request
 * `parameters` go to every item as model options. Throws `OpenInferenceError` (400) naming the
 * tensor for anything malformed.
 */
export function parseInferRequest(body: Buffer, headerLength: string | string[] | undefined, schema: InputsSchema): InferRequest {
  const split = splitBody(body, headerLength);
  if (split.raw) return rawRequest(split.binary!, schema);
  const request = parseHeader(split.header, split.binary !== undefined);
  const { inputs, outputs, parameters, id } = request;
  const binary = { data: split.binary, offset: 0 };
  const seen = new Set<string>();
  const tensors: DecodedTensor[] = [];
  for (const [index, input] of inputs.entries()) {
    const tensor = decodeTensor(input, index, schema, binary);
    if (seen.has(tensor.name)) throw tensorError('input', tensor.name, 'is given twice');
    seen.add(tensor.name);
    tensors.push(tensor);
  }
  if (binary.data && binary.offset !== binary.data.length) {
    throw new OpenInferenceError(
      400,
      `${plural(binary.data.length - binary.offset, 'byte')} of binary data follow the last tensor's binary_data_size; the binary_data_size of the input tensors must add up to the body's length after the JSON header (Inference-Header-Content-Length)`,
    );
  }
  const options = modelOptions(parameters, seen);
  return {
    id,
    items: batchItems(tensors, options),
    outputs: requestedOutputs(outputs, binaryOutputDefault(parameters)),
  };
}

interface RequestHeader {
  id: string | undefined;
  parameters: Record<string, unknown>;
  inputs: unknown[];
  outputs: unknown[] | undefined;
}

function parseHeader(header: Buffer, hasBinary: boolean): RequestHeader {
  const what = hasBinary ? `the JSON header (the first ${plural(header.length, 'byte')}, as Inference-Header-Content-Length says)` : 'the body';
  const request = parseJsonBody(header, what, 'an inference request {"inputs": [...]}');
  if (!isPlainObject(request)) throw new OpenInferenceError(400, `expected an inference request {"inputs": [...]}, got ${describeType(request)}`);
  const { id, parameters, inputs, outputs } = request;
  if (id !== undefined && typeof id !== 'string') throw new OpenInferenceError(400, `"id" must be a string, got ${describeType(id)}`);
  if (parameters !== undefined && !isPlainObject(parameters))
    throw new OpenInferenceError(400, `"parameters" must be an object, got ${describeType(parameters)}`);
  if (!Array.isArray(inputs))
    throw new OpenInferenceError(400, `"inputs" must be an array of input tensors, got ${inputs === undefined ? 'nothing' : describeType(inputs)}`);
  if (outputs !== undefined && !Array.isArray(outputs))
    throw new OpenInferenceError(400, `"outputs" must be an array of requested outputs, got ${describeType(outputs)}`);
  return { id, parameters: parameters ?? {}, inputs, outputs };
}

function decodeTensor(input: unknown, index: number, schema: InputsSchema, binary: { data: Buffer | undefined; offset: number }): DecodedTensor {
  if (!isPlainObject(input))
    throw new OpenInferenceError(400, `inputs[${index}] must be an input tensor {name, shape, datatype, data}, got ${describeType(input)}`);
  const { name, shape, datatype, parameters, data } = input;
  if (typeof name !== 'string' || name === '')
    throw new OpenInferenceError(400, `inputs[${index}] needs a "name" (a non-empty string), got ${describeType(name)}`);
  if (!isTensorDatatype(datatype)) {
    throw tensorError(
      'input',
      name,
      `"datatype" must be one of ${tensorDatatypes.join(', ')}, got ${datatype === undefined ? 'nothing' : describeType(datatype)}`,
    );
  }
  const count = checkShape(name, shape);
  const dims = shape as number[];
  const spec = Object.hasOwn(schema, name) ? schema[name] : undefined;
  if (spec) {
    const accepted = datatypesFor(spec.type);
    if (!accepted.includes(datatype)) {
      throw tensorError(
        'input',
        name,
        `datatype ${datatype} does not fit the model's ${spec.type} input; send ${accepted.length === 1 ? accepted[0] : `${accepted[0]} (or ${accepted.slice(1).join(', ')})`}`,
      );
    }
  }
  if (parameters !== undefined && !isPlainObject(parameters))
    throw tensorError('input', name, `"parameters" must be an object, got ${describeType(parameters)}`);
  if (parameters && 'shared_memory_region' in parameters)
    throw tensorError('input', name, 'shared memory (shared_memory_region) is not supported; send "data" or binary data');
  const binarySize = parameters?.binary_data_size;
  let values: unknown[];
  if (binarySize !== undefined) {
    if (data !== undefined) throw tensorError('input', name, 'has both "data" and parameters.binary_data_size; send one');
    values = readBinaryTensor(name, datatype, count, binarySize, binary);
  } else {
    if (!Array.isArray(data))
      throw tensorError(
        'input',
        name,
        `"data" must be an array of its elements, got ${data === undefined ? 'nothing (nor parameters.binary_data_size)' : describeType(data)}`,
      );
    values = readJsonTensor(name, datatype, dims, count, data);
  }
  return { name, shape: dims, values: spec ? values.map((value, element) => toInputValue(name, spec, value, element)) : values, spec };
}

// Returns the element count, once the shape is a list of non-negative integers.
function checkShape(name: string, shape: unknown): number {
  if (!Array.isArray(shape) || !shape.every((dimension) => Number.isSafeInteger(dimension) && (dimension as number) >= 0)) {
    throw tensorError(
      'input',
      name,
      `"shape" must be an array of non-negative integers, got ${shape === undefined ? 'nothing' : JSON.stringify(shape).slice(0, 100)}`,
    );
  }
  if (shape.length > maxRank) throw tensorError('input', name, `its shape has ${shape.length} dimensions; at most ${maxRank} are accepted`);
  let count = 1;
  for (const dimension of shape as number[]) {
    count *= dimension;
    if (count > Number.MAX_SAFE_INTEGER)
      throw tensorError('input', name, `its shape ${formatShape(shape as number[])} has more elements than any request can carry`);
  }
  return count;
}

function readBinaryTensor(
  name: string,
  datatype: TensorDatatype,
  count: number,
  size: unknown,
  binary: { data: Buffer | undefined; offset: number },
): unknown[] {
  if (!Number.isSafeInteger(size) || (size as number) < 0)
    throw tensorError('input', name, `parameters.binary_data_size must be a non-negative integer, got ${describeType(size)}`);
  if (!binary.data) {
    throw tensorError(
      'input',
      name,
      'gives parameters.binary_data_size, but the request has no Inference-Header-Content-Length header saying where the JSON ends and the binary data begins',
    );
  }
  const left = binary.data.length - binary.offset;
  if ((size as number) > left) {
    throw tensorError(
      'input',
      name,
      `its binary_data_size is ${plural(size as number, 'byte')}, but only ${plural(left, 'byte')} of binary data ${left === 1 ? 'is' : 'are'} left after the tensors before it`,
    );
  }
  const data = binary.data.subarray(binary.offset, binary.offset + (size as number));
  binary.offset += size as number;
  if (datatype === 'BYTES') return readBytesElements(name, data, count);
  const expected = count * elementSize(datatype);
  if (data.length !== expected) {
    throw tensorError(
      'input',
      name,
      `its binary_data_size is ${plural(data.length, 'byte')}, but its shape calls for ${plural(count, `${datatype} element`)} of ${plural(elementSize(datatype), 'byte')}, ${plural(expected, 'byte')} in all`,
    );
  }
  const values = readFixedElements(datatype, data, count);
  if ('problem' in values) throw tensorError('input', name, values.problem);
  return values;
}

function readJsonTensor(name: string, datatype: TensorDatatype, shape: number[], count: number, data: unknown[]): unknown[] {
  const values = flatten(name, data, shape);
  if (values.length !== count) {
    throw tensorError('input', name, `its shape ${formatShape(shape)} has ${plural(count, 'element')}, but "data" holds ${values.length}`);
  }
  for (const [index, value] of values.entries()) {
    const problem = jsonElementProblem(datatype, value);
    if (problem) throw tensorError('input', name, `element ${index} is ${describeType(value)}; ${problem}`);
  }
  return values;
}

// Tensor data may be flat or nested as its shape ("natural" form). Iterative, since the nesting
// is the client's to choose; nesting deeper than the shape's rank is refused.
function flatten(name: string, data: unknown[], shape: number[]): unknown[] {
  const out: unknown[] = [];
  const stack: { items: unknown[]; next: number }[] = [{ items: data, next: 0 }];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    if (top.next >= top.items.length) {
      stack.pop();
      continue;
    }
    const item = top.items[top.next++];
    if (Array.isArray(item)) {
      if (stack.length >= Math.max(shape.length, 1))
        throw tensorError('input', name, `"data" nests arrays deeper than its shape ${formatShape(shape)} has dimensions`);
      stack.push({ items: item, next: 0 });
    } else {
      out.push(item);
    }
  }
  return out;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

// The elements as the schema input takes them: base64 (JSON) or bytes (binary) for image and
// file inputs; JSON text for json inputs; UTF-8 text for text and choice inputs.
function toInputValue(name: string, spec: InputSpec, value: unknown, element: number): unknown {
  switch (spec.type) {
    case 'image':
    case 'file':
      // An http(s) URL stays text: the core's conversion fetches it (URL inputs).
      if (typeof value !== 'string' || /^https?:\/\//i.test(value)) return value;
      try {
        return decodeBinaryText(`element ${element}`, value);
      } catch (error) {
        throw tensorError('input', name, `${(error as Error).message} (BYTES elements of ${spec.type} inputs in JSON are base64)`);
      }
    case 'json': {
      const text = Buffer.isBuffer(value) ? decodeText(name, value, element) : (value as string);
      try {
        return JSON.parse(text) as unknown;
      } catch (error) {
        throw tensorError('input', name, `element ${element} is not valid JSON (${(error as Error).message}); the elements of a json input are JSON text`);
      }
    }
    case 'text':
    case 'choice':
      return Buffer.isBuffer(value) ? decodeText(name, value, element) : value;
    default:
      return value;
  }
}

function decodeText(name: string, bytes: Buffer, element: number): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw tensorError('input', name, `element ${element} (${plural(bytes.length, 'byte')}) is not valid UTF-8 text`);
  }
}

// The request's parameters, as options every item gets. One that names an input tensor of the
// request would be ambiguous.
function modelOptions(parameters: Record<string, unknown>, tensors: ReadonlySet<string>): [string, unknown][] {
  const options: [string, unknown][] = [];
  for (const [name, value] of Object.entries(parameters)) {
    if (extensionParameters.has(name)) continue;
    if (tensors.has(name)) throw tensorError('input', name, `is given both as an input tensor and as a request parameter; send one`);
    options.push([name, value]);
  }
  return options;
}

function batchItems(tensors: readonly DecodedTensor[], options: readonly [string, unknown][]): Record<string, unknown>[] {
  let batch: { size: number; tensor: string } | undefined;
  for (const tensor of tensors) {
    if (tensor.shape.length === 0) {
      throw tensorError('input', tensor.name, 'its shape [] has no batch dimension; the first dimension is the batch size (send [1] for one value)');
    }
    const size = tensor.shape[0]!;
    if (tensor.spec && tensor.values.length !== size) {
      throw tensorError(
        'input',
        tensor.name,
        `its shape ${formatShape(tensor.shape)} gives ${plural(tensor.values.length / size, 'element')} per batch item; each input takes one value per item (shape [N] or [N, 1])`,
      );
    }
    if (batch && batch.size !== size) {
      const sizes = tensors.map((each) => `'${each.name}' has ${each.shape[0] ?? 'none'}`).join(', ');
      throw new OpenInferenceError(
        400,
        `input tensors '${batch.tensor}' and '${tensor.name}' disagree on the batch size, the first dimension of their shapes (${sizes}); every input tensor needs the same`,
        tensor.name,
      );
    }
    batch ??= { size, tensor: tensor.name };
  }
  const size = batch?.size ?? 1;
  if (size === 0) throw new OpenInferenceError(400, `the batch is empty: the input tensors' first dimension is 0`, batch?.tensor);
  const items: Record<string, unknown>[] = [];
  for (let item = 0; item < size; item++) {
    const inputs: Record<string, unknown> = {};
    for (const [name, value] of options) setOwn(inputs, name, value);
    for (const tensor of tensors) setOwn(inputs, tensor.name, tensor.spec ? tensor.values[item] : itemOf(tensor, item, size));
    items.push(inputs);
  }
  return items;
}

// An unlisted tensor passes through as numpy's x[item]: a value for shape [N], nested arrays of
// the remaining dimensions otherwise.
function itemOf(tensor: DecodedTensor, item: number, size: number): unknown {
  const rest = tensor.shape.slice(1);
  if (rest.length === 0) return tensor.values[item];
  const perItem = tensor.values.length / size;
  return nest(tensor.values.slice(item * perItem, (item + 1) * perItem), rest);
}

function nest(values: unknown[], shape: readonly number[]): unknown[] {
  if (shape.length <= 1) return values;
  const inner = shape.slice(1);
  const step = values.length / shape[0]!;
  return Array.from({ length: shape[0]! }, (_, index) => nest(values.slice(index * step, (index + 1) * step), inner));
}

function binaryOutputDefault(parameters: Record<string, unknown>): boolean {
  const value = parameters.binary_data_output;
  if (value !== undefined && typeof value !== 'boolean')
    throw new OpenInferenceError(400, `parameters.binary_data_output must be true or false, got ${describeType(value)}`);
  return value ?? false;
}

function requestedOutputs(outputs: unknown[] | undefined, binaryDefault: boolean): RequestedOutput[] {
  if (outputs === undefined || outputs.length === 0) return [{ name: outputTensor, binary: binaryDefault }];
  const requested: RequestedOutput[] = [];
  for (const [index, output] of outputs.entries()) {
    if (!isPlainObject(output) || typeof output.name !== 'string') {
      throw new OpenInferenceError(400, `outputs[${index}] must be a requested output {"name": "${outputTensor}"}, got ${describeType(output)}`);
    }
    const { name, parameters } = output;
    if (name !== outputTensor) throw tensorError('output', name, `is not an output of this model; its one output is '${outputTensor}'`);
    if (requested.some((each) => each.name === name)) throw tensorError('output', name, 'is requested twice');
    if (parameters !== undefined && !isPlainObject(parameters))
      throw tensorError('output', name, `"parameters" must be an object, got ${describeType(parameters)}`);
    for (const unsupported of ['shared_memory_region', 'classification']) {
      if (parameters && unsupported in parameters) throw tensorError('output', name, `parameters.${unsupported} is not supported`);
    }
    const binary = parameters?.binary_data;
    if (binary !== undefined && typeof binary !== 'boolean')
      throw tensorError('output', name, `parameters.binary_data must be true or false, got ${describeType(binary)}`);
    requested.push({ name, binary: binary ?? binaryDefault });
  }
  return requested;
}

// Inference-Header-Content-Length: 0, the whole body is the data of the model's one input: one
// BYTES element as is (no length prefix, as Triton reads it), or fixed-size elements, one per
// batch item. Every output comes back as binary data.
function rawRequest(data: Buffer, schema: InputsSchema): InferRequest {
  const name = soleInput(schema);
  if (name === undefined) {
    const names = Object.keys(schema);
    throw new OpenInferenceError(
      400,
      `a raw binary request (Inference-Header-Content-Length: 0) needs a model with one input, but this model's inputs are ${names.length > 0 ? names.join(', ') : 'none'}; send a JSON header naming the tensors`,
    );
  }
  const spec = schema[name]!;
  const datatype = datatypesFor(spec.type)[0]!;
  const outputs = [{ name: outputTensor, binary: true }];
  if (datatype === 'BYTES') return { id: undefined, items: [{ [name]: toInputValue(name, spec, data, 0) }], outputs };
  const size = elementSize(datatype as FixedDatatype);
  if (data.length === 0 || data.length % size !== 0) {
    throw tensorError(
      'input',
      name,
      `a raw binary request holds its ${datatype} elements, ${plural(size, 'byte')} each, but the body has ${plural(data.length, 'byte')}`,
    );
  }
  const values = readFixedElements(datatype as FixedDatatype, data, data.length / size);
  if ('problem' in values) throw tensorError('input', name, values.problem);
  return { id: undefined, items: values.map((value) => ({ [name]: value })), outputs };
}
