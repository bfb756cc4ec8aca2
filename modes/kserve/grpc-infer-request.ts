import { setOwn } from '../../src/inputs/safe-record.js';
import type { InputsSchema } from '../../src/types.js';
import { formatShape, plural } from './_text.js';
import { isTensorDatatype, tensorDatatypes, type TensorDatatype } from './datatypes.js';
import { OpenInferenceError, tensorError } from './errors.js';
import type { InferInputTensorMessage, InferParameterMessage, ModelInferRequestMessage, TensorContentsMessage } from './grpc-proto.js';
import {
  binaryOutputParameter,
  checkDatatypeFits,
  checkElements,
  checkShape,
  decodedTensor,
  inferRequest,
  readTensorBytes,
  specOf,
  type DecodedTensor,
  type InferRequest,
} from './tensor-items.js';

/** The InferTensorContents field that holds each datatype's elements; FP16 and BF16 have none (raw only). */
const contentsFields: Record<TensorDatatype, keyof TensorContentsMessage | undefined> = {
  BOOL: 'bool_contents',
  INT8: 'int_contents',
  INT16: 'int_contents',
  INT32: 'int_contents',
  INT64: 'int64_contents',
  UINT8: 'uint_contents',
  UINT16: 'uint_contents',
  UINT32: 'uint_contents',
  UINT64: 'uint64_contents',
  FP16: undefined,
  BF16: undefined,
  FP32: 'fp32_contents',
  FP64: 'fp64_contents',
  BYTES: 'bytes_contents',
};

/**
 * Decodes a ModelInferRequest as REST's decoder does a JSON body: each input tensor's elements
 * from its typed `contents`, or from `raw_input_contents` (Triton's convention: one entry per
 * input, in order, little-endian; BYTES elements each a 4-byte length then the bytes), checked
 * against the schema, then split into batch items with the request's parameters as options.
 * Outputs come back raw when the inputs came raw (as Triton answers), or as
 * `binary_data_output`/`binary_data` say. Throws `OpenInferenceError` naming the tensor.
 */
export function decodeGrpcInferRequest(message: ModelInferRequestMessage, schema: InputsSchema): InferRequest {
  const inputs = message.inputs ?? [];
  const raw = message.raw_input_contents ?? [];
  if (raw.length > 0 && raw.length !== inputs.length) {
    throw new OpenInferenceError(
      400,
      `raw_input_contents has ${plural(raw.length, 'entry', 'entries')}, but the request has ${plural(inputs.length, 'input tensor')}; send one entry per input tensor, in the order of inputs`,
    );
  }
  const tensors = inputs.map((input, index) => decodeTensor(input, index, raw.length > 0 ? raw[index]! : undefined, schema));
  const parameters = parametersOf(message.parameters, 'the request');
  const outputs = (message.outputs ?? []).map((output) => ({
    name: output.name ?? '',
    parameters: parametersOf(output.parameters, `output tensor '${output.name}'`),
  }));
  return inferRequest(message.id || undefined, tensors, parameters, outputs, binaryOutputParameter(parameters, raw.length > 0));
}

function decodeTensor(input: InferInputTensorMessage, index: number, raw: Buffer | undefined, schema: InputsSchema): DecodedTensor {
  const { name, datatype } = input;
  if (!name) throw new OpenInferenceError(400, `inputs[${index}] needs a name`);
  if (!isTensorDatatype(datatype)) {
    throw tensorError('input', name, `its datatype must be one of ${tensorDatatypes.join(', ')}, got ${datatype ? JSON.stringify(datatype) : 'nothing'}`);
  }
  // 64-bit dimensions arrive as decimal text; one past the safe integers fails checkShape's test.
  const shape = (input.shape ?? []).map(Number);
  const count = checkShape(name, shape);
  const spec = specOf(schema, name);
  checkDatatypeFits(name, datatype, spec);
  const parameters = parametersOf(input.parameters, `input tensor '${name}'`);
  if ('shared_memory_region' in parameters) {
    throw tensorError('input', name, 'shared memory (shared_memory_region) is not supported; send contents or raw_input_contents');
  }
  const typed = typedField(input.contents);
  let values: unknown[];
  if (raw) {
    if (typed) throw tensorError('input', name, `has both contents (${typed}) and a raw_input_contents entry; send one`);
    values = readTensorBytes(name, datatype, count, raw, 'raw_input_contents entry');
  } else {
    values = typedElements(name, datatype, shape, count, input.contents, typed);
  }
  return decodedTensor(name, shape, values, spec);
}

// The one contents field that holds elements, if any; elements in two fields are refused later.
function typedField(contents: TensorContentsMessage | undefined): keyof TensorContentsMessage | undefined {
  if (!contents) return undefined;
  return (Object.keys(contents) as (keyof TensorContentsMessage)[]).find((field) => (contents[field]?.length ?? 0) > 0);
}

function typedElements(
  name: string,
  datatype: TensorDatatype,
  shape: number[],
  count: number,
  contents: TensorContentsMessage | undefined,
  typed: keyof TensorContentsMessage | undefined,
): unknown[] {
  const field = contentsFields[datatype];
  if (field === undefined) {
    throw tensorError('input', name, `${datatype} has no typed contents field; send its elements in raw_input_contents (little-endian, 2 bytes each)`);
  }
  if (typed !== undefined && typed !== field) {
    throw tensorError('input', name, `its elements are in contents.${typed}, but ${datatype} elements go in contents.${field}`);
  }
  const elements: unknown[] = contents?.[field] ?? [];
  if (elements.length !== count) {
    throw tensorError(
      'input',
      name,
      `its shape ${formatShape(shape)} has ${plural(count, 'element')}, but contents.${field} holds ${elements.length}${raw(count, typed)}`,
    );
  }
  if (datatype === 'BYTES') return elements;
  const values =
    field === 'int64_contents' || field === 'uint64_contents' ? elements.map((value, index) => exactInteger(name, value as string, index)) : elements;
  checkElements(name, datatype, values);
  return values;
}

const raw = (count: number, typed: string | undefined) => (count > 0 && typed === undefined ? ' (nor is there a raw_input_contents entry)' : '');

function exactInteger(name: string, text: string, index: number): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) {
    throw tensorError('input', name, `element ${index} is ${text}, beyond the integers a JavaScript number holds exactly (±${Number.MAX_SAFE_INTEGER})`);
  }
  return value;
}

/** A map of InferParameters as plain values: 64-bit integers as numbers where exact, else their text. */
export function parametersOf(map: Record<string, InferParameterMessage> | undefined, where: string): Record<string, unknown> {
  const parameters: Record<string, unknown> = {};
  for (const [key, parameter] of Object.entries(map ?? {})) {
    const choice = parameter.parameter_choice;
    if (choice === undefined)
      throw new OpenInferenceError(
        400,
        `parameter '${key}' of ${where} has no value (set one of bool_param, int64_param, string_param, double_param, uint64_param)`,
      );
    const value = parameter[choice];
    const exact = typeof value === 'string' && (choice === 'int64_param' || choice === 'uint64_param') && Number.isSafeInteger(Number(value));
    setOwn(parameters, key, exact ? Number(value) : value);
  }
  return parameters;
}
