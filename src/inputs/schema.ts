import { closest, distance } from 'fastest-levenshtein';
import { decodeBinaryText } from './binary-value.js';
import { AiIntegrationError, InvalidSchemaError } from '../errors.js';
import { sniffImageFormat } from './image.js';
import { parseImageHeader } from './image-header.js';
import { plural } from '../plural.js';
import type { InputSpec, InputsSchema, InputType, StrictSchema } from '../types.js';

/** Every input type, in the order docs/reference/schema.md lists them. */
export const inputTypes: readonly InputType[] = ['image', 'text', 'number', 'integer', 'boolean', 'choice', 'json', 'file'];

const binaryTypes: ReadonlySet<InputType> = new Set(['image', 'file']);

/** Whether inputs of this type arrive as a `Buffer`. */
export function isBinaryType(type: InputType): type is 'image' | 'file' {
  return binaryTypes.has(type);
}

// Which properties each type accepts, so that a typo such as `requried` is caught instead of ignored.
const allowedProperties: Record<InputType, readonly string[]> = {
  image: ['type', 'description', 'required', 'example'],
  file: ['type', 'description', 'required', 'example'],
  text: ['type', 'description', 'required', 'default', 'example'],
  number: ['type', 'description', 'required', 'default', 'min', 'max', 'example'],
  integer: ['type', 'description', 'required', 'default', 'min', 'max', 'example'],
  boolean: ['type', 'description', 'required', 'default', 'example'],
  choice: ['type', 'description', 'required', 'default', 'choices', 'example'],
  json: ['type', 'description', 'required', 'default', 'example'],
};
const knownProperties: readonly string[] = [...new Set(Object.values(allowedProperties).flat())];

// What other schema languages call a type (JSON Schema, Python, Cog, Gradio, TypeScript): read
// before spelling, since `float` is one letter from nothing but means `number`.
const typeAliases: Readonly<Record<string, InputType>> = {
  float: 'number',
  double: 'number',
  decimal: 'number',
  real: 'number',
  num: 'number',
  numeric: 'number',
  float32: 'number',
  float64: 'number',
  int: 'integer',
  long: 'integer',
  short: 'integer',
  uint: 'integer',
  int8: 'integer',
  int16: 'integer',
  int32: 'integer',
  int64: 'integer',
  uint8: 'integer',
  uint16: 'integer',
  uint32: 'integer',
  uint64: 'integer',
  bigint: 'integer',
  bool: 'boolean',
  flag: 'boolean',
  checkbox: 'boolean',
  toggle: 'boolean',
  str: 'text',
  string: 'text',
  txt: 'text',
  textarea: 'text',
  textbox: 'text',
  prompt: 'text',
  char: 'text',
  unicode: 'text',
  list: 'json',
  dict: 'json',
  object: 'json',
  array: 'json',
  map: 'json',
  obj: 'json',
  record: 'json',
  tuple: 'json',
  any: 'json',
  bytes: 'file',
  binary: 'file',
  path: 'file',
  blob: 'file',
  buffer: 'file',
  audio: 'file',
  video: 'file',
  document: 'file',
  uint8array: 'file',
  img: 'image',
  picture: 'image',
  photo: 'image',
  pic: 'image',
  jpeg: 'image',
  jpg: 'image',
  png: 'image',
  enum: 'choice',
  select: 'choice',
  dropdown: 'choice',
  radio: 'choice',
  choices: 'choice',
  options: 'choice',
  literal: 'choice',
};

// The same for properties: JSON Schema's `minimum`, Cog's `ge`, Gradio's `value`...
const propertyAliases: Readonly<Record<string, string>> = {
  minimum: 'min',
  ge: 'min',
  gte: 'min',
  min_value: 'min',
  minvalue: 'min',
  lower: 'min',
  maximum: 'max',
  le: 'max',
  lte: 'max',
  max_value: 'max',
  maxvalue: 'max',
  upper: 'max',
  choice: 'choices',
  options: 'choices',
  enum: 'choices',
  values: 'choices',
  desc: 'description',
  help: 'description',
  title: 'description',
  label: 'description',
  doc: 'description',
  optional: 'required',
  mandatory: 'required',
  examples: 'example',
  sample: 'example',
  defaults: 'default',
  default_value: 'default',
  defaultvalue: 'default',
  value: 'default',
  initial: 'default',
  kind: 'type',
};

/** Whether the input must be given by the caller (required and without a default). */
export function mustBeGiven(spec: InputSpec): boolean {
  return spec.required !== false && !('default' in spec && spec.default !== undefined);
}

