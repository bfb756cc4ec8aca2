import { describe, expect, test } from 'vitest';
import { InvalidSchemaError } from '../../src/errors.js';
import { validateSchema } from '../../src/inputs/schema.js';

const refuse = (schema: unknown) => {
  try {
    validateSchema(schema as never);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidSchemaError);
    expect((error as InvalidSchemaError).code).toBe('AI_ERR_INVALID_SCHEMA');
    expect((error as InvalidSchemaError).exitCode).toBe(3);
    expect((error as Error).message).not.toContain('\n');
    return (error as Error).message;
  }
  throw new Error(`accepted ${JSON.stringify(schema)}`);
};

describe('validateSchema', () => {
  test('accepts the Python library schemas unchanged, and every typed input', () => {
    const schemas = [
      { image: { type: 'image' } },
      { style: { type: 'image' }, content: { type: 'image' } },
      { sentence: { type: 'text' } },
      {
        strength: { type: 'number', min: 0, max: 1, default: 0, description: 'how strong' },
        steps: { type: 'integer', min: 1, max: 1, default: 1, required: false },
        fast: { type: 'boolean', default: true },
        style: { type: 'choice', choices: ['a', 'b'], default: 'b' },
        config: { type: 'json', default: { a: [1, null, 'x'] } },
        audio: { type: 'file', required: false },
      },
      {},
    ];
    for (const schema of schemas) expect(validateSchema(schema as never)).toBe(schema);
  });

  test.each([
    [null, '(schema): expected an object of input names to input descriptions, got null'],
    [[{ type: 'image' }], '(schema): expected an object of input names to input descriptions, got an array'],
    [{ image: 'image' }, 'image: expected an object such as { type: \'image\' }, got the string "image"'],
    [{ image: {} }, 'image: unknown type undefined; expected one of image, text'],
    [{ photo: { type: 'picture' } }, 'photo: unknown type "picture"; expected one of image, text, number, integer, boolean, choice, json, file (did you mean'],
    [{ '': { type: 'text' } }, "'': input names must not be empty"],
    [
      { image: { type: 'image', default: 'x' } },
      "image: unknown property 'default' for type image; allowed: type, description, required, example; binary inputs cannot have a default",
    ],
    [{ n: { type: 'number', min: 5, max: 1 } }, 'n: min (5) is greater than max (1)'],
    [{ n: { type: 'number', min: '0' } }, 'n: min must be a finite number, got the string "0"'],
    [{ n: { type: 'number', max: 1, default: 2 } }, 'n: default 2 is outside the bounds at most 1'],
    [{ n: { type: 'number', default: 'ten' } }, 'n: default must be a finite number, got the string "ten"'],
    [{ n: { type: 'integer', default: 1.5 } }, 'n: default must be an integer, got 1.5'],
    [{ n: { type: 'integer', min: 0.5 } }, 'n: min must be an integer for an integer input, got 0.5'],
    [{ c: { type: 'choice', choices: [] } }, "c: a choice input needs 'choices', a non-empty list of strings"],
    [{ c: { type: 'choice', choices: ['a', 1] } }, 'c: every choice must be a string, got number 1'],
    [{ c: { type: 'choice', choices: ['a', 'a'] } }, 'c: choices must not repeat'],
    [{ c: { type: 'choice', choices: ['a', 'b'], default: 'z' } }, 'c: default "z" is not one of the choices a, b'],
    [{ t: { type: 'text', default: 5 } }, 't: default must be a string, got number 5'],
    [{ b: { type: 'boolean', default: 'yes' } }, 'b: default must be true or false, got the string "yes"'],
    [{ j: { type: 'json', default: new Date(0) } }, 'j: default must be a JSON value'],
    [{ t: { type: 'text', required: 'no' } }, 't: \'required\' must be true or false, got the string "no"'],
    [{ t: { type: 'text', description: 3 } }, "t: 'description' must be a string, got number 3"],
  ])('refuses %j: %s', (schema, message) => {
    expect(refuse(schema)).toContain(`invalid inputs schema: ${message}`);
  });

  test('every problem at once: each input, each unknown property, and the values checked once their bounds are sound', () => {
    try {
      validateSchema({
        a: { type: 'imgae' },
        b: { type: 'number', minimum: 0, maximum: 1, max: 1, default: 2 },
        c: { type: 'choice', options: ['x'] },
        d: { type: 'integer', min: 5, max: 1, default: 0 },
        e: { type: 'text' },
      } as never);
      throw new Error('accepted');
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidSchemaError);
      const { problems, message, field, exitCode } = error as InvalidSchemaError;
      expect(exitCode).toBe(3);
      expect(field).toBe('a');
      expect(problems).toEqual([
        expect.stringMatching(/^a: unknown type "imgae"/),
        expect.stringMatching(/^b: unknown property 'minimum' .*did you mean 'min'/),
        expect.stringMatching(/^b: unknown property 'maximum' .*did you mean 'max'/),
        'b: default 2 is outside the bounds at most 1',
        expect.stringMatching(/^c: unknown property 'options' .*did you mean 'choices'/),
        'd: min (5) is greater than max (1)',
      ]);
      expect(message).toBe(`invalid inputs schema, 6 problems:\n${problems.map((problem) => `  ${problem}`).join('\n')}`);
    }
  });
});
