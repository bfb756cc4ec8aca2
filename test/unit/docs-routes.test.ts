// The API docs (/docs and its two static files) are read-only: GET and HEAD answer, any other
// method is 405 with Allow, as every other route answers a method it does not take.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startInProcess, type InProcessService } from '../helpers/in-process-service.js';

let service: InProcessService;
beforeAll(async () => {
  service = await startInProcess({ mode: 'http', model: 'http-model.mjs' });
});
afterAll(async () => {
  await service.close();
});

const paths = ['/docs', '/docs/swagger-ui.css', '/docs/swagger-ui-bundle.js'];

describe.each(paths)('%s', (path) => {
  test.each(['POST', 'OPTIONS', 'PUT', 'DELETE'] as const)('%s is 405 with Allow: GET, HEAD', async (method) => {
    const answer = await service.inject({ method, url: path, headers: { 'content-type': 'text/plain' }, body: method === 'OPTIONS' ? undefined : 'x' });
    expect(answer.status).toBe(405);
    expect(answer.headers.allow).toBe('GET, HEAD');
    expect(answer.json().error).toMatchObject({ code: 'AI_ERR_METHOD_NOT_ALLOWED', message: `${method} is not allowed on ${path}; use GET, HEAD` });
  });

  test.each(['GET', 'HEAD'] as const)('%s answers 200', async (method) => {
    const answer = await service.inject({ method, url: path });
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toMatch(/^text\/(html|css|javascript)/);
  });
});