/**
 * The input a request that names none goes to (a bare instance, a raw binary body): the schema's
 * only input, or else its only input that must be given; undefined when there is no such one.
 */
export function soleInput(schema: InputsSchema): string | undefined {
  const names = Object.keys(schema);
  if (names.length === 1) return names[0];
  const given = names.filter((name) => mustBeGiven(schema[name]!));
  return given.length === 1 ? given[0] : undefined;
}

/**
 * Checks an inputs schema and returns it unchanged; throws `InvalidSchemaError` naming the input.
 */
export function validateSchema<S extends InputsSchema>(schema: S): S {
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) {
    throw new InvalidSchemaError('(schema)', `expected an object of input names to input descriptions, got ${describeType(schema)}`);
  }
  // Every problem of every input at once: a schema with three typos takes one run to fix, not three.
  const problems = Object.entries(schema).flatMap(([name, spec]) => specProblems(name, spec as unknown));
  if (problems.length > 0) throw InvalidSchemaError.all(problems);
  return schema;
}

function specProblems(name: string, spec: unknown): InvalidSchemaError[] {
  if (name === '') return [new InvalidSchemaError("''", 'input names must not be empty')];
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) {
    return [new InvalidSchemaError(name, `expected an object such as { type: 'image' }, got ${describeType(spec)}`)];
  }
  const record = spec as Record<string, unknown>;
  const type = record.type;
  // The other properties mean something only for a known type.
  if (typeof type !== 'string' || !(inputTypes as readonly string[]).includes(type)) {
    const suggestion = suggestType(type);
    const shown = typeof type === 'function' ? `the function ${type.name || '(anonymous)'}` : (JSON.stringify(type) ?? String(type));
    return [
      new InvalidSchemaError(name, `unknown type ${shown}; expected one of ${inputTypes.join(', ')}${suggestion ? ` (did you mean '${suggestion}'?)` : ''}`),
    ];
  }
  const inputType = type as InputType;
  const problems: InvalidSchemaError[] = [];
  const unknownKeys = Object.keys(record).filter((key) => !allowedProperties[inputType].includes(key));
  for (const key of unknownKeys) problems.push(new InvalidSchemaError(name, describeUnknownProperty(inputType, key)));
  if (record.required !== undefined && typeof record.required !== 'boolean') {
    problems.push(new InvalidSchemaError(name, `'required' must be true or false, got ${describeType(record.required)}`));
  }
  if (record.description !== undefined && typeof record.description !== 'string') {
    problems.push(new InvalidSchemaError(name, `'description' must be a string, got ${describeType(record.description)}`));
  }
  const collect = (check: () => void): boolean => {
    try {
      check();
      return true;
    } catch (error) {
      if (!(error instanceof InvalidSchemaError)) throw error;
      problems.push(error);
      return false;
    }
  };
  // A default or an example is checked against bounds and choices only once those are sound.
  // Missing choices beside an unknown property are that property's typo (`choice`, `options`),
  // already reported with its did-you-mean.
  const misspelt = unknownKeys.length > 0;
  const sound = collect(() => {
    if (inputType === 'number' || inputType === 'integer') validateBounds(name, inputType, record);
    if (inputType === 'choice' && !(misspelt && record.choices === undefined)) validateChoices(name, record);
  });
  if (sound && !(inputType === 'choice' && record.choices === undefined)) {
    // `example` obeys the rules `default` does: the page fills it in, and the model must accept it.
    for (const key of ['default', 'example'] as const) {
      if (record[key] !== undefined && allowedProperties[inputType].includes(key)) collect(() => validateValue(name, inputType, record, key, record[key]));
    }
  }
  return problems;
}

/** The input type that `type` most likely meant: an alias (`float` is `number`), else the nearest spelling. */
export function suggestType(type: unknown): InputType | undefined {
  // `{ type: Number }` (Mongoose's and Vue's style) names a constructor.
  const text = typeof type === 'function' ? type.name : type;
  if (typeof text !== 'string' || text.trim() === '') return undefined;
  const key = text.trim().toLowerCase();
  if (Object.hasOwn(typeAliases, key)) return typeAliases[key];
  if ((inputTypes as readonly string[]).includes(key)) return key as InputType;
  return closest(key, [...inputTypes]) as InputType;
}

