import { mustBeGiven } from '../../src/inputs/schema.js';
import type { FieldsOutputDescription, InputSpec, InputsSchema, OutputDescription } from '../../src/types.js';
import { outputMediaType } from '../../src/result/output-description.js';
import { describedFieldTensors } from './field-tensors.js';
import { datatypesFor, type TensorDatatype } from './datatypes.js';

/** The one output tensor every model has: the result of its inference function. */
export const outputTensor = 'output';

/** The extensions of the protocol this mode speaks, as server metadata lists them. */
export const extensions = ['binary_tensor_data'] as const;

/** What the model metadata says the framework is (information only, per the protocol). */
export const platform = 'ai-integration';

/** A parameter value of the protocol: a string, a number or a boolean. */
export type ParameterValue = string | number | boolean;

export interface MetadataTensor {
  name: string;
  datatype: TensorDatatype;
  shape: number[];
  parameters?: Record<string, ParameterValue>;
}

export interface ServerMetadata {
  name: string;
  version: string;
  extensions: string[];
}

export interface ModelMetadata {
  name: string;
  versions: string[];
  platform: string;
  inputs: MetadataTensor[];
  outputs: MetadataTensor[];
}

/** `GET /v2`: the server's name, version and extensions. */
export function serverMetadata(version: string): ServerMetadata {
  return { name: 'ai-integration', version, extensions: [...extensions] };
}

/**
 * `GET /v2/models/{name}`: one input tensor per schema input (shape [-1]: a batch of one value
 * each) and the one output tensor, `BYTES` unless told otherwise, with its content type when known;
 * for a described structured output, one tensor per field (field-tensors.ts).
 */
export function modelMetadata(
  model: { name: string; version: string },
  schema: InputsSchema,
  output: { datatype?: TensorDatatype; contentType?: string; fields?: FieldsOutputDescription } = {},
): ModelMetadata {
  const outputTensorMetadata: MetadataTensor = { name: outputTensor, datatype: output.datatype ?? 'BYTES', shape: [-1] };
  if (output.contentType !== undefined) outputTensorMetadata.parameters = { content_type: output.contentType };
  return {
    name: model.name,
    versions: [model.version],
    platform,
    inputs: Object.entries(schema).map(([name, spec]) => inputTensor(name, spec)),
    // A structured output answers one tensor per field.
    outputs: output.fields ? describedFieldTensors(output.fields) : [outputTensorMetadata],
  };
}

function inputTensor(name: string, spec: InputSpec): MetadataTensor {
  const tensor: MetadataTensor = { name, datatype: datatypesFor(spec.type)[0]!, shape: [-1] };
  const parameters = inputParameters(spec);
  if (Object.keys(parameters).length > 0) tensor.parameters = parameters;
  return tensor;
}

// What a client needs to fill the tensor, in the protocol's scalar parameter values: the input's
// type (which BYTES alone does not say), whether it may be left out (Triton's `optional`), its bounds and choices.
function inputParameters(spec: InputSpec): Record<string, ParameterValue> {
  const parameters: Record<string, ParameterValue> = { input_type: spec.type };
  if (spec.type === 'image') parameters.content_type = 'image/*';
  if (spec.type === 'file') parameters.content_type = 'application/octet-stream';
  if (spec.type === 'json') parameters.content_type = 'application/json';
  if (spec.description !== undefined) parameters.description = spec.description;
  parameters.optional = !mustBeGiven(spec);
  if ('default' in spec && spec.default !== undefined) {
    const value = spec.default;
    parameters.default = typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? value : JSON.stringify(value);
  }
  if ('min' in spec && spec.min !== undefined) parameters.min = spec.min;
  if ('max' in spec && spec.max !== undefined) parameters.max = spec.max;
  // Parameter values are scalars, so the list travels as JSON text.
  if (spec.type === 'choice') parameters.choices = JSON.stringify(spec.choices);
  return parameters;
}

/** What the model metadata says of the output, from the shim's output description. */
export function outputMetadata(output: OutputDescription | undefined): { contentType?: string; fields?: FieldsOutputDescription } {
  if (!output) return {};
  return { contentType: outputMediaType(output), ...(output.type === 'fields' ? { fields: output } : {}) };
}
