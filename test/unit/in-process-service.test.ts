// test/helpers/in-process-service.ts itself: a registered mode's own code, run in this process
// through the registry, with the environment a process would have.
import { describe, expect, test } from 'vitest';
import { makePng } from '../helpers/images.js';
import { startInProcess } from '../helpers/in-process-service.js';

const upper = {
  inference: (inputs: { text: string }) => ({ 'content-type': 'text/plain', data: inputs.text.toUpperCase(), success: true }),
  schema: { text: { type: 'text' } },
} as const;
const throwing = {
  inference: () => {
    throw new Error('CUDA error: device-side assert triggered');
  },
  schema: { text: { type: 'text' } },
} as const;

describe('startInProcess', () => {
  test('runs MODE=http with the given model and environment; inject sends a plain object as JSON; close() drains and ends with 0', async () => {
    const service = await startInProcess({ mode: 'http', model: upper, env: { AUTH_TOKEN: 'secret' }, options: { name: 'upper' } });
    expect(service.logs()).toMatch(/listening on http:\/\/127\.0\.0\.1:\d+ /);
    expect(service.url).toBe(`http://127.0.0.1:${service.port}`);
    const refused = await service.inject({ method: 'POST', url: '/predict', body: { inputs: { text: 'abc' } } });
    expect(refused.status).toBe(401);
    const answer = await service.inject({ method: 'POST', url: '/predict', body: { inputs: { text: 'abc' } }, headers: { authorization: 'Bearer secret' } });
    expect(answer.status, answer.text()).toBe(200);
    expect(answer.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(answer.text()).toContain('ABC');
    const info = await service.inject({ url: '/info', headers: { authorization: 'Bearer secret' } });
    expect(info.json()).toMatchObject({ model: { name: 'upper' } });
    expect(await service.close()).toBe(0);
  });

  test('a fixture shim by name: its model, with the environment the process would give it, named after the shim', async () => {
    const service = await startInProcess({ mode: 'kserve', model: 'echo-model.mjs', env: { FIXTURE_ACTION: 'text' } });
    try {
      const photo = await makePng(4, 4);
      const inputs = [
        { name: 'image', shape: [1], datatype: 'BYTES', data: [photo.toString('base64')] },
        { name: 'prompt', shape: [1], datatype: 'BYTES', data: ['hi'] },
      ];
      const answer = await service.inject({ method: 'POST', url: '/v2/models/echo-model/infer', body: { inputs } });
      expect(answer.status, answer.text()).toBe(200);
      expect(answer.json().outputs[0]).toMatchObject({ parameters: { content_type: 'text/plain' }, data: ['prompt was hi'] });
    } finally {
      await service.close();
    }
  });

  test('run directly, a throw ends the mode with the "threw" code once its answer is out, as the fault policy says', async () => {
    const service = await startInProcess({ mode: 'http', model: throwing });
    const answer = await service.inject({ method: 'POST', url: '/predict', body: { inputs: { text: 'x' } } });
    expect(answer.status).toBe(500);
    expect(await service.finished).toBe(70);
    expect(service.logs()).toContain('the inference function threw');
  });

  test('a setting the mode refuses, or a mode that serves no HTTP, is an error naming it', async () => {
    await expect(startInProcess({ mode: 'vertex', model: upper, env: { AIP_HTTP_PORT: '80a' } })).rejects.toThrow(
      'AIP_HTTP_PORT="80a" is not a port number from 1 to 65535',
    );
    await expect(startInProcess({ mode: 'command_line', model: upper })).rejects.toThrow('MODE=command_line is not a mode that serves HTTP');
  });
});
