import { closest } from 'fastest-levenshtein';
import { AiIntegrationError } from '../errors.js';
import { describeType } from '../inputs/schema.js';
import { parseMediaType } from '../media-type.js';
import type { FieldsOutputDescription, OutputDescription, OutputFieldDescription } from '../types.js';

const outputTypes = ['json', 'image', 'file', 'text', 'fields'] as const;
const fieldTypes = ['json', 'image', 'file'] as const;
const keysByType: Record<OutputDescription['type'], readonly string[]> = {
  json: ['type', 'schema', 'description'],
  image: ['type', 'mediaType', 'description'],
  file: ['type', 'mediaType', 'description'],
  text: ['type', 'mediaType', 'description'],
  fields: ['type', 'fields', 'description'],
};
const fieldKeysByType: Record<(typeof fieldTypes)[number], readonly string[]> = {
  json: keysByType.json,
  image: [...keysByType.image, 'list'],
  file: [...keysByType.file, 'list'],
};
const jsonSchemaTypes = ['string', 'number', 'integer', 'boolean', 'object', 'array', 'null'];
// What people write for a type from other languages, where the nearest spelling would mislead.
const outputTypeAliases: Readonly<Record<string, string>> = {
  object: 'json',
  dict: 'json',
  string: 'text',
  str: 'text',
  png: 'image',
  jpeg: 'image',
  jpg: 'image',
  picture: 'image',
  binary: 'file',
  bytes: 'file',
  audio: 'file',
  video: 'file',
};
const jsonSchemaTypeAliases: Readonly<Record<string, string>> = {
  float: 'number',
  double: 'number',
  decimal: 'number',
  int: 'integer',
  bool: 'boolean',
  str: 'string',
  text: 'string',
  dict: 'object',
  map: 'object',
  list: 'array',
  tuple: 'array',
  none: 'null',
};
// Keywords whose values are data, not schemas: a `type` key inside them is the data's own.
const dataKeywords = new Set(['enum', 'const', 'default', 'examples', 'example']);
const maxSchemaDepth = 64;

/**
 * Checks the `output` option of `startLoop` and returns a clean copy of it (only its known keys,
 * the JSON Schema copied as plain JSON), or undefined when there is none. A mistake is an
 * `AI_ERR_INVALID_OPTION` (exit code 3) that names the key.
 * @example validateOutputDescription({ type: 'image', mediaType: 'image/png' })
 */
export function validateOutputDescription(value: unknown): OutputDescription | undefined {
  if (value === undefined) return undefined;
  return validateDescription(value, 'output', outputTypes, keysByType) as OutputDescription;
}