/** The known property that `key` most likely meant, if any is close: an alias first, then spelling. */
function suggestProperty(type: InputType, key: string): string | undefined {
  const lower = key.toLowerCase();
  if (Object.hasOwn(propertyAliases, lower)) return propertyAliases[lower];
  if (knownProperties.includes(lower)) return lower;
  // Prefer this type's own properties; another type's only when this type has none as close.
  const near = (candidates: readonly string[]) => {
    const best = closest(lower, [...candidates]);
    return distance(lower, best) <= Math.max(1, Math.floor(best.length / 3)) ? best : undefined;
  };
  return near(allowedProperties[type]) ?? near(knownProperties);
}

function describeUnknownProperty(type: InputType, key: string): string {
  const allowed = allowedProperties[type];
  const meant = knownProperties.includes(key) ? key : suggestProperty(type, key);
  const didYouMean = meant !== undefined && meant !== key ? ` (did you mean '${meant}'?)` : '';
  let message = `unknown property '${key}' for type ${type}`;
  if (meant !== undefined && allowed.includes(meant)) return `${message}${didYouMean}; allowed: ${allowed.join(', ')}`;
  message += `; allowed: ${allowed.join(', ')}`;
  if (meant === undefined) return message;
  // A property of other types: say which, so the fix (another type, or none) is plain.
  const reason =
    meant === 'default' && isBinaryType(type)
      ? 'binary inputs cannot have a default'
      : `'${meant}' is for ${joinWords(inputTypes.filter((other) => allowedProperties[other].includes(meant)))} inputs`;
  return `${message}; ${didYouMean ? `did you mean '${meant}'? ` : ''}${reason}`;
}

function joinWords(words: readonly string[]): string {
  return words.length <= 1 ? words.join('') : `${words.slice(0, -1).join(', ')} and ${words.at(-1)}`;
}

function validateValue(name: string, type: InputType, spec: Record<string, unknown>, key: 'default' | 'example', value: unknown): void {
  switch (type) {
    case 'text':
      if (typeof value !== 'string') throw new InvalidSchemaError(name, `${key} must be a string, got ${describeType(value)}`);
      return;
    case 'boolean':
      if (typeof value !== 'boolean') throw new InvalidSchemaError(name, `${key} must be true or false, got ${describeType(value)}`);
      return;
    case 'number':
    case 'integer': {
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        throw new InvalidSchemaError(name, `${key} must be a finite number, got ${describeType(value)}`);
      }
      if (type === 'integer' && !Number.isSafeInteger(value)) throw new InvalidSchemaError(name, `${key} must be an integer, got ${value}`);
      const min = spec.min as number | undefined;
      const max = spec.max as number | undefined;
      if ((min !== undefined && value < min) || (max !== undefined && value > max)) {
        throw new InvalidSchemaError(name, `${key} ${value} is outside the bounds ${describeBounds(min, max)}`);
      }
      return;
    }
    case 'choice': {
      const choices = spec.choices as string[];
      if (!choices.includes(value as string)) {
        throw new InvalidSchemaError(name, `${key} ${JSON.stringify(value) ?? describeType(value)} is not one of the choices ${choices.join(', ')}`);
      }
      return;
    }
    case 'json':
      if (!isJsonSerializable(value)) throw new InvalidSchemaError(name, `${key} must be a JSON value (object, array, string, number, boolean or null)`);
      return;
    case 'image':
    case 'file':
      validateBinaryExample(name, type, value);
      return;
  }
}

const mediaTypeByExtension: Readonly<Record<string, string>> = {
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  gif: 'image/gif',
  tif: 'image/tiff',
  tiff: 'image/tiff',
  avif: 'image/avif',
  wav: 'audio/wav',
  mp3: 'audio/mpeg',
  ogg: 'audio/ogg',
  flac: 'audio/flac',
  mp4: 'video/mp4',
  webm: 'video/webm',
  pdf: 'application/pdf',
  txt: 'text/plain',
  csv: 'text/csv',
};

