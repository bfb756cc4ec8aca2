import { describe, expect, test } from 'vitest';
import { convertInputs } from '../../src/inputs/convert-inputs.js';
import { InvalidInputError } from '../../src/errors.js';
import { checkInputDepth, nestingDepth } from '../../src/inputs/input-depth.js';
import type { InputsSchema } from '../../src/types.js';

/** `depth` arrays, one inside the other, built without recursion. */
function nestedArrays(depth: number): unknown {
  let value: unknown = 0;
  for (let level = 0; level < depth; level++) value = [value];
  return value;
}

function refusal(run: () => unknown): InvalidInputError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInputError);
    return error as InvalidInputError;
  }
  throw new Error('accepted');
}

describe('nestingDepth', () => {
  test('counts levels of arrays, objects, sets and maps; scalars, strings and bytes are level 0', () => {
    expect(nestingDepth(5)).toBe(0);
    expect(nestingDepth('[[[not nested]]]')).toBe(0);
    expect(nestingDepth(null)).toBe(0);
    expect(nestingDepth(Buffer.alloc(1000))).toBe(0);
    expect(nestingDepth([])).toBe(1);
    expect(nestingDepth({ a: 1, b: 'x' })).toBe(1);
    expect(nestingDepth({ a: [[1], 2], b: { c: {} } })).toBe(3);
    expect(nestingDepth([Buffer.alloc(4), [new Uint8Array(2)]])).toBe(2);
    expect(nestingDepth(new Set([[1]]))).toBe(2);
    expect(nestingDepth(new Map([['k', { v: [1] }]]))).toBe(3);
  });

  test('measures a value far too deep for the stack without overflowing it', () => {
    expect(nestingDepth(nestedArrays(200_000))).toBe(200_000);
    expect(nestingDepth(JSON.parse(`${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)}`))).toBe(50_000);
  });

  test('a shared container is measured once: 100 levels of two references to one list stay cheap', () => {
    // Walked path by path this would be 2^100 visits; a pickle's memo can build exactly this.
    let shared: unknown = [1];
    for (let level = 0; level < 100; level++) shared = [shared, shared];
    expect(nestingDepth(shared)).toBe(101);
  });

  test('a value that holds itself has no finite depth', () => {
    const cycle: unknown[] = [[1]];
    cycle.push(cycle);
    expect(nestingDepth(cycle)).toBe(Number.POSITIVE_INFINITY);
    expect(refusal(() => checkInputDepth('loop', cycle, 1000)).message).toBe(
      'loop: holds itself (a reference cycle), so it nests without end, deeper than the limit of 1000 (MAX_INPUT_DEPTH)',
    );
  });
});

describe('checkInputDepth', () => {
  test('accepts the limit, refuses one level more, naming the field, the depth, the limit and MAX_INPUT_DEPTH', () => {
    expect(() => checkInputDepth('x', nestedArrays(128), 128)).not.toThrow();
    const error = refusal(() => checkInputDepth('x', nestedArrays(129), 128));
    expect(error.field).toBe('x');
    expect(error.httpStatus).toBe(422);
    expect(error.exitCode).toBe(2);
    expect(error.message).toBe('x: nests 129 levels of arrays and objects, deeper than the limit of 128 (MAX_INPUT_DEPTH)');
  });
});

describe('convertInputs with maxDepth', () => {
  const schema = { config: { type: 'json', required: false }, note: { type: 'text', required: false } } as const satisfies InputsSchema;

  test('checks listed, passed-through and text-parsed JSON values alike; the default limit is 128', async () => {
    const tooDeep = nestedArrays(129);
    await expect(convertInputs(schema, { config: tooDeep }, { origin: 'data' })).rejects.toMatchObject({ field: 'config', code: 'AI_ERR_INVALID_INPUT' });
    await expect(convertInputs(schema, { unlisted: tooDeep }, { origin: 'data' })).rejects.toMatchObject({ field: 'unlisted' });
    await expect(convertInputs(schema, { config: JSON.stringify(tooDeep) }, { origin: 'text' })).rejects.toMatchObject({
      field: 'config',
      message: 'config: nests 129 levels of arrays and objects, deeper than the limit of 128 (MAX_INPUT_DEPTH)',
    });
    await expect(convertInputs(schema, { config: nestedArrays(128), unlisted: nestedArrays(128) }, { origin: 'data' })).resolves.toBeDefined();
  });

  test('the option sets the limit', async () => {
    await expect(convertInputs(schema, { config: nestedArrays(3) }, { origin: 'data', maxDepth: 2 })).rejects.toMatchObject({ field: 'config' });
    await expect(convertInputs(schema, { config: nestedArrays(500) }, { origin: 'data', maxDepth: 500 })).resolves.toBeDefined();
  });
});