function validateDescription(
  value: unknown,
  path: string,
  types: readonly string[],
  keys: Readonly<Record<string, readonly string[]>>,
): OutputDescription | OutputFieldDescription {
  if (!isPlainObject(value))
    throw invalid(path, `must be an object such as { type: 'json' } or { type: 'image', mediaType: 'image/png' }, got ${describeType(value)}`);
  const { type } = value;
  if (typeof type !== 'string' || !types.includes(type)) {
    const suggestion = typeof type === 'string' ? ` (did you mean '${suggest(type, types, outputTypeAliases)}'?)` : '';
    const textField = path !== 'output' && type === 'text' ? "; a text field is JSON: { type: 'json', schema: { type: 'string' } }" : '';
    throw invalid(
      `${path}.type`,
      `${type === undefined ? 'is missing' : `${JSON.stringify(type) ?? describeType(type)} is not an output type`}; expected one of ${types.join(', ')}${textField || suggestion}`,
    );
  }
  const outputType = type as OutputDescription['type'];
  const allowed = keys[outputType]!;
  for (const key of Object.keys(value)) {
    if (allowed.includes(key)) continue;
    if (outputType === 'json' && key === 'mediaType') throw invalid(`${path}.mediaType`, 'a JSON output is always application/json; leave mediaType out');
    throw invalid(`${path}.${key}`, `is not a key of a ${outputType} output; expected ${allowed.join(', ')} (did you mean '${closest(key, [...allowed])}'?)`);
  }
  const description = value.description;
  if (description !== undefined && typeof description !== 'string') throw invalid(`${path}.description`, `must be a string, got ${describeType(description)}`);
  const copy: Record<string, unknown> = { type: outputType };
  if (description !== undefined) copy.description = description;
  if (outputType === 'json') {
    if (value.schema !== undefined) {
      if (!isPlainObject(value.schema))
        throw invalid(`${path}.schema`, `must be a JSON Schema object such as { type: 'object', properties: {...} }, got ${describeType(value.schema)}`);
      checkJsonSchema(value.schema, `${path}.schema`, new Set());
      copy.schema = JSON.parse(JSON.stringify(value.schema)) as unknown;
    }
  } else if (outputType === 'fields') {
    const { fields } = value;
    if (!isPlainObject(fields) || Object.keys(fields).length === 0)
      throw invalid(
        `${path}.fields`,
        `must be an object of field descriptions such as { label: { type: 'json' }, mask: { type: 'image' } }, got ${describeType(fields)}`,
      );
    const described: Record<string, unknown> = {};
    for (const [name, field] of Object.entries(fields)) {
      Object.defineProperty(described, name, {
        value: validateDescription(field, `${path}.fields.${name}`, fieldTypes, fieldKeysByType),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    copy.fields = described;
  } else {
    if (value.mediaType !== undefined) copy.mediaType = checkMediaType(outputType, value.mediaType, path);
    if (value.list !== undefined) {
      if (typeof value.list !== 'boolean') throw invalid(`${path}.list`, `must be true or false, got ${describeType(value.list)}`);
      copy.list = value.list;
    }
  }
  return copy as unknown as OutputDescription;
}

/**
 * The JSON Schema of a structured output's JSON form (what the native API, Cog and the JSON modes
 * answer): an object with each field, its files as `data:` URLs (`format: uri`).
 */
export function fieldsJsonSchema(output: FieldsOutputDescription): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(output.fields)) {
    let schema: Record<string, unknown>;
    if (field.type === 'json') {
      schema = { ...(field.schema ?? {}), ...(field.description ? { description: field.description } : {}) };
    } else {
      const mediaType = outputMediaType(field);
      const file = {
        type: 'string',
        format: 'uri',
        contentMediaType: mediaType,
        description: `${field.description ? `${field.description} (` : ''}the ${mediaType} bytes as a data: URL${field.description ? ')' : ''}`,
      };
      schema = field.list ? { type: 'array', items: file } : file;
    }
    Object.defineProperty(properties, name, { value: schema, enumerable: true, writable: true, configurable: true });
  }
  return { type: 'object', properties, required: Object.keys(output.fields), ...(output.description ? { description: output.description } : {}) };
}

/**
 * The media type a described output has: its `mediaType`, else what its type implies
 * (`application/json`, any image, `application/octet-stream`, `text/plain`).
 */
export function outputMediaType(output: OutputDescription): string {
  switch (output.type) {
    case 'json':
      return 'application/json';
    case 'image':
      return output.mediaType ?? 'image/*';
    case 'file':
      return output.mediaType ?? 'application/octet-stream';
    case 'text':
      return output.mediaType ?? 'text/plain';
    case 'fields':
      return 'application/json';
  }
}

function checkMediaType(type: 'image' | 'file' | 'text', mediaType: unknown, path: string): string {
  const example = type === 'image' ? 'image/png' : type === 'text' ? 'text/csv' : 'audio/wav';
  if (typeof mediaType !== 'string') throw invalid(`${path}.mediaType`, `must be a media type such as '${example}', got ${describeType(mediaType)}`);
  const parsed = parseMediaType(mediaType);
  if (parsed === undefined) throw invalid(`${path}.mediaType`, `${JSON.stringify(mediaType)} is not a media type such as '${example}'`);
  if (parsed.includes('*'))
    throw invalid(`${path}.mediaType`, `${JSON.stringify(mediaType)} is a range; name one media type such as '${example}', or leave mediaType out`);
  const topLevel = parsed.split('/')[0];
  if (type === 'image' && topLevel !== 'image')
    throw invalid(
      `${path}.mediaType`,
      `${JSON.stringify(mediaType)} is not an image type; use { type: 'file', mediaType: ${JSON.stringify(mediaType)} }, or an image type such as 'image/png'`,
    );
  if (type === 'text' && topLevel !== 'text')
    throw invalid(
      `${path}.mediaType`,
      `${JSON.stringify(mediaType)} is not a text type; use { type: 'file', mediaType: ${JSON.stringify(mediaType)} }, or a text type such as 'text/csv'`,
    );
  return mediaType;
}

// The schema goes into the OpenAPI document as JSON, so it must be JSON; and a `type` keyword
// that JSON Schema does not know (a typo, or an input type such as 'text') is caught here rather
// than by whoever reads the docs.
function checkJsonSchema(value: unknown, path: string, ancestors: Set<object>, isData = false): void {
  if (value !== null && typeof value === 'object' && ancestors.has(value)) throw invalid(path, 'contains itself (a cycle), which JSON cannot hold');
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw invalid(path, `${value} is not a JSON number`);
    return;
  }
  if (ancestors.size >= maxSchemaDepth) throw invalid(path, `nests deeper than ${maxSchemaDepth} levels`);
  if (Array.isArray(value)) {
    ancestors.add(value);
    for (const [index, item] of value.entries()) checkJsonSchema(item, `${path}[${index}]`, ancestors, isData);
    ancestors.delete(value);
    return;
  }
  if (!isPlainObject(value))
    throw invalid(path, `${describeNonJson(value)} is not JSON; the schema must be plain objects, arrays, strings, numbers, booleans and null`);
  if (!isData && value.type !== undefined) checkSchemaType(value.type, `${path}.type`);
  ancestors.add(value);
  for (const [key, item] of Object.entries(value)) {
    if (item === undefined) continue; // left out, as JSON.stringify leaves it
    checkJsonSchema(item, `${path}.${key}`, ancestors, isData || dataKeywords.has(key));
  }
  ancestors.delete(value);
}

function checkSchemaType(type: unknown, path: string): void {
  // An object here is a schema named "type" (under properties); it is checked as one.
  if (type !== null && typeof type === 'object' && !Array.isArray(type)) return;
  for (const name of Array.isArray(type) ? type : [type]) {
    if (typeof name === 'string' && jsonSchemaTypes.includes(name)) continue;
    const suggestion = typeof name === 'string' ? ` (did you mean '${suggest(name, jsonSchemaTypes, jsonSchemaTypeAliases)}'?)` : '';
    throw invalid(path, `${JSON.stringify(name) ?? describeType(name)} is not a JSON Schema type; expected one of ${jsonSchemaTypes.join(', ')}${suggestion}`);
  }
}

function suggest(name: string, names: readonly string[], aliases: Readonly<Record<string, string>>): string {
  return Object.hasOwn(aliases, name.toLowerCase()) ? aliases[name.toLowerCase()]! : closest(name, [...names]);
}

function describeNonJson(value: unknown): string {
  if (typeof value === 'function') return 'a function';
  if (value !== null && typeof value === 'object' && !Buffer.isBuffer(value) && !(value instanceof Uint8Array)) {
    const name = (Object.getPrototypeOf(value) as { constructor?: { name?: string } } | null)?.constructor?.name;
    if (name) return `a ${name}`;
  }
  return describeType(value);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}

function invalid(key: string, message: string): AiIntegrationError {
  return new AiIntegrationError('AI_ERR_INVALID_OPTION', `invalid output description: ${key}: ${message}`);
}
