// A client of MODE=vertex's routes for tests: the in-process protocol tests and the process tests
// call a service the same way (inject is real HTTP over loopback, to any URL).
import { expect } from 'vitest';
import { inject } from './in-process-service.js';

// Vertex AI's own routes when the Model names none: /v1/endpoints/ENDPOINT/deployedModels/DEPLOYED_MODEL[:predict].
export const vertexHealth = '/v1/endpoints/4821/deployedModels/977';
export const vertexPredict = '/v1/endpoints/4821/deployedModels/977:predict';

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
}

export async function call(url: string, method: 'GET' | 'POST' | 'HEAD', body?: string, headers: Record<string, string> = {}): Promise<Answer> {
  const response = await inject({ url, method, ...(body === undefined ? {} : { body }), headers });
  const text = response.text();
  const type = String(response.headers['content-type'] ?? '');
  return { status: response.status, headers: response.headers, body: type.startsWith('application/json') && text !== '' ? JSON.parse(text) : text };
}

export const get = (url: string) => call(url, 'GET');
export const postJson = (url: string, body: unknown) => call(url, 'POST', JSON.stringify(body), { 'content-type': 'application/json' });

/** An error answer: the status, and `{"error": message}` alone. */
export function expectError(answer: Answer, status: number, message: string | RegExp): void {
  expect(answer.status, JSON.stringify(answer.body)).toBe(status);
  expect(Object.keys(answer.body)).toEqual(['error']);
  if (typeof message === 'string') expect(answer.body.error).toBe(message);
  else expect(answer.body.error).toMatch(message);
}