// A binary example is a data: URL: it travels with the schema from the model's process to the
// supervisor, the web page and /info, where a path would have to be resolved again in each.
function validateBinaryExample(name: string, type: 'image' | 'file', example: unknown): void {
  const isString = typeof example === 'string';
  if (!isString || !/^data:[^,]*,/i.test(example)) {
    const sample = type === 'image' ? 'data:image/jpeg;base64,...' : 'data:application/pdf;base64,...';
    let advice = '';
    if (isString && /^[a-z][a-z0-9+.-]*:\/\//i.test(example)) advice = '; URLs are not fetched (a container is often offline)';
    else if (isString && example.trim() !== '') {
      const file = example.replace(/^\.\//, '').replaceAll("'", "\\'");
      const mediaType = mediaTypeByExtension[/\.(\w+)$/.exec(file)?.[1]?.toLowerCase() ?? ''] ?? (type === 'image' ? 'image/jpeg' : 'application/octet-stream');
      advice = `; for a file beside the shim, read it into one: \`data:${mediaType};base64,\${readFileSync(new URL('${file}', import.meta.url)).toString('base64')}\``;
    }
    throw new InvalidSchemaError(name, `example must be a data: URL such as ${sample}, got ${describeType(example)}${advice}`);
  }
  let bytes: Buffer;
  try {
    bytes = decodeBinaryText('example', example);
  } catch (error) {
    if (!(error instanceof AiIntegrationError)) throw error;
    bytes = Buffer.alloc(0);
    if (!/^data:[^,]*,\s*$/i.test(example)) throw new InvalidSchemaError(name, 'example is a data: URL whose base64 data is not valid');
  }
  if (bytes.length === 0) throw new InvalidSchemaError(name, 'example is a data: URL with no data');
  if (type !== 'image') return;
  const format = sniffImageFormat(bytes);
  if (!format) {
    throw new InvalidSchemaError(
      name,
      `example is not an image (${plural(bytes.length, 'byte')} starting ${bytes.subarray(0, 8).toString('hex')}, which ${bytes.length === 1 ? 'matches' : 'match'} no image format)`,
    );
  }
  const header = parseImageHeader(bytes);
  if (typeof header === 'string') {
    throw new InvalidSchemaError(name, `example is not an image that can be decoded (a ${format} signature, but its header cannot be read: ${header})`);
  }
}

function validateBounds(name: string, type: 'number' | 'integer', spec: Record<string, unknown>): void {
  for (const key of ['min', 'max'] as const) {
    const bound = spec[key];
    if (bound !== undefined && (typeof bound !== 'number' || !Number.isFinite(bound))) {
      throw new InvalidSchemaError(name, `${key} must be a finite number, got ${describeType(bound)}`);
    }
    if (type === 'integer' && bound !== undefined && !Number.isSafeInteger(bound)) {
      throw new InvalidSchemaError(name, `${key} must be an integer for an integer input, got ${bound}`);
    }
  }
  const min = spec.min as number | undefined;
  const max = spec.max as number | undefined;
  if (min !== undefined && max !== undefined && min > max) {
    throw new InvalidSchemaError(name, `min (${min}) is greater than max (${max})`);
  }
}

function validateChoices(name: string, spec: Record<string, unknown>): void {
  const choices = spec.choices;
  if (!Array.isArray(choices) || choices.length === 0) {
    throw new InvalidSchemaError(name, "a choice input needs 'choices', a non-empty list of strings");
  }
  for (const choice of choices) {
    if (typeof choice !== 'string') {
      throw new InvalidSchemaError(name, `every choice must be a string, got ${describeType(choice)}`);
    }
  }
  if (new Set(choices).size !== choices.length) {
    throw new InvalidSchemaError(name, 'choices must not repeat');
  }
}

/** "between 1 and 10", "at least 0", "at most 1". */
export function describeBounds(min: number | undefined, max: number | undefined): string {
  if (min !== undefined && max !== undefined) return `between ${min} and ${max}`;
  if (min !== undefined) return `at least ${min}`;
  if (max !== undefined) return `at most ${max}`;
  return 'any value';
}

/** A short name for the type of a value, for error messages. */
export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return `${plural(value.length, 'byte')} of binary data`;
  if (value instanceof Set) return 'a set';
  if (typeof value === 'string') return value.length > 40 ? `the string "${value.slice(0, 37)}..."` : `the string ${JSON.stringify(value)}`;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return `${typeof value} ${String(value)}`;
  if (typeof value === 'object') return 'an object';
  return typeof value;
}

function isJsonSerializable(value: unknown, depth = 0): boolean {
  if (depth > 200) return false;
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every((item) => isJsonSerializable(item, depth + 1));
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.values(value).every((item) => isJsonSerializable(item, depth + 1));
  }
  return false;
}

/**
 * Keeps a schema's literal types when it is declared apart from the `startLoop` call.
 * @example const schema = defineSchema({ mode: { type: 'choice', choices: ['fast', 'best'] } });
 */
export function defineSchema<const S extends InputsSchema>(schema: S & NoInfer<StrictSchema<S>>): S {
  return schema;
}
