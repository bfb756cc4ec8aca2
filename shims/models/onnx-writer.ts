/**
 * Just enough of the ONNX file format (a protobuf ModelProto) to write a small graph with fixed
 * weights, so that the example ONNX model is built by the repo instead of downloaded. Field
 * numbers are those of onnx/onnx.proto. A full protobuf library would need the .proto schema
 * shipped beside it; the handful of fields a graph of a few nodes uses is clearer spelled out.
 */

type Field = Uint8Array;

function varint(value: number | bigint): number[] {
  let rest = BigInt(value);
  if (rest < 0n) rest += 1n << 64n; // protobuf writes negative int64 as ten bytes
  const bytes: number[] = [];
  do {
    const low = Number(rest & 0x7fn);
    rest >>= 7n;
    bytes.push(rest > 0n ? low | 0x80 : low);
  } while (rest > 0n);
  return bytes;
}

const wireVarint = 0;
const wireLengthDelimited = 2;

function tag(fieldNumber: number, wireType: number): number[] {
  return varint((fieldNumber << 3) | wireType);
}

function integerField(fieldNumber: number, value: number | bigint): Field {
  return Uint8Array.from([...tag(fieldNumber, wireVarint), ...varint(value)]);
}

function bytesField(fieldNumber: number, bytes: Uint8Array): Field {
  return Uint8Array.from([...tag(fieldNumber, wireLengthDelimited), ...varint(bytes.length), ...bytes]);
}

function stringField(fieldNumber: number, text: string): Field {
  return bytesField(fieldNumber, new TextEncoder().encode(text));
}

function message(...fields: Field[]): Uint8Array {
  return Buffer.concat(fields);
}

/** ONNX TensorProto.DataType values used here. */
export const DataType = { float: 1, int64: 7 } as const;

export interface Tensor {
  name: string;
  dataType: (typeof DataType)[keyof typeof DataType];
  dims: number[];
  values: number[];
}

/** A dimension is a fixed size or a name (a size given at run time). */
export interface ValueInfo {
  name: string;
  dataType: (typeof DataType)[keyof typeof DataType];
  shape: (number | string)[];
}

export interface Node {
  opType: string;
  inputs: string[];
  outputs: string[];
  /** Integer-list attributes (kernel_shape, pads); integer ones (keepdims). */
  attributes?: Record<string, number | number[]>;
}

export interface Graph {
  name: string;
  nodes: Node[];
  initializers: Tensor[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
}

const attributeType = { int: 2, ints: 7 } as const;

function attribute(name: string, value: number | number[]): Field {
  if (Array.isArray(value)) {
    return message(stringField(1, name), ...value.map((item) => integerField(8, item)), integerField(20, attributeType.ints));
  }
  return message(stringField(1, name), integerField(3, value), integerField(20, attributeType.int));
}

function node(spec: Node, index: number): Field {
  return message(
    ...spec.inputs.map((input) => stringField(1, input)),
    ...spec.outputs.map((output) => stringField(2, output)),
    stringField(3, `${spec.opType.toLowerCase()}_${index}`),
    stringField(4, spec.opType),
    ...Object.entries(spec.attributes ?? {}).map(([name, value]) => bytesField(5, attribute(name, value))),
  );
}

function tensor(spec: Tensor): Field {
  const raw =
    spec.dataType === DataType.float ? Buffer.from(Float32Array.from(spec.values).buffer) : Buffer.from(BigInt64Array.from(spec.values.map(BigInt)).buffer);
  // raw_data is little-endian by the format's definition; so are the machines this runs on.
  return message(...spec.dims.map((dim) => integerField(1, dim)), integerField(2, spec.dataType), stringField(8, spec.name), bytesField(9, raw));
}

function valueInfo(spec: ValueInfo): Field {
  const dims = spec.shape.map((dim) => bytesField(1, typeof dim === 'number' ? integerField(1, dim) : stringField(2, dim)));
  const tensorType = message(integerField(1, spec.dataType), bytesField(2, message(...dims)));
  return message(stringField(1, spec.name), bytesField(2, bytesField(1, tensorType)));
}

/** The bytes of an ONNX model file holding the graph, for the default opset `opsetVersion`. */
export function onnxModel(graph: Graph, opsetVersion: number): Uint8Array {
  const graphProto = message(
    ...graph.nodes.map((spec, index) => bytesField(1, node(spec, index))),
    stringField(2, graph.name),
    ...graph.initializers.map((spec) => bytesField(5, tensor(spec))),
    ...graph.inputs.map((spec) => bytesField(11, valueInfo(spec))),
    ...graph.outputs.map((spec) => bytesField(12, valueInfo(spec))),
  );
  const irVersion = 8; // the IR version of ONNX 1.10+, which onnxruntime reads
  return message(
    integerField(1, irVersion),
    stringField(2, 'ai-integration examples'),
    bytesField(7, graphProto),
    bytesField(8, message(stringField(1, ''), integerField(2, opsetVersion))),
  );
}
