// A client of MODE=sagemaker's routes for tests: the in-process protocol tests and the process
// tests call a service the same way (inject is real HTTP over loopback, to any URL).
import type { Readable } from 'node:stream';
import type { FormData } from 'undici';
import { expect } from 'vitest';
import { inject } from './in-process-service.js';

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  type: string;
  body: any;
  bytes: Buffer;
}

export async function call(
  url: string,
  method: 'GET' | 'POST',
  body?: string | Buffer | FormData | Readable,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const response = await inject({ url, method, ...(body === undefined ? {} : { body }), headers });
  const bytes = response.body;
  const type = String(response.headers['content-type'] ?? '');
  const isJson = type.split(';')[0] === 'application/json';
  return { status: response.status, headers: response.headers, type, body: isJson && bytes.length > 0 ? JSON.parse(bytes.toString('utf8')) : undefined, bytes };
}

export const get = (url: string) => call(url, 'GET');
export const invoke = (url: string, body: string | Buffer | FormData | Readable, type: string | undefined, headers: Record<string, string> = {}) =>
  call(`${url}/invocations`, 'POST', body, type === undefined ? headers : { 'content-type': type, ...headers });
export const invokeJson = (url: string, inputs: unknown, headers: Record<string, string> = {}) =>
  invoke(url, JSON.stringify(inputs), 'application/json', headers);

/** An error answer: the status, and `{"error": message, "code"}` (with `field` when given). */
export function expectError(answer: Answer, status: number, message: string | RegExp, code?: string): void {
  expect(answer.status, answer.bytes.toString()).toBe(status);
  expect(answer.type).toMatch(/^application\/json(;|$)/);
  if (typeof message === 'string') expect(answer.body.error).toBe(message);
  else expect(answer.body.error).toMatch(message);
  if (code !== undefined) expect(answer.body.code).toBe(code);
  expect(Object.keys(answer.body).filter((key) => !['error', 'code', 'field'].includes(key))).toEqual([]);
}
