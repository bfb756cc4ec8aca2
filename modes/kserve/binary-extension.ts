import { plural } from './_text.js';
import { OpenInferenceError, tensorError } from './errors.js';

/** The header giving the length of the JSON part of a body that carries binary tensor data. */
export const inferenceHeaderLength = 'inference-header-content-length';

/** A request body cut in two: the JSON header and the binary tensor data after it. */
export interface SplitBody {
  header: Buffer;
  /** Undefined when the request has no Inference-Header-Content-Length (all JSON). */
  binary: Buffer | undefined;
  /** Inference-Header-Content-Length: 0, the whole body is the data of the model's one input. */
  raw: boolean;
}

/**
 * Cuts a body at Inference-Header-Content-Length (the first N bytes are the JSON header, the rest
 * binary tensor data); a body without the header is all JSON.
 */
export function splitBody(body: Buffer, headerValue: string | string[] | undefined): SplitBody {
  if (headerValue === undefined) return { header: body, binary: undefined, raw: false };
  const text = Array.isArray(headerValue) ? headerValue.join(',') : headerValue;
  if (!/^\s*\d{1,15}\s*$/.test(text)) {
    throw new OpenInferenceError(
      400,
      `Inference-Header-Content-Length must be the byte length of the JSON header (a non-negative integer), got ${JSON.stringify(text)}`,
    );
  }
  const length = Number(text);
  if (length > body.length) {
    throw new OpenInferenceError(400, `Inference-Header-Content-Length is ${length}, but the body has only ${plural(body.length, 'byte')}`);
  }
  return { header: body.subarray(0, length), binary: body.subarray(length), raw: length === 0 };
}

/**
 * Reads the elements of a BYTES tensor in binary form: each a 4-byte little-endian length, then
 * that many bytes. The elements are views of `data`, not copies.
 */
export function readBytesElements(tensor: string, data: Buffer, count: number): Buffer[] {
  const elements: Buffer[] = [];
  let offset = 0;
  for (let index = 0; index < count; index++) {
    if (offset + 4 > data.length) {
      throw tensorError(
        'input',
        tensor,
        `its binary data ends inside the length prefix of element ${index} (BYTES elements are a 4-byte little-endian length, then the bytes); ${plural(data.length, 'byte')} hold fewer than the ${plural(count, 'element')} its shape says`,
      );
    }
    const length = data.readUInt32LE(offset);
    offset += 4;
    if (offset + length > data.length) {
      throw tensorError(
        'input',
        tensor,
        `element ${index} says it has ${plural(length, 'byte')}, but only ${data.length - offset} of the tensor's binary_data_size remain`,
      );
    }
    elements.push(data.subarray(offset, offset + length));
    offset += length;
  }
  if (offset !== data.length) {
    throw tensorError(
      'input',
      tensor,
      `${plural(data.length - offset, 'byte')} of its binary_data_size ${data.length - offset === 1 ? 'is' : 'are'} left after the ${plural(count, 'element')} its shape says`,
    );
  }
  return elements;
}

/** Writes BYTES elements in binary form: each a 4-byte little-endian length, then the bytes. */
export function writeBytesElements(elements: readonly Buffer[]): Buffer {
  const total = elements.reduce((sum, element) => sum + 4 + element.length, 0);
  const out = Buffer.allocUnsafe(total);
  let offset = 0;
  for (const element of elements) {
    out.writeUInt32LE(element.length, offset);
    offset += 4;
    offset += element.copy(out, offset);
  }
  return out;
}

/** A body with binary tensor data: the JSON header, then each tensor's bytes in order. */
export function binaryBody(header: object, tensors: readonly Buffer[]): { body: Buffer; headerLength: number } {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  return { body: Buffer.concat([json, ...tensors]), headerLength: json.length };
}
