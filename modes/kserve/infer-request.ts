import { liftLongStrings, type LiftedJson } from '../../src/http/json-long-strings.js';
import { describeType, isBinaryType, soleInput } from '../../src/inputs/schema.js';
import type { InputsSchema } from '../../src/types.js';
import { parseJsonBody } from './_json-body.js';
import { isPlainObject } from '../../src/inputs/safe-record.js';
import { formatShape, plural } from './_text.js';
import { splitBody, type SplitBody } from './binary-extension.js';
import { datatypesFor, elementSize, isTensorDatatype, readFixedElements, tensorDatatypes, type FixedDatatype, type TensorDatatype } from './datatypes.js';
import { OpenInferenceError, tensorError } from './errors.js';
import { outputTensor } from './metadata.js';
import {
  checkDatatypeFits,
  checkElements,
  checkShape,
  decodedTensor,
  inferRequest,
  binaryOutputParameter,
  specOf,
  readTensorBytes,
  toInputValue,
  type DecodedTensor,
  type InferRequest,
} from './tensor-items.js';

export type { InferRequest, RequestedOutput } from './tensor-items.js';

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
  // A large JSON body whose image or file elements are base64 is read without a string of them;
  // anything that way does not take whole (or any error) is read again the usual way, which answers it.
  const lifted = split.binary === undefined ? liftLongStrings(split.header) : undefined;
  if (lifted) {
    try {
      const request = decodeRequest(checkHeader(lifted.value), split, schema, lifted);
      if (lifted.allTaken()) return request;
    } catch {
      // the usual way below
    }
  }
  return decodeRequest(parseHeader(split.header, split.binary !== undefined), split, schema, undefined);
}

function decodeRequest(request: RequestHeader, split: SplitBody, schema: InputsSchema, lifted: LiftedJson | undefined): InferRequest {
  const { inputs, outputs, parameters, id } = request;
  const binary = { data: split.binary, offset: 0 };
  const seen = new Set<string>();
  const tensors: DecodedTensor[] = [];
  for (const [index, input] of inputs.entries()) {
    const tensor = decodeTensor(input, index, schema, binary, lifted);
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
  return inferRequest(id, tensors, parameters, outputs, binaryOutputParameter(parameters, false));
}

interface RequestHeader {
  id: string | undefined;
  parameters: Record<string, unknown>;
  inputs: unknown[];
  outputs: unknown[] | undefined;
}

function parseHeader(header: Buffer, hasBinary: boolean): RequestHeader {
  const what = hasBinary ? `the JSON header (the first ${plural(header.length, 'byte')}, as Inference-Header-Content-Length says)` : 'the body';
  return checkHeader(parseJsonBody(header, what, 'an inference request {"inputs": [...]}'));
}

function checkHeader(request: unknown): RequestHeader {
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

function decodeTensor(
  input: unknown,
  index: number,
  schema: InputsSchema,
  binary: { data: Buffer | undefined; offset: number },
  lifted: LiftedJson | undefined,
): DecodedTensor {
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
  const spec = specOf(schema, name);
  checkDatatypeFits(name, datatype, spec);
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
    // Base64 elements of an image or file input left out of the parsed text: their bytes, decoded from the body.
    if (lifted && spec && isBinaryType(spec.type)) values = values.map((value) => (lifted.isLifted(value) ? takeLifted(lifted, value) : value));
  }
  return decodedTensor(name, dims, values, spec);
}

function takeLifted(lifted: LiftedJson, value: string): Buffer {
  const bytes = lifted.take(value);
  if (bytes === undefined) throw new Error('left to the usual reading');
  return bytes;
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
  return readTensorBytes(name, datatype, count, data, 'binary_data_size');
}

function readJsonTensor(name: string, datatype: TensorDatatype, shape: number[], count: number, data: unknown[]): unknown[] {
  const values = flatten(name, data, shape);
  if (values.length !== count) {
    throw tensorError('input', name, `its shape ${formatShape(shape)} has ${plural(count, 'element')}, but "data" holds ${values.length}`);
  }
  checkElements(name, datatype, values);
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
