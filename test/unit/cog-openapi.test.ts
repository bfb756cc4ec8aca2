import { Validator } from '@seriousme/openapi-schema-validator';
import { describe, expect, test } from 'vitest';
import { cogOpenApiDocument, cogTitle } from '../../modes/cog/openapi.js';
import type { InputsSchema } from '../../src/types.js';

const schema: InputsSchema = {
  image: { type: 'image', description: 'a photo' },
  mode: { type: 'choice', choices: ['fast', 'best'], default: 'fast', description: 'speed or quality' },
  guidance_scale: { type: 'number', min: 0, max: 20, default: 7.5 },
  steps: { type: 'integer', min: 1, max: 50 },
  upscale: { type: 'boolean', default: false },
  prompt: { type: 'text', required: false },
  options: { type: 'json', default: { seed: 1 } },
  audio: { type: 'file', required: false },
};
const model = { name: 'edge-detector', version: '1.2.3', description: 'edges' };

type Doc = { components: { schemas: Record<string, any> }; paths: Record<string, any> };
const documentOf = (inputs: InputsSchema) => cogOpenApiDocument(inputs, model) as unknown as Doc;

describe('the Cog OpenAPI document', () => {
  test("is a valid OpenAPI 3.0.2 document with Cog's components and routes", async () => {
    const document = documentOf(schema);
    const result = await new Validator().validate(document as unknown as Parameters<Validator['validate']>[0]);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect((document as any).openapi).toBe('3.0.2');
    expect(Object.keys(document.components.schemas)).toEqual([
      'Input',
      'Output',
      'mode',
      'PredictionRequest',
      'PredictionResponse',
      'Status',
      'WebhookEvent',
      'HTTPValidationError',
      'ValidationError',
      'Error',
    ]);
    expect(Object.keys(document.paths)).toEqual([
      '/',
      '/health-check',
      '/predictions',
      '/predictions/{prediction_id}',
      '/predictions/{prediction_id}/cancel',
      '/shutdown',
    ]);
    expect(document.paths['/predictions'].post.responses['422'].content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/HTTPValidationError',
    });
    expect(document.paths['/predictions/{prediction_id}'].put.parameters[0]).toMatchObject({ name: 'prediction_id', in: 'path', required: true });
    expect(document.components.schemas.Status.enum).toEqual(['starting', 'processing', 'succeeded', 'canceled', 'failed']);
    expect(document.components.schemas.ValidationError.required).toEqual(['loc', 'msg', 'type']);
  });

  test('Input lists the inputs in order with x-order, titles, defaults, bounds, uri formats and required names', () => {
    const input = documentOf(schema).components.schemas.Input;
    expect(input.title).toBe('Input');
    expect(input.type).toBe('object');
    expect(Object.keys(input.properties)).toEqual(Object.keys(schema));
    expect(input.required).toEqual(['image', 'steps']);
    expect(input.properties).toEqual({
      image: { title: 'Image', type: 'string', format: 'uri', 'x-cog-accept': 'image/*', 'x-order': 0, description: 'a photo' },
      mode: { allOf: [{ $ref: '#/components/schemas/mode' }], 'x-order': 1, default: 'fast', description: 'speed or quality' },
      guidance_scale: { title: 'Guidance Scale', type: 'number', 'x-order': 2, default: 7.5, minimum: 0, maximum: 20 },
      steps: { title: 'Steps', type: 'integer', 'x-order': 3, minimum: 1, maximum: 50 },
      upscale: { title: 'Upscale', type: 'boolean', 'x-order': 4, default: false },
      prompt: { title: 'Prompt', type: 'string', 'x-order': 5, nullable: true },
      options: { title: 'Options', 'x-order': 6, default: { seed: 1 } },
      audio: { title: 'Audio', type: 'string', format: 'uri', 'x-order': 7, nullable: true },
    });
  });

  test('a choice is allOf a $ref to its own enum component, as Cog emits it', () => {
    const { schemas } = documentOf(schema).components;
    expect(schemas.mode).toEqual({ title: 'mode', description: 'An enumeration.', enum: ['fast', 'best'], type: 'string' });
  });

  test("enum component names are valid and never take a fixed component's name or each other's", async () => {
    const document = documentOf({
      Status: { type: 'choice', choices: ['a'] },
      'my style': { type: 'choice', choices: ['b'] },
      my_style: { type: 'choice', choices: ['c'] },
    });
    const { schemas } = document.components;
    const input = schemas.Input;
    expect(input.properties.Status.allOf[0].$ref).toBe('#/components/schemas/Status_2');
    expect(input.properties['my style'].allOf[0].$ref).toBe('#/components/schemas/my_style');
    expect(input.properties.my_style.allOf[0].$ref).toBe('#/components/schemas/my_style_2');
    expect(schemas.Status.enum).toEqual(['starting', 'processing', 'succeeded', 'canceled', 'failed']);
    expect(schemas.Status_2.enum).toEqual(['a']);
    expect(schemas.my_style_2.enum).toEqual(['c']);
    expect((await new Validator().validate(document as unknown as Parameters<Validator['validate']>[0])).valid).toBe(true);
  });

  test('a model without inputs has an Input with no required list; an input named __proto__ stays a property', () => {
    expect(documentOf({}).components.schemas.Input).toEqual({ title: 'Input', type: 'object', properties: {} });
    const input = documentOf(JSON.parse('{"__proto__": {"type": "text"}}') as InputsSchema).components.schemas.Input;
    expect(Object.keys(input.properties)).toEqual(['__proto__']);
    expect(JSON.stringify(input)).toContain('"__proto__":{"title":"  Proto  ","type":"string","x-order":0}');
  });

  test("titles are Cog's: words split on underscores, each capitalised", () => {
    expect(cogTitle('guidance_scale')).toBe('Guidance Scale');
    expect(cogTitle('image')).toBe('Image');
    expect(cogTitle('numInferenceSteps')).toBe('NumInferenceSteps');
  });
});
