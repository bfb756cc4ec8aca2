// OpenAI's own OpenAPI document (openai/openai-openapi, MIT): the schemas every answer and stream
// chunk of MODE=openai is validated against, with the schemas they reference, as
// test/fixtures/openai/extract.mjs takes them out of the 3 MB document (schemas.json).
import { readFileSync } from 'node:fs';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { fixture } from './run-process.js';

/** The component schemas the tests validate against. */
export type OpenAiSchema =
  | 'CreateChatCompletionResponse'
  | 'CreateChatCompletionStreamResponse'
  | 'CreateCompletionResponse'
  | 'CompletionStreamChunk'
  | 'CreateEmbeddingResponse'
  | 'ListModelsResponse'
  | 'Model'
  | 'ErrorResponse';

type Schema = Record<string, unknown>;

let ajv: Ajv2020 | undefined;
const validators = new Map<OpenAiSchema, ValidateFunction>();

function build(): Ajv2020 {
  const document = JSON.parse(readFileSync(fixture('openai/schemas.json'), 'utf8')) as { components: { schemas: Record<string, Schema> } };
  const all = document.components.schemas;
  const wanted: OpenAiSchema[] = [
    'CreateChatCompletionResponse',
    'CreateChatCompletionStreamResponse',
    'CreateCompletionResponse',
    'CreateEmbeddingResponse',
    'ListModelsResponse',
    'Model',
    'ErrorResponse',
  ];
  const taken: Record<string, unknown> = {};
  const take = (name: string) => {
    if (name in taken) return;
    const schema = all[name];
    if (!schema) throw new Error(`openapi.yaml has no schema ${name}`);
    taken[name] = null;
    taken[name] = convert(schema, take);
  };
  for (const name of wanted) take(name);
  // The document describes a streamed completion's chunks with CreateCompletionResponse itself,
  // whose finish_reason is a string; OpenAI's API sends null until the last chunk (as it does in
  // chat chunks, whose own schema says so), and so does MODE=openai: that one field is amended.
  const chunk = structuredClone(taken.CreateCompletionResponse) as { properties: { choices: { items: { properties: Schema } } } };
  const choice = chunk.properties.choices.items.properties;
  choice.finish_reason = { anyOf: [choice.finish_reason, { type: 'null' }] };
  taken.CompletionStreamChunk = chunk;
  // The document is OpenAPI 3.1 (JSON Schema 2020-12) with its own keywords (x-oaiMeta, x-stainless-const) beside the schemas.
  const built = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
  built.addSchema({ $id: 'openai', components: { schemas: taken } });
  return built;
}

// A few schemas still say `nullable: true` (OpenAPI 3.0's way): it means "or null".
function convert(value: unknown, take: (name: string) => void): unknown {
  if (Array.isArray(value)) return value.map((item) => convert(item, take));
  if (value === null || typeof value !== 'object') return value;
  const converted: Schema = {};
  for (const [key, item] of Object.entries(value as Schema)) {
    if (key === '$ref' && typeof item === 'string') take(item.split('/').pop()!);
    if (key === 'nullable' || key === 'x-oaiMeta' || key === 'example') continue;
    converted[key] = convert(item, take);
  }
  if ((value as Schema).nullable === true) return { anyOf: [converted, { type: 'null' }] };
  return converted;
}

/** Why `body` is not a valid `name` of OpenAI's document, or undefined when it is. */
export function openAiSchemaProblems(name: OpenAiSchema, body: unknown): string | undefined {
  // Each schema is compiled when first used: the chat schemas take seconds on a busy machine.
  let validate = validators.get(name);
  if (!validate) {
    ajv ??= build();
    validate = ajv.getSchema(`openai#/components/schemas/${name}`)!;
    validators.set(name, validate);
  }
  if (validate(body)) return undefined;
  return (validate.errors ?? []).map((error) => `${error.instancePath || '/'} ${error.message} ${JSON.stringify(error.params)}`).join('; ');
}
