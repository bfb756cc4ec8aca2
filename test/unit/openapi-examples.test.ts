// /docs's "Try it out" starts from what the OpenAPI document offers: each input's example, and a
// request body of the examples alone, so that Swagger UI fills in no value nobody chose.
import { expect, test } from 'vitest';
import { startInProcess } from '../helpers/in-process-service.js';

/** MODE=http's OpenAPI document for a model with this schema, from the mode's own code in process. */
async function openApiOf(schema: Record<string, unknown>): Promise<any> {
  const service = await startInProcess({
    mode: 'http',
    model: { inference: (() => ({ 'content-type': 'text/plain', data: 'x', success: true })) as never, schema: schema as never },
  });
  try {
    return (await service.inject({ url: '/openapi.json' })).json();
  } finally {
    await service.close();
  }
}

test("MODE=http's OpenAPI document carries each input's example, and a body example with no optional input pre-filled", async () => {
  const schema = {
    image: { type: 'image' },
    prompt: { type: 'text', example: 'a cat on a mat' },
    steps: { type: 'integer', min: 1, max: 50, default: 20, example: 8 },
    seed: { type: 'integer', min: 0, required: false },
    note: { type: 'text', required: false },
  } as const;
  const document = await openApiOf(schema);
  const body = document.paths['/predict'].post.requestBody.content['application/json'];
  expect(body.schema.properties.inputs.properties.prompt.examples).toEqual(['a cat on a mat']);
  expect(body.schema.properties.inputs.properties.steps.examples).toEqual([8]);
  expect(body.schema.properties.inputs.properties.seed.examples).toBeUndefined();
  expect(body.example).toEqual({ inputs: { prompt: 'a cat on a mat', steps: 8 } });
});

test("MODE=http's OpenAPI document: /predict's multipart form comes first, with a file part for each binary input and an example of the chosen values alone", async () => {
  const schema = {
    image: { type: 'image' },
    mask: { type: 'file', required: false, example: 'data:application/octet-stream;base64,AAECAw==' },
    prompt: { type: 'text', example: 'a cat on a mat' },
    options: { type: 'json', required: false, example: { faces: 3 } },
    seed: { type: 'integer', min: 0, required: false },
  } as const;
  const document = await openApiOf(schema);
  const content = document.paths['/predict'].post.requestBody.content;
  expect(Object.keys(content)[0]).toBe('multipart/form-data');
  const form = content['multipart/form-data'];
  // Swagger UI (OpenAPI 3.1) offers a file picker for a string with a contentMediaType, and a text field without one.
  expect(form.schema.properties.image).toMatchObject({ type: 'string', contentMediaType: 'image/*' });
  expect(form.schema.properties.mask).toMatchObject({ type: 'string', contentMediaType: 'application/octet-stream' });
  expect(form.schema.properties.options.contentMediaType).toBeUndefined();
  expect(form.schema.properties.options.examples).toEqual(['{"faces":3}']);
  expect(form.schema.required).toEqual(['image', 'prompt']);
  // No data: URL in a file part, JSON as the text a form field holds, nothing for inputs without an example.
  expect(form.example).toEqual({ prompt: 'a cat on a mat', options: '{"faces":3}' });
});
