import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { AiIntegrationError, errorTable } from '../errors.js';
import { jsonBody } from './json-bytes.js';

const requestIdPattern = /^[\w.:@/+=-]{1,200}$/;

/** The request id: the client's X-Request-Id when it is sane, otherwise a new UUID. */
export function requestIdOf(request: IncomingMessage): string {
  const given = request.headers['x-request-id'];
  return typeof given === 'string' && requestIdPattern.test(given) ? given : randomUUID();
}

/** Sends a JSON body with its status; HEAD requests get the headers only (node:http drops the body). */
export function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const json = jsonBody(body);
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': typeof json === 'string' ? Buffer.byteLength(json) : json.length, ...headers });
  response.end(json);
}

/** The error object every failure answers with: `{ error: { code, message, field? } }`. */
export function errorBody(error: unknown): { status: number; body: { error: { code: string; message: string; field?: string } } } {
  if (error instanceof AiIntegrationError) {
    const body: { code: string; message: string; field?: string } = { code: error.code, message: error.message };
    if (error.field !== undefined) body.field = error.field;
    return { status: errorTable[error.code].httpStatus, body: { error: body } };
  }
  return { status: 500, body: { error: { code: 'AI_ERR_INTERNAL', message: 'internal server error' } } };
}

export function sendError(response: ServerResponse, error: unknown, headers: Record<string, string> = {}, extra: Record<string, unknown> = {}): number {
  const { status, body } = errorBody(error);
  const retry: Record<string, string> = error instanceof AiIntegrationError && (error.code === 'AI_ERR_QUEUE_FULL' || error.code === 'AI_ERR_OVERLOADED') ? { 'retry-after': '1' } : {};
  sendJson(response, status, { ...extra, ...body }, { ...retry, ...headers });
  return status;
}

export function sendText(response: ServerResponse, status: number, type: string, body: string): void {
  response.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  response.end(body);
}
