import sharp from 'sharp';
import { describe, expect, test } from 'vitest';
import { InvalidSchemaError } from '../../src/errors.js';
import { suggestType, validateSchema } from '../../src/inputs/schema.js';

const refuse = (schema: unknown): string => {
  try {
    validateSchema(schema as never);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidSchemaError);
    expect((error as InvalidSchemaError).exitCode).toBe(3);
    expect((error as Error).message).not.toContain('\n');
    return (error as Error).message.replace(/^invalid inputs schema: /, '');
  }
  throw new Error(`accepted ${JSON.stringify(schema)}`);
};

const types = 'expected one of image, text, number, integer, boolean, choice, json, file';

describe('an unknown type suggests what other schema languages mean by it, then the nearest spelling', () => {
  test.each([
    ['float', 'number'],
    ['double', 'number'],
    ['int', 'integer'],
    ['int64', 'integer'],
    ['bool', 'boolean'],
    ['str', 'text'],
    ['string', 'text'],
    ['list', 'json'],
    ['dict', 'json'],
    ['object', 'json'],
    ['array', 'json'],
    ['bytes', 'file'],
    ['binary', 'file'],
    ['path', 'file'],
    ['img', 'image'],
    ['picture', 'image'],
    ['photo', 'image'],
    ['enum', 'choice'],
    ['Image', 'image'],
    ['TEXT', 'text'],
    ['imgae', 'image'],
    ['nubmer', 'number'],
    ['boolen', 'boolean'],
  ])('%s: did you mean %s?', (type, meant) => {
    expect(suggestType(type)).toBe(meant);
    expect(refuse({ x: { type } })).toBe(`x: unknown type ${JSON.stringify(type)}; ${types} (did you mean '${meant}'?)`);
  });

  test('a constructor such as Number (the style of Mongoose and Vue) is named as a function, and mapped', () => {
    expect(refuse({ n: { type: Number } })).toBe(`n: unknown type the function Number; ${types} (did you mean 'number'?)`);
    expect(refuse({ s: { type: String } })).toBe(`s: unknown type the function String; ${types} (did you mean 'text'?)`);
  });

  test('no type, or one that is not text, gets no guess', () => {
    expect(refuse({ x: {} })).toBe(`x: unknown type undefined; ${types}`);
    expect(refuse({ x: { type: 5 } })).toBe(`x: unknown type 5; ${types}`);
  });
});

describe('a property the type does not know is refused with a did-you-mean', () => {
  const text = 'allowed: type, description, required, default, example';
  const number = 'allowed: type, description, required, default, min, max, example';
  const image = 'allowed: type, description, required, example';
  test.each([
    [{ prompt: { type: 'text', defualt: 'x' } }, `prompt: unknown property 'defualt' for type text (did you mean 'default'?); ${text}`],
    [{ prompt: { type: 'text', descripton: 'x' } }, `prompt: unknown property 'descripton' for type text (did you mean 'description'?); ${text}`],
    [{ prompt: { type: 'text', requried: false } }, `prompt: unknown property 'requried' for type text (did you mean 'required'?); ${text}`],
    [{ prompt: { type: 'text', Default: 'x' } }, `prompt: unknown property 'Default' for type text (did you mean 'default'?); ${text}`],
    [{ prompt: { type: 'text', optional: true } }, `prompt: unknown property 'optional' for type text (did you mean 'required'?); ${text}`],
    [{ prompt: { type: 'text', examples: ['a'] } }, `prompt: unknown property 'examples' for type text (did you mean 'example'?); ${text}`],
    [{ n: { type: 'number', minimum: 0 } }, `n: unknown property 'minimum' for type number (did you mean 'min'?); ${number}`],
    [{ n: { type: 'number', maximum: 1 } }, `n: unknown property 'maximum' for type number (did you mean 'max'?); ${number}`],
    [
      { n: { type: 'integer', ge: 1 } },
      "n: unknown property 'ge' for type integer (did you mean 'min'?); allowed: type, description, required, default, min, max, example",
    ],
    [
      { c: { type: 'choice', choice: ['a', 'b'] } },
      "c: unknown property 'choice' for type choice (did you mean 'choices'?); allowed: type, description, required, default, choices, example",
    ],
    [
      { c: { type: 'choice', options: ['a', 'b'] } },
      "c: unknown property 'options' for type choice (did you mean 'choices'?); allowed: type, description, required, default, choices, example",
    ],
    // Another type's property: say whose it is.
    [{ t: { type: 'text', min: 1 } }, `t: unknown property 'min' for type text; ${text}; 'min' is for number and integer inputs`],
    [{ t: { type: 'text', minimum: 1 } }, `t: unknown property 'minimum' for type text; ${text}; did you mean 'min'? 'min' is for number and integer inputs`],
    [{ t: { type: 'text', choices: ['a'] } }, `t: unknown property 'choices' for type text; ${text}; 'choices' is for choice inputs`],
    [{ image: { type: 'image', default: 'x' } }, `image: unknown property 'default' for type image; ${image}; binary inputs cannot have a default`],
    [
      { image: { type: 'image', defualt: 1 } },
      `image: unknown property 'defualt' for type image; ${image}; did you mean 'default'? binary inputs cannot have a default`,
    ],
    // Nothing close: the list of what is allowed says it all.
    [{ image: { type: 'image', colour: 'red' } }, `image: unknown property 'colour' for type image; ${image}`],
  ])('%j', (schema, message) => {
    expect(refuse(schema)).toBe(message);
  });
});

