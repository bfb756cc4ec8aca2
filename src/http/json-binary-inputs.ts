import { isPlainObject, setOwn } from '../inputs/safe-record.js';
import { isBinaryType } from '../inputs/schema.js';
import type { InputsSchema } from '../types.js';
import { liftLongStrings } from './json-long-strings.js';

/**
 * Parses a native JSON body (`{"inputs": {...}}`) whose image and file inputs are long base64
 * strings without making a JavaScript string of them (`liftLongStrings`): each such input is
 * decoded straight from the body's bytes.
 *
 * Undefined when the body is not such a body (small, not UTF-8, a long string that is not the
 * value of one of the schema's image or file inputs, or not base64 that `decodeBinaryBytes`
 * takes, or anything that does not parse); the caller then parses the body whole, which gives
 * every answer (errors included) it gives today.
 */
export function parseWithBinaryInputs(body: Buffer, schema: InputsSchema): Record<string, unknown> | undefined {
  const binaryInputs = Object.keys(schema).filter((name) => isBinaryType(schema[name]!.type));
  if (binaryInputs.length === 0) return undefined;
  const lifted = liftLongStrings(body);
  if (lifted === undefined) return undefined;
  const parsed = lifted.value;
  if (!isPlainObject(parsed) || !Object.hasOwn(parsed, 'inputs') || !isPlainObject(parsed.inputs)) return undefined;
  const values = parsed.inputs;
  for (const name of binaryInputs) {
    const value = Object.hasOwn(values, name) ? values[name] : undefined;
    if (!lifted.isLifted(value)) continue;
    const bytes = lifted.take(value);
    if (bytes === undefined) return undefined;
    setOwn(values, name, bytes);
  }
  // A long string anywhere else (a text input, a key, a nested value, a repeated key) is left to the whole parse.
  return lifted.allTaken() ? parsed : undefined;
}
