import { resultBytes } from '../../src/result/write-result.js';
import { writeBytesElements } from './binary-extension.js';
import type { InferParameterValue, ModelInferResponseMessage, TensorContentsMessage } from './grpc-proto.js';
import { fieldTensors, rawElements, structuredOutputs, type FieldTensor } from './field-tensors.js';
import type { FieldsOutputDescription } from '../../src/types.js';
import { contentTypeParameters, type ModelOutput } from './infer-response.js';
import type { ParameterValue } from './metadata.js';
import type { RequestedOutput } from './tensor-items.js';

/**
 * A ModelInferResponse: the output tensor of BYTES, one element per batch item in order (each
 * result's bytes; JSON and text as UTF-8), with its media type as REST gives it. Raw outputs go
 * in `raw_output_contents` (Triton's convention: the elements each a 4-byte little-endian length
 * then the bytes); typed ones in `contents.bytes_contents`. The raw entries are indexed like the
 * outputs, so one raw output makes every output raw. A structured output (`output(fields)`) answers
 * one tensor per field (field-tensors.ts), each in the contents of its datatype.
 */
export function encodeGrpcInferResponse(options: {
  model: { name: string; version: string };
  id: string;
  outputs: readonly RequestedOutput[];
  results: readonly ModelOutput[];
  /** The output description's fields, which type number fields (INT64 for `integer`). */
  described?: FieldsOutputDescription | undefined;
}): ModelInferResponseMessage {
  const { model, id, outputs, results } = options;
  const raw = outputs.some((output) => output.binary);
  const structured = structuredOutputs(results);
  if (structured) {
    const response: ModelInferResponseMessage = { model_name: model.name, model_version: model.version, id, outputs: [], raw_output_contents: [] };
    for (const field of fieldTensors(structured, options.described)) {
      const tensor: ModelInferResponseMessage['outputs'][number] = {
        name: field.name,
        datatype: field.datatype,
        shape: field.shape,
        parameters: inferParameters(field.parameters),
      };
      if (raw) response.raw_output_contents.push(rawElements(field));
      else tensor.contents = typedContents(field);
      response.outputs.push(tensor);
    }
    return response;
  }
  const parameters = inferParameters(contentTypeParameters(results));
  const elements = results.map((result) => resultBytes(result));
  const response: ModelInferResponseMessage = { model_name: model.name, model_version: model.version, id, outputs: [], raw_output_contents: [] };
  for (const output of outputs) {
    const shape = [results.length];
    if (raw) {
      response.outputs.push({ name: output.name, datatype: 'BYTES', shape, parameters });
      response.raw_output_contents.push(writeBytesElements(elements));
    } else {
      response.outputs.push({ name: output.name, datatype: 'BYTES', shape, parameters, contents: { bytes_contents: elements } });
    }
  }
  return response;
}

/** Parameter values as InferParameter messages. */
export function inferParameters(values: Readonly<Record<string, ParameterValue>>): Record<string, InferParameterValue> {
  const parameters: Record<string, InferParameterValue> = {};
  for (const [key, value] of Object.entries(values)) {
    if (typeof value === 'boolean') parameters[key] = { bool_param: value };
    else if (typeof value === 'string') parameters[key] = { string_param: value };
    else parameters[key] = Number.isInteger(value) ? { int64_param: value } : { double_param: value };
  }
  return parameters;
}

// The typed contents of a field's tensor: int64 values as decimal strings, as the loader reads longs.
function typedContents(field: FieldTensor): TensorContentsMessage {
  switch (field.datatype) {
    case 'BYTES':
      return { bytes_contents: field.elements };
    case 'BOOL':
      return { bool_contents: field.values };
    case 'FP64':
      return { fp64_contents: field.values };
    case 'INT64':
      return { int64_contents: field.values.map(String) };
  }
}