describe('example: a value the web page fills in, checked as default is', () => {
  const gif = 'data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7';

  test('accepts a valid example for every type', async () => {
    const png = `data:image/png;base64,${(
      await sharp({ create: { width: 2, height: 2, channels: 3, background: '#888' } })
        .png()
        .toBuffer()
    ).toString('base64')}`;
    const schema = {
      image: { type: 'image', example: png },
      gif: { type: 'image', example: gif, required: false },
      audio: { type: 'file', example: 'data:audio/wav;base64,UklGRg==' },
      note: { type: 'file', example: 'data:,hello%20world' },
      prompt: { type: 'text', example: 'a cat on a mat' },
      strength: { type: 'number', min: 0, max: 1, example: 0.5 },
      steps: { type: 'integer', min: 1, max: 50, example: 20 },
      fast: { type: 'boolean', example: true },
      style: { type: 'choice', choices: ['photo', 'sketch'], example: 'sketch' },
      config: { type: 'json', example: { a: [1, null] } },
    };
    expect(validateSchema(schema as never)).toBe(schema);
  });

  test.each([
    [{ t: { type: 'text', example: 5 } }, 't: example must be a string, got number 5'],
    [{ n: { type: 'number', max: 1, example: 2 } }, 'n: example 2 is outside the bounds at most 1'],
    [{ n: { type: 'number', example: '0.5' } }, 'n: example must be a finite number, got the string "0.5"'],
    [{ n: { type: 'integer', example: 1.5 } }, 'n: example must be an integer, got 1.5'],
    [{ b: { type: 'boolean', example: 'yes' } }, 'b: example must be true or false, got the string "yes"'],
    [{ c: { type: 'choice', choices: ['a', 'b'], example: 'z' } }, 'c: example "z" is not one of the choices a, b'],
    [{ j: { type: 'json', example: new Map() } }, 'j: example must be a JSON value (object, array, string, number, boolean or null)'],
    [{ photo: { type: 'image', example: 42 } }, 'photo: example must be a data: URL such as data:image/jpeg;base64,..., got number 42'],
    [
      { photo: { type: 'image', example: 'cat.png' } },
      "photo: example must be a data: URL such as data:image/jpeg;base64,..., got the string \"cat.png\"; for a file beside the shim, read it into one: `data:image/png;base64,${readFileSync(new URL('cat.png', import.meta.url)).toString('base64')}`",
    ],
    [
      { doc: { type: 'file', example: './examples/report.pdf' } },
      "doc: example must be a data: URL such as data:application/pdf;base64,..., got the string \"./examples/report.pdf\"; for a file beside the shim, read it into one: `data:application/pdf;base64,${readFileSync(new URL('examples/report.pdf', import.meta.url)).toString('base64')}`",
    ],
    [
      { photo: { type: 'image', example: 'https://example.com/cat.jpg' } },
      'photo: example must be a data: URL such as data:image/jpeg;base64,..., got the string "https://example.com/cat.jpg"; URLs are not fetched (a container is often offline)',
    ],
    [{ photo: { type: 'image', example: 'data:image/png;base64,' } }, 'photo: example is a data: URL with no data'],
    [{ photo: { type: 'image', example: 'data:image/png;base64,!!!!' } }, 'photo: example is a data: URL whose base64 data is not valid'],
    [
      { photo: { type: 'image', example: 'data:text/plain,hello' } },
      'photo: example is not an image (5 bytes starting 68656c6c6f, which match no image format)',
    ],
    [
      { photo: { type: 'image', example: 'data:image/png;base64,iVBORw0KGgo=' } },
      'photo: example is not an image that can be decoded (a png signature, but its header cannot be read:',
    ],
  ])('%j', (schema, message) => {
    expect(refuse(schema)).toContain(message);
  });
});
