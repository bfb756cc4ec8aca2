import { AiIntegrationError } from '../../src/errors.js';
import { isOutputFile, isOutputResult, type OutputFile, type OutputResult } from '../../src/result/output-fields.js';
import { parseMediaType } from '../../src/media-type.js';
import type { FieldsOutputDescription, InferenceResult, OutputDescription, OutputFieldDescription } from '../../src/types.js';
import { writeBytesElements } from './binary-extension.js';
import type { ParameterValue } from './metadata.js';

/**
 * One output tensor of a structured output's field, across a batch (the first dimension): the
 * protocol-neutral form that REST and gRPC each encode.
 * - a file: BYTES `[n]`, its bytes, `content_type` its media type; a list of files: BYTES `[n, k]`;
 * - a boolean: BOOL `[n]`; a number: FP64 `[n]`, or INT64 where the output description says
 *   `integer` (JSON numbers are doubles, so only a declared type makes them integers);
 * - a string: BYTES `[n]`, its UTF-8 text, `content_type` text/plain;
 * - anything else (null, objects, arrays, or items of different kinds): BYTES `[n]`, its JSON text,
 *   `content_type` application/json.
 */
export type FieldTensor =
  | { name: string; datatype: 'BYTES'; shape: number[]; parameters: Record<string, ParameterValue>; elements: Buffer[]; text: boolean }
  | { name: string; datatype: 'FP64' | 'INT64'; shape: number[]; parameters: Record<string, ParameterValue>; values: number[] }
  | { name: string; datatype: 'BOOL'; shape: number[]; parameters: Record<string, ParameterValue>; values: boolean[] };

/** The tensors of a batch of structured outputs, one per field in the order of the first item's fields. */
export function fieldTensors(outputs: readonly OutputResult[], described?: FieldsOutputDescription): FieldTensor[] {
  const names = Object.keys(outputs[0]!.data);
  outputs.forEach((output, index) => {
    const other = Object.keys(output.data);
    if (other.length !== names.length || other.some((name) => !names.includes(name))) {
      throw new AiIntegrationError(
        'AI_ERR_INVALID_RESULT',
        `batch item ${index} has the fields ${other.join(', ')} where item 0 has ${names.join(', ')}; every item of a batch has the same fields (one tensor each)`,
      );
    }
  });
  return names.map((name) => fieldTensor(name, outputs, described?.fields[name]));
}

function fieldTensor(name: string, outputs: readonly OutputResult[], described: OutputFieldDescription | undefined): FieldTensor {
  const values = outputs.map((output) => output.data[name]);
  const n = values.length;
  if (values.every(isOutputFile)) {
    const files = values as OutputFile[];
    return { name, datatype: 'BYTES', shape: [n], parameters: contentTypes(files), elements: files.map((file) => asBuffer(file.data)), text: false };
  }
  if (values.every((value) => Array.isArray(value) && value.length > 0 && value.every(isOutputFile))) {
    const lists = values as OutputFile[][];
    const k = lists[0]!.length;
    if (lists.some((list) => list.length !== k)) {
      throw new AiIntegrationError(
        'AI_ERR_INVALID_RESULT',
        `field ${JSON.stringify(name)} holds lists of files of different lengths in one batch; a tensor needs one shape`,
      );
    }
    const files = lists.flat();
    return { name, datatype: 'BYTES', shape: [n, k], parameters: contentTypes(files), elements: files.map((file) => asBuffer(file.data)), text: false };
  }
  if (values.every((value) => typeof value === 'boolean')) return { name, datatype: 'BOOL', shape: [n], parameters: {}, values: values as boolean[] };
  if (values.every((value) => typeof value === 'number')) {
    const integer = described?.type === 'json' && described.schema?.type === 'integer' && values.every((value) => Number.isSafeInteger(value));
    return { name, datatype: integer ? 'INT64' : 'FP64', shape: [n], parameters: {}, values: values as number[] };
  }
  if (values.every((value) => typeof value === 'string')) {
    return {
      name,
      datatype: 'BYTES',
      shape: [n],
      parameters: { content_type: 'text/plain' },
      elements: values.map((value) => Buffer.from(value as string, 'utf8')),
      text: true,
    };
  }
  return {
    name,
    datatype: 'BYTES',
    shape: [n],
    parameters: { content_type: 'application/json' },
    elements: values.map((value) => Buffer.from(JSON.stringify(value) ?? 'null', 'utf8')),
    text: true,
  };
}

