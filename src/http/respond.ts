import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { ErrorAnswer } from '../errors.js';
import { jsonBody } from '../json-bytes.js';

const requestIdPattern = /^[\w.:@/+=-]{1,200}$/;

/** The request id: the client's X-Request-Id when it is sane, otherwise a new UUID. */
export function requestIdOf(request: IncomingMessage): string {
  const given = request.headers['x-request-id'];
  return typeof given === 'string' && requestIdPattern.test(given) ? given : randomUUID();
}

/** Sends a JSON body with its status; HEAD requests get the headers only (node:http drops the body). */
export function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const json = jsonBody(body);
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': typeof json === 'string' ? Buffer.byteLength(json) : json.length,
    ...headers,
  });
  response.end(json);
}

/** The native API's error body, which Lambda's proxy answers share: `{"error": {code, message, field?}}`. */
export function nativeErrorBody({ code, message, field }: ErrorAnswer): { error: { code: string; message: string; field?: string } } {
  return { error: field === undefined ? { code, message } : { code, message, field } };
}

export function sendText(response: ServerResponse, status: number, type: string, body: string): void {
  response.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  response.end(body);
}
