import { isPlainObject } from '../inputs/safe-record.js';
import { type OutputFieldValue, type OutputFile, type OutputResult, outputProblems } from '../result/output-fields.js';
import type { FieldsOutputDescription, OutputDescription } from '../types.js';

// `data:<media type>[;parameters];base64,<bytes>`, as a worker writes each file (DataUrl).
const dataUrl = /^data:([^,;]+(?:;[^,;]+=[^,;]+)*);base64,/;

function fileOf(value: unknown): OutputFile | undefined {
  if (typeof value !== 'string') return undefined;
  const match = dataUrl.exec(value);
  if (!match) return undefined;
  return { 'content-type': match[1]!, data: Buffer.from(value.slice(match[0].length), 'base64'), success: true };
}

/**
 * A worker's structured output rebuilt at the gateway: the envelope's `output` holds each file as
 * a `data:` URL, and the model's output description (which the workers publish) says which fields
 * are files, so the gateway's modes answer it as the model served directly does (KServe's tensor
 * per field, the page's images, the gateway's own uploads). undefined when it cannot be rebuilt:
 * no fields description, or a file field that holds no data: URL (the worker uploaded it: its URL
 * stays, as JSON).
 */
export function structuredOutputOf(value: unknown, description: OutputDescription | undefined): OutputResult | undefined {
  if (description?.type !== 'fields' || !isPlainObject(value)) return undefined;
  const fields: Record<string, OutputFieldValue> = { ...(value as Record<string, OutputFieldValue>) };
  for (const [name, field] of Object.entries((description as FieldsOutputDescription).fields)) {
    if (field.type === 'json' || !Object.hasOwn(fields, name)) continue;
    const given = fields[name];
    if (field.list) {
      if (!Array.isArray(given)) return undefined;
      const files = given.map(fileOf);
      if (files.some((file) => file === undefined)) return undefined;
      fields[name] = files as OutputFile[];
    } else {
      const file = fileOf(given);
      if (!file) return undefined;
      fields[name] = file;
    }
  }
  if (outputProblems(fields).length > 0) return undefined;
  return { 'content-type': 'application/json', data: fields, success: true };
}
