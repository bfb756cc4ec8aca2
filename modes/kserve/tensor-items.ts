import { decodeBinaryText } from '../../src/inputs/binary-value.js';
import { describeType } from '../../src/inputs/schema.js';
import { isPlainObject, setOwn } from '../../src/inputs/safe-record.js';
import type { InputSpec, InputsSchema } from '../../src/types.js';
import { formatShape, plural } from './_text.js';
import { readBytesElements } from './binary-extension.js';
import { datatypesFor, elementSize, jsonElementProblem, readFixedElements, type FixedDatatype, type TensorDatatype } from './datatypes.js';
import { OpenInferenceError, tensorError } from './errors.js';
import { outputTensor } from './metadata.js';

// What both transports of the Open Inference Protocol share once a request's tensors are read
// (REST's JSON or binary data, gRPC's typed or raw contents): the checks of a tensor against the
// schema, its elements as the model's inputs, the batch items, the model's options and the outputs.

/** An output the response carries, and whether as binary data (REST's binary tensor extension, gRPC's raw_output_contents). */
export interface RequestedOutput {
  name: string;
  binary: boolean;
}

/** An inference request, decoded and checked, as raw inputs objects for the model. */
export interface InferRequest {
  /** The request's `id`, to echo. */
  id: string | undefined;
  /** One raw inputs object per batch item, in order: its tensors' elements, then the request parameters. */
  items: Record<string, unknown>[];
  outputs: RequestedOutput[];
}

/** An input tensor's elements, flat, in row-major order, as the model's input takes them. */
export interface DecodedTensor {
  name: string;
  shape: number[];
  values: unknown[];
  spec: InputSpec | undefined;
}

// Parameters of the binary tensor extension: the protocol's business, not the model's.
const extensionParameters = new Set(['binary_data_output']);
const maxRank = 64;

/** The schema's input of this name, if it has one. */
export function specOf(schema: InputsSchema, name: string): InputSpec | undefined {
  return Object.hasOwn(schema, name) ? schema[name] : undefined;
}

/** Returns the element count, once the shape is a list of non-negative integers of at most 64 dimensions. */
export function checkShape(name: string, shape: unknown): number {
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

/** Refuses a datatype the schema's input does not take (a number input takes any numeric tensor). */
export function checkDatatypeFits(name: string, datatype: TensorDatatype, spec: InputSpec | undefined): void {
  if (!spec) return;
  const accepted = datatypesFor(spec.type);
  if (!accepted.includes(datatype)) {
    throw tensorError(
      'input',
      name,
      `datatype ${datatype} does not fit the model's ${spec.type} input; send ${accepted.length === 1 ? accepted[0] : `${accepted[0]} (or ${accepted.slice(1).join(', ')})`}`,
    );
  }
}

/**
 * The elements of one tensor's binary data: BYTES elements each a 4-byte little-endian length
 * then the bytes; fixed-size elements little-endian, exactly as many as the shape says.
 */
export function readTensorBytes(name: string, datatype: TensorDatatype, count: number, data: Buffer, what: string): unknown[] {
  if (datatype === 'BYTES') return readBytesElements(name, data, count);
  const expected = count * elementSize(datatype);
  if (data.length !== expected) {
    throw tensorError(
      'input',
      name,
      `its ${what} is ${plural(data.length, 'byte')}, but its shape calls for ${plural(count, `${datatype} element`)} of ${plural(elementSize(datatype), 'byte')}, ${plural(expected, 'byte')} in all`,
    );
  }
  const values = readFixedElements(datatype as FixedDatatype, data, count);
  if ('problem' in values) throw tensorError('input', name, values.problem);
  return values;
}

/** Checks each element against the datatype (JSON data, gRPC's typed contents). */
export function checkElements(name: string, datatype: TensorDatatype, values: readonly unknown[]): void {
  for (const [index, value] of values.entries()) {
    const problem = jsonElementProblem(datatype, value);
    if (problem) throw tensorError('input', name, `element ${index} is ${describeType(value)}; ${problem}`);
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * An element as the schema input takes it: base64 (JSON) or bytes (binary) for image and file
 * inputs; JSON text for json inputs; UTF-8 text for text and choice inputs.
 */
export function toInputValue(name: string, spec: InputSpec, value: unknown, element: number): unknown {
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

/** A decoded tensor whose elements are what the schema's input takes. */
export function decodedTensor(name: string, shape: number[], values: unknown[], spec: InputSpec | undefined): DecodedTensor {
  return { name, shape, values: spec ? values.map((value, element) => toInputValue(name, spec, value, element)) : values, spec };
}

/**
 * The request as the model's batch items: every tensor split along its first dimension, the
 * request's parameters as options on every item, and the outputs to answer. A tensor given twice,
 * a parameter that names a tensor, or batch sizes that disagree are refused naming the tensor.
 */
export function inferRequest(
  id: string | undefined,
  tensors: readonly DecodedTensor[],
  parameters: Record<string, unknown>,
  outputs: readonly unknown[] | undefined,
  binaryDefault: boolean,
): InferRequest {
  const seen = new Set<string>();
  for (const tensor of tensors) {
    if (seen.has(tensor.name)) throw tensorError('input', tensor.name, 'is given twice');
    seen.add(tensor.name);
  }
  return { id, items: batchItems(tensors, modelOptions(parameters, seen)), outputs: requestedOutputs(outputs, binaryDefault) };
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

/** The request parameter `binary_data_output`: whether outputs come as binary data unless an output says otherwise. */
export function binaryOutputParameter(parameters: Record<string, unknown>, otherwise: boolean): boolean {
  const value = parameters.binary_data_output;
  if (value !== undefined && typeof value !== 'boolean')
    throw new OpenInferenceError(400, `parameters.binary_data_output must be true or false, got ${describeType(value)}`);
  return value ?? otherwise;
}

function requestedOutputs(outputs: readonly unknown[] | undefined, binaryDefault: boolean): RequestedOutput[] {
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
