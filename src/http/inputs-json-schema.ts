import { describeExpected } from '../inputs/convert-inputs.js';
import { mustBeGiven } from '../inputs/schema.js';
import type { InputSpec, InputsSchema } from '../types.js';

/**
 * How a body writes the values a JSON Schema cannot describe by type alone: binary inputs, and
 * `json` inputs. Every other type is the same in every protocol's OpenAPI document.
 */
export interface ValueEncoding {
  binary(common: Record<string, unknown>, spec: InputSpec & { type: 'image' | 'file' }): Record<string, unknown>;
  json(common: Record<string, unknown>): Record<string, unknown>;
}

/**
 * Multipart form fields: binary inputs are file parts (a contentMediaType is what makes /docs's
 * "Try it out" offer a file picker), JSON is a text field holding the JSON, its example written out.
 */
export const formEncoding: ValueEncoding = {
  binary: (common, spec) => ({ ...common, type: 'string', contentMediaType: spec.type === 'image' ? 'image/*' : 'application/octet-stream' }),
  json: ({ examples, ...common }) => ({
    ...common,
    type: 'string',
    description: `${String(common.description)}, as JSON text`,
    ...(Array.isArray(examples) ? { examples: examples.map((example) => JSON.stringify(example)) } : {}),
  }),
};

/** JSON bodies: binary inputs are base64 (or data: URLs), JSON is any value. */
export const jsonEncoding: ValueEncoding = {
  binary: (common) => ({ ...common, type: 'string', description: `${String(common.description)}, as base64 or a data: URL`, contentEncoding: 'base64' }),
  json: (common) => common,
};

/** The JSON Schema of one input's value, with its description, default and bounds. */
export function inputJsonSchema(spec: InputSpec, encoding: ValueEncoding): Record<string, unknown> {
  const description = spec.description ? `${spec.description} (${describeExpected(spec)})` : describeExpected(spec);
  const common: Record<string, unknown> = { description };
  if ('default' in spec && spec.default !== undefined) common.default = spec.default;
  // The schema's example, so that /docs shows it (a binary one is a data: URL, too long to show).
  if (spec.example !== undefined && spec.type !== 'image' && spec.type !== 'file') common.examples = [spec.example];
  switch (spec.type) {
    case 'image':
    case 'file':
      return encoding.binary(common, spec);
    case 'text':
      return { ...common, type: 'string' };
    case 'number':
    case 'integer':
      return { ...common, type: spec.type, ...(spec.min === undefined ? {} : { minimum: spec.min }), ...(spec.max === undefined ? {} : { maximum: spec.max }) };
    case 'boolean':
      return { ...common, type: 'boolean' };
    case 'choice':
      return { ...common, type: 'string', enum: [...spec.choices] };
    case 'json':
      return encoding.json(common);
  }
}

/**
 * An inputs object made of the schema's examples alone: what /docs's "Try it out" starts from, so
 * that it sends no value nobody chose (Swagger UI otherwise fills every optional input in, a
 * number with its minimum and a text with "string").
 */
export function inputsExample(schema: InputsSchema): Record<string, unknown> {
  return Object.fromEntries(Object.entries(schema).flatMap(([name, spec]) => (spec.example === undefined ? [] : [[name, spec.example]])));
}

/** The same for a multipart form: a file part carries no example (a binary input's is a data: URL), and JSON is its text. */
export function formInputsExample(schema: InputsSchema): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(schema).flatMap(([name, spec]) =>
      spec.example === undefined || spec.type === 'image' || spec.type === 'file'
        ? []
        : [[name, spec.type === 'json' ? JSON.stringify(spec.example) : spec.example]],
    ),
  );
}

/** The JSON Schema of an inputs object: one property per input, the ones that must be given required. */
export function inputsJsonSchema(schema: InputsSchema, encoding: ValueEncoding): Record<string, unknown> {
  const required = Object.entries(schema)
    .filter(([, spec]) => mustBeGiven(spec))
    .map(([name]) => name);
  return {
    type: 'object',
    properties: Object.fromEntries(Object.entries(schema).map(([name, spec]) => [name, inputJsonSchema(spec, encoding)])),
    ...(required.length > 0 ? { required } : {}),
  };
}
