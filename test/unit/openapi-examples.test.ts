// /docs's "Try it out" starts from what the OpenAPI document offers: each input's example, and a
// request body of the examples alone, so that Swagger UI fills in no value nobody chose.
import { expect, test } from 'vitest';
import { startInProcess } from '../helpers/in-process-service.js';

test("MODE=http's OpenAPI document carries each input's example, and a body example with no optional input pre-filled", async () => {
  const schema = {
    image: { type: 'image' },
    prompt: { type: 'text', example: 'a cat on a mat' },
    steps: { type: 'integer', min: 1, max: 50, default: 20, example: 8 },
    seed: { type: 'integer', min: 0, required: false },
    note: { type: 'text', required: false },
  } as const;
  const service = await startInProcess({
    mode: 'http',
    model: { inference: (() => ({ 'content-type': 'text/plain', data: 'x', success: true })) as never, schema },
  });
  try {
    const document = (await service.inject({ url: '/openapi.json' })).json();
    const body = document.paths['/predict'].post.requestBody.content['application/json'];
    expect(body.schema.properties.inputs.properties.prompt.examples).toEqual(['a cat on a mat']);
    expect(body.schema.properties.inputs.properties.steps.examples).toEqual([8]);
    expect(body.schema.properties.inputs.properties.seed.examples).toBeUndefined();
    expect(body.example).toEqual({ inputs: { prompt: 'a cat on a mat', steps: 8 } });
  } finally {
    await service.close();
  }
});
