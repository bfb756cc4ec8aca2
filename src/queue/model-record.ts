import type { BatchOptions, InputsSchema, OutputDescription } from '../types.js';

/**
 * What a queue's workers publish in Redis when they start, so that a gateway serves the model's
 * schema, page and docs without its code: the schema, the model's name, version, description and
 * output. Every worker writes the same record; the last one wins.
 */
export interface ModelRecord {
  schema: InputsSchema;
  name: string;
  version: string;
  description: string;
  output?: OutputDescription;
  batch?: BatchOptions;
  /** The ai-integration version of the worker that wrote it. */
  runtime: string;
}

/** The Redis key of a queue's model record, beside BullMQ's own keys (`bull:<queue>:...`). */
export const modelRecordKey = (queueName: string) => `ai-integration:${queueName}:model`;
