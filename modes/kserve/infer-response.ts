import { isTextual } from '../../src/media-type.js';
import { resultBytes } from '../../src/result/write-result.js';
import { binaryBody, writeBytesElements } from './binary-extension.js';
import { fieldTensors, jsonElements, rawElements, structuredOutputs } from './field-tensors.js';
import type { FieldsOutputDescription, InferenceResult } from '../../src/types.js';
import type { RequestedOutput } from './tensor-items.js';
import type { ParameterValue } from './metadata.js';

/** One model result, as the response encodes it: its media type and its data. */
export interface ModelOutput {
  /** Lower-cased, without parameters: `application/json`, `image/jpeg`, `text/plain`. */
  mediaType: string;
  /** The result's data; an object of fields for a structured output. */
  data: InferenceResult['data'];
  /** The parsed data of a JSON result, when already known. */
  json?: unknown;
}

export interface ResponseOutput {
  name: string;
  datatype: 'BYTES' | 'FP64' | 'INT64' | 'BOOL';
  shape: number[];
  parameters?: Record<string, ParameterValue>;
  data?: (string | number | boolean)[];
}

export interface InferResponse {
  model_name: string;
  model_version?: string;
  id?: string;
  outputs: ResponseOutput[];
}

/** The response to write: JSON, or a JSON header followed by binary tensor data. */
export type EncodedResponse = { binary: false; json: InferResponse } | { binary: true; json: InferResponse; body: Buffer; headerLength: number };

/**
 * Encodes the results of a batch, one BYTES element per item in order. In JSON an element is the
 * result's text for JSON and `text/*` results and base64 for anything else; as binary data
 * (`binary_data`, `binary_data_output`) it is the result's bytes, length-prefixed. The results'
 * media type is the tensor's `content_type` parameter. Structured outputs (`output(fields)`) answer
 * one tensor per field instead (field-tensors.ts).
 */
export function encodeInferResponse(options: {
  model: { name: string; version: string };
  id: string | undefined;
  outputs: readonly RequestedOutput[];
  results: readonly ModelOutput[];
  /** The output description's fields, which type number fields (INT64 for `integer`). */
  described?: FieldsOutputDescription | undefined;
}): EncodedResponse {
  const { model, id, outputs, results } = options;
  const response: InferResponse = { model_name: model.name, model_version: model.version, ...(id === undefined ? {} : { id }), outputs: [] };
  const chunks: Buffer[] = [];
  const structured = structuredOutputs(results);
  if (structured) {
    // The one requested output (`output`) stands for the structured output: each field is a tensor.
    const binary = outputs.some((output) => output.binary);
    for (const field of fieldTensors(structured, options.described)) {
      const tensor: ResponseOutput = { name: field.name, datatype: field.datatype, shape: field.shape };
      if (binary) {
        const chunk = rawElements(field);
        chunks.push(chunk);
        tensor.parameters = { ...field.parameters, binary_data_size: chunk.length };
      } else {
        if (Object.keys(field.parameters).length > 0) tensor.parameters = field.parameters;
        tensor.data = jsonElements(field);
      }
      response.outputs.push(tensor);
    }
    if (chunks.length === 0) return { binary: false, json: response };
    return { binary: true, json: response, ...binaryBody(response, chunks) };
  }
  for (const output of outputs) {
    const tensor: ResponseOutput = { name: output.name, datatype: 'BYTES', shape: [results.length] };
    const parameters = contentTypeParameters(results);
    if (output.binary) {
      const chunk = writeBytesElements(results.map((result) => resultBytes(result)));
      chunks.push(chunk);
      tensor.parameters = { ...parameters, binary_data_size: chunk.length };
    } else {
      if (Object.keys(parameters).length > 0) tensor.parameters = parameters;
      tensor.data = results.map(elementText);
    }
    response.outputs.push(tensor);
  }
  if (chunks.length === 0) return { binary: false, json: response };
  return { binary: true, json: response, ...binaryBody(response, chunks) };
}

// BYTES elements in JSON are strings (the official schema allows no objects in tensor data), so
// a JSON result is its text, which the client parses; binary results are base64.
function elementText(result: ModelOutput): string {
  if (typeof result.data === 'string' && isTextual(result.mediaType)) return result.data;
  const bytes = resultBytes(result);
  return isTextual(result.mediaType) ? bytes.toString('utf8') : bytes.toString('base64');
}

/**
 * The output tensor's parameters: one media type for the whole tensor, or, when the items differ,
 * the list of them as JSON text (parameter values are scalars).
 */
export function contentTypeParameters(results: readonly ModelOutput[]): Record<string, ParameterValue> {
  const types = results.map((result) => result.mediaType);
  if (types.length === 0) return {};
  if (types.every((type) => type === types[0])) return { content_type: types[0]! };
  return { content_types: JSON.stringify(types) };
}
