import { AiIntegrationError } from '../../src/errors.js';
import { describeType } from '../../src/inputs/schema.js';
import { isPlainObject, setOwn } from '../../src/inputs/safe-record.js';
import type { ModelInfo } from '../../src/http/protocol.js';
import type { InputsSchema } from '../../src/types.js';

/** A request field that is not what OpenAI's API takes: 400, `param` naming it. */
export function badField(field: string, message: string): AiIntegrationError {
  return new AiIntegrationError('AI_ERR_MALFORMED_INPUT', `${field}: ${message}`, { field });
}

/** The body as an object; anything else is a 400. */
export function requestObject(body: unknown, example: string): Record<string, unknown> {
  if (!isPlainObject(body)) throw new AiIntegrationError('AI_ERR_MALFORMED_INPUT', `expected a JSON object such as ${example}, got ${describeType(body)}`);
  return body;
}

/**
 * Checks `model` against the model served here: a request for another is OpenAI's 404
 * `model_not_found`. A request that names none is served by the one model there is.
 */
export function checkModel(body: Record<string, unknown>, model: ModelInfo): void {
  const { model: asked } = body;
  if (asked === undefined) return;
  if (typeof asked !== 'string') throw badField('model', `expected the model's name as a string, got ${describeType(asked)}`);
  if (asked !== model.name) {
    throw new AiIntegrationError(
      'AI_ERR_NOT_FOUND',
      `The model \`${asked}\` does not exist: this server serves ${JSON.stringify(model.name)} (GET /v1/models)`,
      {
        field: 'model',
      },
    );
  }
}

/** `n`: how many choices to generate, 1 unless said (each is one inference). */
export function choiceCount(body: Record<string, unknown>): number {
  const { n } = body;
  if (n === undefined || n === null) return 1;
  if (!Number.isInteger(n) || (n as number) < 1 || (n as number) > 128)
    throw badField('n', `expected an integer from 1 to 128, got ${JSON.stringify(n) ?? describeType(n)}`);
  return n as number;
}

/** `stream` and `stream_options.include_usage`. */
export function streaming(body: Record<string, unknown>): { stream: boolean; includeUsage: boolean } {
  const { stream, stream_options: options } = body;
  if (stream !== undefined && stream !== null && typeof stream !== 'boolean') throw badField('stream', `expected true or false, got ${describeType(stream)}`);
  if (options !== undefined && options !== null && !isPlainObject(options))
    throw badField('stream_options', `expected an object, got ${describeType(options)}`);
  const includeUsage = isPlainObject(options) && options.include_usage === true;
  return { stream: stream === true, includeUsage };
}

/** `stop`: a string or a list of up to 4 strings. */
export function checkStop(body: Record<string, unknown>): void {
  const { stop } = body;
  if (stop === undefined || stop === null || typeof stop === 'string') return;
  if (!Array.isArray(stop) || stop.length > 4 || !stop.every((item) => typeof item === 'string')) {
    throw badField('stop', `expected a string or a list of up to 4 strings, got ${describeType(stop)}${Array.isArray(stop) ? ` of ${stop.length}` : ''}`);
  }
}

/**
 * The raw inputs for the model: `given` (what the route built: messages, prompt, input) and every
 * other field of the body the model's schema takes (temperature, seed, tools, ...), for the schema
 * to check; fields it does not take are left out, as OpenAI-compatible servers do with sampling
 * options a model has not got. `max_completion_tokens` is `max_tokens` by its newer name.
 */
export function modelInputs(body: Record<string, unknown>, schema: InputsSchema, given: Record<string, unknown>): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(body)) {
    if (name in given || !Object.hasOwn(schema, name) || value === null) continue;
    setOwn(raw, name, value);
  }
  const newer = body.max_completion_tokens;
  if (newer !== undefined && newer !== null && Object.hasOwn(schema, 'max_tokens')) raw.max_tokens = newer;
  for (const [name, value] of Object.entries(given)) setOwn(raw, name, value);
  return raw;
}

/**
 * A field that changes what the model must do (tools, a response format) and that this model
 * does not take is a 400: leaving it out would answer something other than what was asked.
 */
export function refuseUntaken(
  body: Record<string, unknown>,
  schema: InputsSchema,
  fields: readonly [name: string, harmless: (value: unknown) => boolean][],
): void {
  for (const [name, harmless] of fields) {
    const value = body[name];
    if (value === undefined || value === null || Object.hasOwn(schema, name) || harmless(value)) continue;
    throw badField(name, `this model does not take ${name}: its schema has no "${name}" input`);
  }
}
