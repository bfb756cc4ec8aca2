import { closest } from 'fastest-levenshtein';
import { InvalidSchemaError } from './errors.js';
import type { InputSpec, InputsSchema, InputType } from './types.js';

/** Every input type, in the order the README lists them. */
export const inputTypes: readonly InputType[] = ['image', 'text', 'number', 'integer', 'boolean', 'choice', 'json', 'file'];

const binaryTypes: ReadonlySet<InputType> = new Set(['image', 'file']);

/** Whether inputs of this type arrive as a `Buffer`. */
export function isBinaryType(type: InputType): type is 'image' | 'file' {
  return binaryTypes.has(type);
}

// Which properties each type accepts, so that a typo such as `requried` is caught instead of ignored.
const allowedProperties: Record<InputType, readonly string[]> = {
  image: ['type', 'description', 'required'],
  file: ['type', 'description', 'required'],
  text: ['type', 'description', 'required', 'default'],
  number: ['type', 'description', 'required', 'default', 'min', 'max'],
  integer: ['type', 'description', 'required', 'default', 'min', 'max'],
  boolean: ['type', 'description', 'required', 'default'],
  choice: ['type', 'description', 'required', 'default', 'choices'],
  json: ['type', 'description', 'required', 'default'],
};

/** Whether the input must be given by the caller (required and without a default). */
export function mustBeGiven(spec: InputSpec): boolean {
  return spec.required !== false && !('default' in spec && spec.default !== undefined);
}

/**
 * Checks an inputs schema and returns it unchanged; throws `InvalidSchemaError` naming the input.
 */
export function validateSchema<S extends InputsSchema>(schema: S): S {
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) {
    throw new InvalidSchemaError('(schema)', `expected an object of input names to input descriptions, got ${describeType(schema)}`);
  }
  for (const [name, spec] of Object.entries(schema)) validateSpec(name, spec as unknown);
  return schema;
}

function validateSpec(name: string, spec: unknown): void {
  if (name === '') throw new InvalidSchemaError("''", 'input names must not be empty');
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) {
    throw new InvalidSchemaError(name, `expected an object such as { type: 'image' }, got ${describeType(spec)}`);
  }
  const record = spec as Record<string, unknown>;
  const type = record.type;
  if (typeof type !== 'string' || !(inputTypes as readonly string[]).includes(type)) {
    const suggestion = typeof type === 'string' ? ` (did you mean '${closest(type, [...inputTypes])}'?)` : '';
    throw new InvalidSchemaError(name, `unknown type ${JSON.stringify(type) ?? String(type)}; expected one of ${inputTypes.join(', ')}${suggestion}`);
  }
  const inputType = type as InputType;
  for (const key of Object.keys(record)) {
    if (!allowedProperties[inputType].includes(key)) {
      const extra = isBinaryType(inputType) && key === 'default' ? '; binary inputs cannot have a default' : '';
      throw new InvalidSchemaError(name, `unknown property '${key}' for type ${inputType}; allowed: ${allowedProperties[inputType].join(', ')}${extra}`);
    }
  }
  if (record.required !== undefined && typeof record.required !== 'boolean') {
    throw new InvalidSchemaError(name, `'required' must be true or false, got ${describeType(record.required)}`);
  }
  if (record.description !== undefined && typeof record.description !== 'string') {
    throw new InvalidSchemaError(name, `'description' must be a string, got ${describeType(record.description)}`);
  }
  validateTypeSpecifics(name, inputType, record);
}

function validateTypeSpecifics(name: string, type: InputType, spec: Record<string, unknown>): void {
  const defaultValue = spec.default;
  switch (type) {
    case 'text':
      if (defaultValue !== undefined && typeof defaultValue !== 'string') {
        throw new InvalidSchemaError(name, `default must be a string, got ${describeType(defaultValue)}`);
      }
      return;
    case 'boolean':
      if (defaultValue !== undefined && typeof defaultValue !== 'boolean') {
        throw new InvalidSchemaError(name, `default must be true or false, got ${describeType(defaultValue)}`);
      }
      return;
    case 'number':
    case 'integer':
      validateBounds(name, type, spec);
      return;
    case 'choice':
      validateChoices(name, spec);
      return;
    case 'json':
      if (defaultValue !== undefined && !isJsonSerializable(defaultValue)) {
        throw new InvalidSchemaError(name, 'default must be a JSON value (object, array, string, number, boolean or null)');
      }
      return;
    case 'image':
    case 'file':
      return;
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
  const defaultValue = spec.default;
  if (defaultValue === undefined) return;
  if (typeof defaultValue !== 'number' || !Number.isFinite(defaultValue)) {
    throw new InvalidSchemaError(name, `default must be a finite number, got ${describeType(defaultValue)}`);
  }
  if (type === 'integer' && !Number.isSafeInteger(defaultValue)) {
    throw new InvalidSchemaError(name, `default must be an integer, got ${defaultValue}`);
  }
  if ((min !== undefined && defaultValue < min) || (max !== undefined && defaultValue > max)) {
    throw new InvalidSchemaError(name, `default ${defaultValue} is outside the bounds ${describeBounds(min, max)}`);
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
  const defaultValue = spec.default;
  if (defaultValue !== undefined && !choices.includes(defaultValue)) {
    throw new InvalidSchemaError(name, `default ${JSON.stringify(defaultValue)} is not one of the choices ${choices.join(', ')}`);
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
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return `${value.length} bytes of binary data`;
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
export function defineSchema<const S extends InputsSchema>(schema: S): S {
  return schema;
}
