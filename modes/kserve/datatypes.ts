import type { InputType } from '../../src/types.js';

/** The protocol's tensor data types (with Triton's BF16). */
export const tensorDatatypes = [
  'BOOL',
  'UINT8',
  'UINT16',
  'UINT32',
  'UINT64',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'FP16',
  'FP32',
  'FP64',
  'BF16',
  'BYTES',
] as const;

export type TensorDatatype = (typeof tensorDatatypes)[number];

/** A datatype whose elements are numbers or booleans of one size. */
export type FixedDatatype = Exclude<TensorDatatype, 'BYTES'>;

export function isTensorDatatype(value: unknown): value is TensorDatatype {
  return typeof value === 'string' && (tensorDatatypes as readonly string[]).includes(value);
}

const elementSizes: Record<FixedDatatype, number> = {
  BOOL: 1,
  UINT8: 1,
  UINT16: 2,
  UINT32: 4,
  UINT64: 8,
  INT8: 1,
  INT16: 2,
  INT32: 4,
  INT64: 8,
  FP16: 2,
  FP32: 4,
  FP64: 8,
  BF16: 2,
};

/** Bytes per element in the binary tensor extension. */
export function elementSize(datatype: FixedDatatype): number {
  return elementSizes[datatype];
}

const integerRanges: Partial<Record<TensorDatatype, readonly [number, number]>> = {
  UINT8: [0, 0xff],
  UINT16: [0, 0xffff],
  UINT32: [0, 0xffffffff],
  // 64-bit integers are JavaScript numbers here, so only their exactly representable part.
  UINT64: [0, Number.MAX_SAFE_INTEGER],
  INT8: [-0x80, 0x7f],
  INT16: [-0x8000, 0x7fff],
  INT32: [-0x80000000, 0x7fffffff],
  INT64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
};

const integerDatatypes: readonly TensorDatatype[] = ['INT64', 'INT32', 'INT16', 'INT8', 'UINT64', 'UINT32', 'UINT16', 'UINT8'];
const floatDatatypes: readonly TensorDatatype[] = ['FP64', 'FP32', 'FP16', 'BF16'];

/**
 * The datatypes a schema input accepts, the one its metadata lists first. A number input takes
 * any numeric tensor (clients often send FP32), an integer input any integer tensor.
 */
export function datatypesFor(type: InputType): readonly TensorDatatype[] {
  switch (type) {
    case 'number':
      return [...floatDatatypes, ...integerDatatypes];
    case 'integer':
      return integerDatatypes;
    case 'boolean':
      return ['BOOL'];
    case 'image':
    case 'file':
    case 'text':
    case 'json':
    case 'choice':
      return ['BYTES'];
  }
}

/** What the elements of a datatype are in JSON, for error messages. */
export function describeElements(datatype: TensorDatatype): string {
  if (datatype === 'BYTES') return 'strings';
  if (datatype === 'BOOL') return 'true or false';
  const range = integerRanges[datatype];
  return range ? `integers from ${range[0]} to ${range[1]}` : 'numbers';
}

/**
 * Checks one JSON element of a tensor; returns undefined when it fits the datatype, else what is
 * wrong with it.
 */
export function jsonElementProblem(datatype: TensorDatatype, value: unknown): string | undefined {
  if (datatype === 'BYTES') return typeof value === 'string' ? undefined : `${datatype} elements are ${describeElements(datatype)}`;
  if (datatype === 'BOOL') return typeof value === 'boolean' ? undefined : `${datatype} elements are ${describeElements(datatype)}`;
  if (typeof value !== 'number' || !Number.isFinite(value)) return `${datatype} elements are ${describeElements(datatype)}`;
  const range = integerRanges[datatype];
  if (range && (!Number.isInteger(value) || value < range[0] || value > range[1])) return `${datatype} elements are ${describeElements(datatype)}`;
  return undefined;
}

/**
 * Reads `count` elements of a fixed-size datatype from little-endian binary data (the binary
 * tensor extension). Returns what is wrong instead when an element has no JavaScript value.
 */
export function readFixedElements(datatype: FixedDatatype, data: Buffer, count: number): (number | boolean)[] | { problem: string } {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const size = elementSizes[datatype];
  const values: (number | boolean)[] = new Array<number | boolean>(count);
  for (let index = 0; index < count; index++) {
    const offset = index * size;
    let value: number | boolean;
    switch (datatype) {
      case 'BOOL': {
        const byte = view.getUint8(offset);
        if (byte > 1) return { problem: `element ${index} is the byte ${byte}; BOOL elements are 0 (false) or 1 (true)` };
        value = byte === 1;
        break;
      }
      case 'UINT8':
        value = view.getUint8(offset);
        break;
      case 'UINT16':
        value = view.getUint16(offset, true);
        break;
      case 'UINT32':
        value = view.getUint32(offset, true);
        break;
      case 'INT8':
        value = view.getInt8(offset);
        break;
      case 'INT16':
        value = view.getInt16(offset, true);
        break;
      case 'INT32':
        value = view.getInt32(offset, true);
        break;
      case 'UINT64':
      case 'INT64': {
        const big = datatype === 'INT64' ? view.getBigInt64(offset, true) : view.getBigUint64(offset, true);
        if (big > BigInt(Number.MAX_SAFE_INTEGER) || big < BigInt(Number.MIN_SAFE_INTEGER)) {
          return { problem: `element ${index} is ${big}, beyond the integers a JavaScript number holds exactly (±${Number.MAX_SAFE_INTEGER})` };
        }
        value = Number(big);
        break;
      }
      case 'FP16':
        value = halfToNumber(view.getUint16(offset, true));
        break;
      case 'BF16':
        value = bfloat16ToNumber(view.getUint16(offset, true));
        break;
      case 'FP32':
        value = view.getFloat32(offset, true);
        break;
      case 'FP64':
        value = view.getFloat64(offset, true);
        break;
    }
    if (typeof value === 'number' && !Number.isFinite(value)) return { problem: `element ${index} is ${value}; the model takes finite numbers` };
    values[index] = value;
  }
  return values;
}

// IEEE 754 binary16: 1 sign bit, 5 exponent bits (bias 15), 10 fraction bits.
function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

// bfloat16 is the upper half of a float32.
function bfloat16ToNumber(bits: number): number {
  const view = new DataView(new ArrayBuffer(4));
  view.setUint32(0, bits << 16);
  return view.getFloat32(0);
}
