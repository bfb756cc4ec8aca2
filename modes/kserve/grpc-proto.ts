import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSync, type PackageDefinition, type ServiceDefinition } from '@grpc/proto-loader';

/** The protocol's own .proto (KServe's, Apache-2.0: LICENSE.open-inference-protocol beside it). */
const protoFile = 'open_inference_grpc.proto';

/**
 * Where the .proto is: beside this file in the sources (modes/kserve/), and in the package's
 * modes/kserve/ above the built chunk (dist/); the package ships modes/.
 */
export function protoPath(start = dirname(fileURLToPath(import.meta.url))): string {
  for (let directory = start; ; directory = dirname(directory)) {
    for (const candidate of [join(directory, protoFile), join(directory, 'modes', 'kserve', protoFile)]) {
      if (existsSync(candidate)) return candidate;
    }
    if (dirname(directory) === directory) throw new Error(`ai-integration: ${protoFile} was not found above ${start}`);
  }
}

/**
 * The messages as plain objects: field names as the .proto spells them, 64-bit integers as
 * decimal strings (no precision lost; the tensors' checks say which fit), bytes as Buffers,
 * repeated fields always arrays, and which member of a oneof is set.
 */
export const messageOptions = { keepCase: true, longs: String, enums: String, defaults: false, arrays: true, oneofs: true } as const;

/** The package definition (reflection serves its descriptors) and the inference service. */
export function loadInferenceProto(): { definition: PackageDefinition; service: ServiceDefinition } {
  const definition = loadSync(protoPath(), messageOptions);
  return { definition, service: definition['inference.GRPCInferenceService'] as ServiceDefinition };
}

/** An InferParameter as decoded: one of its members, and which. */
export interface InferParameterMessage {
  parameter_choice?: 'bool_param' | 'int64_param' | 'string_param' | 'double_param' | 'uint64_param';
  bool_param?: boolean;
  int64_param?: string;
  string_param?: string;
  double_param?: number;
  uint64_param?: string;
}

/** InferTensorContents: the typed elements, in the field of the tensor's datatype. */
export interface TensorContentsMessage {
  bool_contents?: boolean[];
  int_contents?: number[];
  int64_contents?: string[];
  uint_contents?: number[];
  uint64_contents?: string[];
  fp32_contents?: number[];
  fp64_contents?: number[];
  bytes_contents?: Buffer[];
}

export interface InferInputTensorMessage {
  name?: string;
  datatype?: string;
  shape?: string[];
  parameters?: Record<string, InferParameterMessage>;
  contents?: TensorContentsMessage;
}

export interface ModelInferRequestMessage {
  model_name?: string;
  model_version?: string;
  id?: string;
  parameters?: Record<string, InferParameterMessage>;
  inputs?: InferInputTensorMessage[];
  outputs?: { name?: string; parameters?: Record<string, InferParameterMessage> }[];
  raw_input_contents?: Buffer[];
}

/** A parameter to send: one member of the oneof. */
export type InferParameterValue = { bool_param: boolean } | { int64_param: number } | { string_param: string } | { double_param: number };

export interface ModelInferResponseMessage {
  model_name: string;
  model_version: string;
  id: string;
  outputs: {
    name: string;
    datatype: string;
    shape: number[];
    parameters: Record<string, InferParameterValue>;
    contents?: TensorContentsMessage;
  }[];
  raw_output_contents: Buffer[];
}

/** ModelReadyRequest and ModelMetadataRequest. */
export interface ModelRequestMessage {
  name?: string;
  version?: string;
}
