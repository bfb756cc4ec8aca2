import { mustBeGiven } from '../../src/inputs/schema.js';
import type { InputSpec, InputsSchema } from '../../src/types.js';

/**
 * The input a request names no input for goes to (a raw binary request, a V1 instance that is a
 * bare value): the schema's only input, or else its only input that must be given.
 */
export function soleInput(schema: InputsSchema): [string, InputSpec] | undefined {
  const entries = Object.entries(schema);
  if (entries.length === 1) return entries[0];
  const given = entries.filter(([, spec]) => mustBeGiven(spec));
  return given.length === 1 ? given[0] : undefined;
}
