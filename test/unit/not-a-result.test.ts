// A model that returns a plain object or nothing gets the same error in every serving mode: the
// result check names the helper to use and shows the line to write (docs/reference/result.md).
import { describe, expect, test } from 'vitest';
import { startInProcess } from '../helpers/in-process-service.js';

const returning = (value: unknown) => ({ inference: (() => value) as never, schema: { text: { type: 'text' } } as const });

// Each serving mode's own request for the input text "x".
const requests: Record<string, { url: string; body: object }> = {
  http: { url: '/predict', body: { inputs: { text: 'x' } } },
  kserve: { url: '/v2/models/plain/infer', body: { inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', data: ['x'] }] } },
  cog: { url: '/predictions', body: { input: { text: 'x' } } },
  sagemaker: { url: '/invocations', body: { text: 'x' } },
  vertex: { url: '/predict', body: { instances: [{ text: 'x' }] } },
};

describe.each(Object.keys(requests))('MODE=%s', (mode) => {
  test.each([
    ['a plain object', { label: 'cat', score: 0.93 }, 'got the plain object { label, score }; to return it as JSON write `return json({ label, score })`'],
    ['undefined', undefined, 'got undefined: did the function forget to return?'],
  ])('%s: the answer says what to write', async (_name, value, expected) => {
    const service = await startInProcess({ mode, model: returning(value), options: { name: 'plain' } });
    try {
      const { url, body } = requests[mode]!;
      const answer = await service.inject({ method: 'POST', url, body });
      // Cog answers a failed prediction with 200 and status "failed"; the others with an error status.
      if (mode === 'cog') expect(answer.json()).toMatchObject({ status: 'failed' });
      else expect(answer.status, answer.text()).toBe(500);
      expect(answer.text()).toContain(expected);
    } finally {
      await service.close();
    }
  });
});