// One media type for the tensor, or the list of them as JSON text when its files differ.
function contentTypes(files: readonly OutputFile[]): Record<string, ParameterValue> {
  const types = files.map((file) => parseMediaType(file['content-type']) ?? file['content-type']);
  if (types.every((type) => type === types[0])) return { content_type: types[0]! };
  return { content_types: JSON.stringify(types) };
}

/** A tensor's elements in JSON: numbers and booleans as they are; BYTES as text, or base64 for files. */
export function jsonElements(tensor: FieldTensor): (string | number | boolean)[] {
  if (tensor.datatype !== 'BYTES') return tensor.values;
  return tensor.elements.map((element) => element.toString(tensor.text ? 'utf8' : 'base64'));
}

/** A tensor's elements as raw bytes (the binary extension, gRPC's raw contents): little-endian, BYTES length-prefixed. */
export function rawElements(tensor: FieldTensor): Buffer {
  switch (tensor.datatype) {
    case 'BYTES':
      return writeBytesElements(tensor.elements);
    case 'BOOL':
      return Buffer.from(tensor.values.map((value) => (value ? 1 : 0)));
    case 'FP64': {
      const raw = Buffer.allocUnsafe(tensor.values.length * 8);
      for (const [index, value] of tensor.values.entries()) raw.writeDoubleLE(value, index * 8);
      return raw;
    }
    case 'INT64': {
      const raw = Buffer.allocUnsafe(tensor.values.length * 8);
      for (const [index, value] of tensor.values.entries()) raw.writeBigInt64LE(BigInt(value), index * 8);
      return raw;
    }
  }
}

/** The declared output tensors of a structured output, for the model's metadata. */
export function describedFieldTensors(
  described: FieldsOutputDescription,
): { name: string; datatype: 'BYTES' | 'FP64' | 'INT64' | 'BOOL'; shape: number[]; parameters?: Record<string, ParameterValue> }[] {
  return Object.entries(described.fields).map(([name, field]) => {
    if (field.type !== 'json') {
      const mediaType = field.mediaType ?? (field.type === 'image' ? undefined : 'application/octet-stream');
      return { name, datatype: 'BYTES', shape: field.list ? [-1, -1] : [-1], ...(mediaType ? { parameters: { content_type: mediaType } } : {}) };
    }
    const type = field.schema?.type;
    if (type === 'boolean') return { name, datatype: 'BOOL', shape: [-1] };
    if (type === 'integer') return { name, datatype: 'INT64', shape: [-1] };
    if (type === 'number') return { name, datatype: 'FP64', shape: [-1] };
    return { name, datatype: 'BYTES', shape: [-1], parameters: { content_type: type === 'string' ? 'text/plain' : 'application/json' } };
  });
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * The batch's structured outputs, when its results are structured (`output(fields)`); undefined
 * when none is. A batch that mixes both has no one set of tensors: an invalid result.
 */
export function structuredOutputs(results: readonly Pick<InferenceResult, 'data'>[]): OutputResult[] | undefined {
  const count = results.filter((result) => isOutputResult(result)).length;
  if (count === 0) return undefined;
  if (count !== results.length) {
    throw new AiIntegrationError(
      'AI_ERR_INVALID_RESULT',
      'the batch mixes structured outputs (output(fields)) with single results; a response has one set of output tensors',
    );
  }
  return results as unknown as OutputResult[];
}

/** The output description when it describes a structured output's fields. */
export function describedFields(output: OutputDescription | undefined): FieldsOutputDescription | undefined {
  return output?.type === 'fields' ? output : undefined;
}
