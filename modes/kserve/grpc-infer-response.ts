import { resultBytes } from '../../src/result/write-result.js';
import { writeBytesElements } from './binary-extension.js';
import type { InferParameterValue, ModelInferResponseMessage } from './grpc-proto.js';
import { contentTypeParameters, type ModelOutput } from './infer-response.js';
import type { ParameterValue } from './metadata.js';
import type { RequestedOutput } from './tensor-items.js';

/**
 * A ModelInferResponse: the output tensor of BYTES, one element per batch item in order (each
 * result's bytes; JSON and text as UTF-8), with its media type as REST gives it. Raw outputs go
 * in `raw_output_contents` (Triton's convention: the elements each a 4-byte little-endian length
 * then the bytes); typed ones in `contents.bytes_contents`. The raw entries are indexed like the
 * outputs, so one raw output makes every output raw.
 */
export function encodeGrpcInferResponse(options: {
  model: { name: string; version: string };
  id: string;
  outputs: readonly RequestedOutput[];
  results: readonly ModelOutput[];
}): ModelInferResponseMessage {
  const { model, id, outputs, results } = options;
  const raw = outputs.some((output) => output.binary);
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
